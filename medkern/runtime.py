"""Choose and initialise the Taichi backend, once per process.

Importing medkern never starts Taichi: the first kernel call does (through
:func:`ensure_init`), on the arch named by :func:`init` or by the
``MEDKERN_ARCH`` environment variable (``auto`` when neither is given).

Taichi is not thread-safe and cannot switch arch inside a process, so:

* every kernel launch goes through :data:`lock` (a re-entrant lock), which
  also serialises initialisation; start-up also materialises Taichi's root
  field tree on the thread that called ``ti.init`` (a Taichi 1.7 requirement,
  otherwise met only if the first launch came from that thread);
* :func:`init` may be called again with the same arch (a no-op) but asking for
  a different arch after start-up raises :class:`RuntimeError`.
"""
from __future__ import annotations

import contextlib
import io
import os
import threading
from typing import Any

ARCHES = ("auto", "cuda", "vulkan", "cpu")

#: Re-entrant lock held around Taichi initialisation and every kernel launch.
lock = threading.RLock()

_requested: str | None = None
_active: str | None = None
_ti: Any = None


class BackendUnavailableError(RuntimeError):
    """An explicitly requested arch cannot be started on this machine."""


def _check_arch(arch: str, name: str = "arch") -> str:
    if not isinstance(arch, str):
        raise TypeError(f"{name} must be a string, got {type(arch).__name__}")
    value = arch.strip().lower()
    if value not in ARCHES:
        raise ValueError(f"{name} must be one of {ARCHES}, got {arch!r}")
    return value


def _env_arch() -> str:
    return _check_arch(os.environ.get("MEDKERN_ARCH", "auto"), "MEDKERN_ARCH")


def init(arch: str | None = None) -> str:
    """Select (and start) the compute backend.

    Parameters
    ----------
    arch : {"auto", "cuda", "vulkan", "cpu"}, optional
        Backend to use. ``None`` reads ``MEDKERN_ARCH`` (default ``"auto"``).
        ``"auto"`` tries CUDA, then Vulkan, then the CPU (a Vulkan that is only
        Mesa's software rasteriser, lavapipe, is passed over: the CPU arch is
        faster than it). An explicitly named
        arch that is not available raises :class:`BackendUnavailableError`;
        there is no silent fallback.

    Returns
    -------
    str
        The arch actually running.

    Notes
    -----
    Idempotent: calling again with the running arch (or ``"auto"``, or
    ``None``) returns it. Asking for another arch once Taichi runs raises
    :class:`RuntimeError`: Taichi cannot switch arch within a process.
    """
    global _requested
    with lock:
        wanted = _check_arch(arch) if arch is not None else _env_arch()
        if _active is not None:
            if wanted not in ("auto", _active) and arch is not None:
                raise RuntimeError(
                    f"medkern already runs on {_active!r}; Taichi cannot switch to {wanted!r} "
                    "inside one process (start a new process)")
            return _active
        _requested = wanted
        return _start()


def _start() -> str:
    global _active, _ti
    import taichi as ti  # deferred: importing medkern must not start Taichi

    wanted = _requested or _env_arch()
    if wanted == "auto":
        # a CPU-emulated Vulkan (Mesa's lavapipe) is slower than the CPU arch itself
        candidates = ["cuda", "cpu"] if _only_software_vulkan() else ["cuda", "vulkan", "cpu"]
    else:
        candidates = [wanted]
    errors = []
    for name in candidates:
        try:
            # Taichi prints "[Taichi] Starting on arch=..." with print(); keep stdout clean.
            with contextlib.redirect_stdout(io.StringIO()):
                # fast_math off: no FMA contraction or reassociation, so float64
                # sums follow SciPy's operation order exactly.
                ti.init(arch=getattr(ti, name), fast_math=False, log_level=ti.ERROR,
                        offline_cache=os.environ.get("TI_OFFLINE_CACHE", "1") != "0",
                        enable_fallback=False,
                        default_fp=ti.f32, default_ip=ti.i32,
                        unrolling_limit=0)  # medkern unrolls taps and networks on purpose
        except Exception as exc:  # noqa: BLE001 - Taichi raises plain RuntimeError/others
            errors.append(f"{name}: {exc}")
            continue
        got = _arch_name(ti.lang.impl.current_cfg().arch)
        if got == name:
            # Taichi's LLVM backends build the (empty) root field tree on the
            # thread that called ti.init and assert that they do; a kernel
            # would do it on its first launch, maybe from another thread.
            ti.lang.impl.get_runtime().materialize()
            _active, _ti = name, ti
            return name
        errors.append(f"{name}: not available (Taichi started {got})")
        ti.reset()
    raise BackendUnavailableError(
        f"requested arch {wanted!r} is not available on this machine: " + "; ".join(errors))


