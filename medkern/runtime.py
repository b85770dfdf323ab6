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


#: Loop iterations one kernel thread may run on Vulkan. Mesa's software driver (lavapipe,
#: llvmpipe) ends every loop of a shader invocation once 65535 iterations have run, all loops
#: together, silently (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS): serial kernels on Vulkan run
#: in launches of at most this many steps. Not lavapipe alone is assumed: any Vulkan.
VULKAN_LOOP_BUDGET = 60000


def serial_budget() -> int | None:
    """Loop iterations a serial kernel may run in one launch on the running arch (None:
    no limit)."""
    return VULKAN_LOOP_BUDGET if arch() == "vulkan" else None


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


# ---------------------------------------------------------------- memory limits
#: Requests below this size are not checked against the device's memory (the check
#: reads /proc/meminfo on the CPU arch; a machine short of 64 MiB is beyond help).
CHECK_FROM_BYTES = 64 << 20
_device_memory: tuple | None = None


def host_available() -> int | None:
    """``MemAvailable`` of /proc/meminfo in bytes (``None`` where there is none)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _vulkan_heap() -> tuple[str, int] | None:
    """Name and largest device-local heap of the Vulkan device, asked of the Vulkan
    loader through ctypes (Taichi 1.7 exposes neither). Taichi picks the device named
    by ``TI_VISIBLE_DEVICE``, else its own choice: without the variable the largest
    heap of any device is used, which errs towards trying (Taichi's allocation error
    is caught as well)."""
    import ctypes

    class AppInfo(ctypes.Structure):
        _fields_ = [("sType", ctypes.c_int), ("pNext", ctypes.c_void_p),
                    ("pApplicationName", ctypes.c_char_p), ("applicationVersion", ctypes.c_uint32),
                    ("pEngineName", ctypes.c_char_p), ("engineVersion", ctypes.c_uint32),
                    ("apiVersion", ctypes.c_uint32)]

    class InstanceInfo(ctypes.Structure):
        _fields_ = [("sType", ctypes.c_int), ("pNext", ctypes.c_void_p), ("flags", ctypes.c_uint32),
                    ("pApplicationInfo", ctypes.POINTER(AppInfo)),
                    ("enabledLayerCount", ctypes.c_uint32), ("ppEnabledLayerNames", ctypes.c_void_p),
                    ("enabledExtensionCount", ctypes.c_uint32),
                    ("ppEnabledExtensionNames", ctypes.c_void_p)]

    class MemoryType(ctypes.Structure):
        _fields_ = [("propertyFlags", ctypes.c_uint32), ("heapIndex", ctypes.c_uint32)]

    class MemoryHeap(ctypes.Structure):
        _fields_ = [("size", ctypes.c_uint64), ("flags", ctypes.c_uint32)]

    class MemoryProperties(ctypes.Structure):
        _fields_ = [("memoryTypeCount", ctypes.c_uint32), ("memoryTypes", MemoryType * 32),
                    ("memoryHeapCount", ctypes.c_uint32), ("memoryHeaps", MemoryHeap * 16)]

    try:
        vk = ctypes.CDLL("libvulkan.so.1")
    except OSError:
        return None
    app = AppInfo(0, None, b"medkern", 1, b"medkern", 1, 1 << 22)  # VK_API_VERSION_1_0
    info = InstanceInfo(1, None, 0, ctypes.pointer(app), 0, None, 0, None)
    inst = ctypes.c_void_p()
    if vk.vkCreateInstance(ctypes.byref(info), None, ctypes.byref(inst)) != 0:
        return None
    try:
        n = ctypes.c_uint32()
        vk.vkEnumeratePhysicalDevices(inst, ctypes.byref(n), None)
        devices = (ctypes.c_void_p * n.value)()
        vk.vkEnumeratePhysicalDevices(inst, ctypes.byref(n), devices)
        found = []
        for dev in devices:
            props = ctypes.create_string_buffer(4096)  # VkPhysicalDeviceProperties (< 1 KiB)
            vk.vkGetPhysicalDeviceProperties(ctypes.c_void_p(dev), props)
            name = props.raw[20:276].split(b"\0")[0].decode(errors="replace")  # deviceName
            mem = MemoryProperties()
            vk.vkGetPhysicalDeviceMemoryProperties(ctypes.c_void_p(dev), ctypes.byref(mem))
            local = [mem.memoryHeaps[i].size for i in range(mem.memoryHeapCount)
                     if mem.memoryHeaps[i].flags & 1]  # VK_MEMORY_HEAP_DEVICE_LOCAL_BIT
            if local:
                found.append((name, int(max(local))))
    finally:
        vk.vkDestroyInstance(inst, None)
    if not found:
        return None
    chosen = os.environ.get("TI_VISIBLE_DEVICE")
    if chosen and chosen.isdigit() and int(chosen) < len(found):
        return found[int(chosen)]
    return max(found, key=lambda f: f[1])


def _cuda_free() -> int | None:
    """Free memory of the current CUDA context (``cuMemGetInfo``), or ``None``."""
    import ctypes
    try:
        lib = ctypes.CDLL("libcuda.so.1")
        free, total = ctypes.c_size_t(), ctypes.c_size_t()
        if lib.cuMemGetInfo_v2(ctypes.byref(free), ctypes.byref(total)) != 0:
            return None  # no context current on this thread
        return int(free.value)
    except (OSError, AttributeError):
        return None


def device_memory() -> tuple[str, int | None]:
    """``(description, bytes)``: how much memory one allocation may at most take on the
    running arch -- the CPU arch: available host memory (``MemAvailable``, read each
    time); Vulkan: the device-local heap (queried once); CUDA: free device memory
    (``cuMemGetInfo``, each time). ``None`` when unknown."""
    global _device_memory
    name = arch()
    if name == "cpu":
        return "the cpu arch (available host memory", host_available()
    if name == "cuda":
        return "CUDA (free device memory", _cuda_free()
    if _device_memory is None:
        try:
            heap = _vulkan_heap()
        except Exception:  # noqa: BLE001 - a driver that misbehaves: the check is skipped
            heap = None
        _device_memory = (f"Vulkan ({heap[0]}; device memory", heap[1]) if heap else \
            ("Vulkan (device memory", None)
    return _device_memory


def format_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "bytes" else f"{int(n)} bytes"
        n /= 1024
    return f"{n:.1f} GiB"


def out_of_memory(nbytes: int, what: str, limit: int | None = None) -> MemoryError:
    """The ``MemoryError`` for an allocation of ``nbytes`` (``what``: dtype and shape)."""
    desc, known = device_memory() if limit is None else (device_memory()[0], limit)
    tail = f" {format_bytes(known)})" if known is not None else " unknown)"
    return MemoryError(f"medkern: cannot allocate {format_bytes(nbytes)} {what} on {desc}{tail}; "
                       "use smaller arrays (process a volume in slabs), float32 instead of float64, "
                       "or free device arrays you no longer need")


def check_allocation(nbytes: int, what: str) -> None:
    """Raise :func:`out_of_memory` before asking Taichi (or numpy) for more than the
    device can give: Taichi's Vulkan allocator aborts the process on some failures."""
    if nbytes < CHECK_FROM_BYTES:
        return
    limit = device_memory()[1]
    if limit is not None and nbytes > limit:
        raise out_of_memory(nbytes, what, limit)


def taichi_errors() -> tuple:
    """Taichi's compile-time exception classes (for turning a user's ``ti.func``
    that does not compile into a ``TypeError`` naming the parameter)."""
    from taichi.lang import exception as tex
    return tuple(getattr(tex, n) for n in ("TaichiCompilationError", "TaichiTypeError",
                                            "TaichiSyntaxError", "TaichiRuntimeTypeError")
                 if hasattr(tex, n))