def _only_software_vulkan() -> bool:
    """Whether any Vulkan here can only be Mesa's CPU rasteriser (lavapipe).

    On Linux a hardware Vulkan driver needs a GPU device node (``/dev/dri/renderD*``
    or ``/dev/nvidia*``); without one, whatever Vulkan answers runs on the CPU.
    """
    import glob
    import sys
    if not sys.platform.startswith("linux"):
        return False
    return not (glob.glob("/dev/dri/renderD*") or glob.glob("/dev/nvidia*"))


def _arch_name(arch: Any) -> str:
    name = str(arch).rsplit(".", 1)[-1].lower()
    return "cpu" if name in ("x64", "arm64", "cpu") else name


def ensure_init() -> Any:
    """Start Taichi if needed and return the ``taichi`` module."""
    if _active is None:
        with lock:
            if _active is None:
                init(None if _requested is None else _requested)
    return _ti


def arch() -> str:
    """The running arch (starting the runtime if it is not running yet)."""
    ensure_init()
    assert _active is not None
    return _active


def is_initialized() -> bool:
    """Whether Taichi has been started by medkern in this process."""
    return _active is not None


def is_cpu() -> bool:
    return arch() == "cpu"


def sync() -> None:
    """Wait for all launched kernels to finish (a no-op before start-up)."""
    if _active is not None:
        with lock:
            _ti.sync()


def info() -> dict:
    """Describe the running backend.

    Returns
    -------
    dict
        ``arch``, ``device`` (a human-readable device name), ``taichi``
        (version string) and ``medkern`` (version string). Starts the runtime.
    """
    from . import __version__
    ti = ensure_init()
    return {
        "arch": _active,
        "device": _device_name(_active),
        "taichi": ".".join(str(v) for v in ti.__version__),
        "medkern": __version__,
    }


def _device_name(name: str | None) -> str:
    if name == "cpu":
        import platform
        model = ""
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith("model name"):
                        model = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        return f"{model or platform.processor() or platform.machine()} ({os.cpu_count()} cores)"
    if name == "cuda":
        try:
            import ctypes
            lib = ctypes.CDLL("libcuda.so.1")
            buf = ctypes.create_string_buffer(256)
            dev = ctypes.c_int()
            lib.cuDeviceGet(ctypes.byref(dev), 0)
            lib.cuDeviceGetName(buf, 256, dev)
            return buf.value.decode() or "CUDA device"
        except OSError:
            return "CUDA device"
    if name == "vulkan":
        icd = os.environ.get("VK_ICD_FILENAMES") or os.environ.get("VK_DRIVER_FILES") or ""
        return "Vulkan device" + (f" ({os.path.basename(icd)})" if icd else "")
    return "unknown"


def taichi_errors() -> tuple:
    """Taichi's compile-time exception classes (for turning a user's ``ti.func``
    that does not compile into a ``TypeError`` naming the parameter)."""
    from taichi.lang import exception as tex
    return tuple(getattr(tex, n) for n in ("TaichiCompilationError", "TaichiTypeError",
                                            "TaichiSyntaxError", "TaichiRuntimeTypeError")
                 if hasattr(tex, n))
