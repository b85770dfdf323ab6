"""``medkern compare``: time every registered algorithm against its reference.

For each algorithm of :func:`medkern.registry.algorithms` the runner builds one
input (the real CT volume of :func:`medkern.sample_data.ct_volume`, or the
phantom), uploads it once with :func:`medkern.asarray` (so medkern's timings
are device-resident: no host<->device copies), makes one warm-up call (its time
is reported as the compile time), then times ``repeat`` calls each followed by
:func:`medkern.runtime.sync` and keeps the best. The reference (SciPy...) runs
``repeat`` times on the numpy input, best kept. The results are checked with
the registry's error measure and per-dtype tolerance.

The input can also be a real DICOM series (``medkern compare --dicom PATH``):
:func:`load_dicom` reads it with :func:`medkern.io.read_dicom` and
:func:`run_on` compares on that array.

The CLI lives in :mod:`medkern.cli`; everything here is importable::

    from medkern import compare
    rows = compare.run_all(compare.select(["gaussian_filter"]), (64, 64, 64), "float32")
    print(compare.format_table(rows))

    x, desc = compare.load_dicom("series/", dtype="float32")
    rows = compare.run_on(compare.select(["gaussian_filter"]), x)
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import json
import math
import os
import platform
import re
import sys
import time
from typing import Any, Callable, Iterable, Sequence, TextIO

import numpy as np

DATA_KINDS = ("ct", "phantom")
DEFAULT_SIZE = "128"
COLUMNS = ("algorithm", "shape", "dtype", "medkern ms", "reference ms", "speed-up",
           "max error", "agrees", "compile s")


# --------------------------------------------------------------------------- inputs
def parse_size(text: str) -> tuple[int, ...]:
    """``"256"`` -> ``(256, 256, 256)``; ``"512x512"`` -> 2-D; ``"128x256x256"`` -> 3-D.

    Raises
    ------
    ValueError
        Not 1 to 3 positive integers separated by ``x`` (or ``,``).
    """
    parts = [p for p in re.split(r"[x,×*]", str(text).strip().lower()) if p.strip()]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if not 1 <= len(dims) <= 3 or any(d < 1 for d in dims):
        raise ValueError(f"size must be N (an N^3 volume), HxW or DxHxW with positive "
                         f"integers, got {text!r}")
    return dims * 3 if len(dims) == 1 else dims


def shape_str(shape: Sequence[int]) -> str:
    return "x".join(str(int(s)) for s in shape)


def memory_estimate(shape: Sequence[int], dtype: Any, data: str = "ct") -> int:
    """Rough peak host memory of a comparison on a generated input.

    Building the input takes float64 temporaries (the CT tiles are stacked in float64; the
    phantom holds a float64 grid per axis plus its image); the run then holds the input, its
    device copy and the two results. A lower estimate, not a promise: it is meant to refuse
    sizes that cannot fit before anything is allocated, not to refuse borderline ones.

    Parameters
    ----------
    shape : sequence of int
        Input shape (``--size``).
    dtype : dtype-like
        Input dtype (``--dtype``).
    data : {"ct", "phantom"}
        Input kind (``--data``).

    Returns
    -------
    int
        Bytes.
    """
    voxels = math.prod(int(s) for s in shape)
    build = 8 * (len(shape) + 2) if data == "phantom" else 16
    return voxels * (build + 3 * np.dtype(dtype).itemsize)


def available_memory() -> int | None:
    """Memory available to new allocations.

    Returns
    -------
    int or None
        Bytes: Linux's ``MemAvailable``, else the physical memory; ``None`` when the system
        does not say.
    """
    from .runtime import host_available  # no Taichi: reads /proc/meminfo
    available = host_available()
    if available is not None:
        return available
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def format_bytes(n: float) -> str:
    """``"1.5 GiB"``: ``n`` bytes in the largest binary unit below it."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def check_out_dir(out: str) -> str | None:
    """Why the report directory cannot be written, checked before a run.

    Nothing is created: an existing directory gets a probe file (removed at once); a
    missing one needs its nearest existing parent to be a writable directory.

    Parameters
    ----------
    out : str
        The ``--out`` directory.

    Returns
    -------
    str or None
        A message starting with ``out``, or ``None`` when it can be written.
    """
    import tempfile

    path = os.path.abspath(out)
    if os.path.exists(path):
        if not os.path.isdir(path):
            return f"{out}: exists and is not a directory"
        try:
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            return f"{out}: cannot write in this directory ({exc.strerror or exc})"
        return None
    parent = os.path.dirname(path)
    while not os.path.exists(parent) and os.path.dirname(parent) != parent:
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        return f"{out}: cannot create it: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{out}: cannot create it: {parent} is not writable"
    return None


def make_input(shape: tuple[int, ...], dtype: Any, data: str = "ct") -> np.ndarray:
    """The comparison input: the tiled CT volume (default) or the phantom."""
    from . import sample_data
    if data == "ct":
        return sample_data.ct_volume(shape, dtype)
    if data == "phantom":
        return sample_data.phantom(shape, dtype)
    raise ValueError(f"data must be one of {DATA_KINDS}, got {data!r}")


def describe_input(shape: tuple[int, ...], dtype: Any, data: str) -> str:
    what = ("pydicom CT_small.dcm (HU) tiled/stacked" if data == "ct"
            else "Shepp-Logan-like phantom")
    return f"{what}, {shape_str(shape)} {np.dtype(dtype).name} ({len(shape)}-D)"


#: ``--dtype`` value meaning "the series' own dtype" (DICOM input only).
NATIVE = "native"


def _g(v: float) -> str:
    return f"{float(v):g}"


def load_dicom(path: str, series_uid: str | None = None,
               dtype: Any = "float32") -> tuple[np.ndarray, str]:
    """A DICOM series (file or directory) as the comparison input, and its description.

    Reads ``path`` with :func:`medkern.io.read_dicom` (rescale applied), drops
    the slice axis of a single-slice series (a 2-D input), and converts to
    ``dtype`` (``"native"``: keep the dtype read_dicom returned).

    Raises
    ------
    ValueError
        Unreadable or non-DICOM input, several series and no ``series_uid``
        (``medkern.io.dicom.DicomError`` is a ``ValueError``), or pixel data
        that is not a 2-D or 3-D grey image (colour, ...).
    """
    from .io.dicom import read_dicom

    vol = read_dicom(path, series_uid)
    x = np.asarray(vol.array)
    spacing: tuple[float, ...] = tuple(vol.spacing) if vol.spacing is not None else ()
    if x.ndim == 3 and x.shape[0] == 1:  # one slice: a 2-D image
        x, spacing = x[0], spacing[1:]
    samples = int(getattr(vol.meta, "SamplesPerPixel", 1) or 1) if vol.meta is not None else 1
    if x.ndim not in (2, 3) or samples != 1:
        raise ValueError(f"{os.fspath(path)}: compare needs a 2-D or 3-D grey image, got "
                         f"pixel data of shape {shape_str(x.shape)}"
                         + (f" with {samples} samples per pixel" if samples != 1 else ""))
    if not x.dtype.isnative:  # big-endian transfer syntax: compute on native byte order
        x = x.astype(x.dtype.newbyteorder("="))
    native = x.dtype
    if str(dtype) != NATIVE:
        x = x.astype(dtype, copy=False)
    x = np.ascontiguousarray(x)
    return x, describe_dicom_input(path, vol, x, spacing, native)


def describe_dicom_input(path: str, vol: Any, x: np.ndarray, spacing: Sequence[float],
                         native: Any) -> str:
    """``DICOM CT series 1.2.3 (dir/), 3x16x16 float32 (3-D, read as int16), spacing ... mm``."""
    name = os.fspath(path)
    name = (os.path.basename(name.rstrip(os.sep)) or name) + (os.sep if os.path.isdir(name) else "")
    modality = vol.modality or "?"
    read_as = "" if np.dtype(native) == x.dtype else f", read as {np.dtype(native).name}"
    return (f"DICOM {modality} series {vol.series_uid or '?'} ({name}), {shape_str(x.shape)} "
            f"{x.dtype.name} ({x.ndim}-D{read_as}), spacing {' x '.join(_g(s) for s in spacing)} mm")


def select(only: Iterable[str] | None = None) -> list:
    """Registered algorithms (all, or those named). Unknown names: ``ValueError``."""
    from . import registry
    return registry.algorithms(None if only is None else list(only))


def known_names() -> list[str]:
    from . import registry
    return [a.name for a in registry.algorithms()]


# --------------------------------------------------------------------------- results
@dataclasses.dataclass
class Row:
    """One algorithm's comparison result (times in seconds)."""

    name: str
    area: str
    reference_name: str
    shape: tuple
    dtype: str
    kwargs: dict
    medkern_s: float | None = None
    reference_s: float | None = None
    compile_s: float | None = None
    max_error: float | None = None
    tolerance: float | None = None
    agrees: bool | None = None
    medkern_times_s: list = dataclasses.field(default_factory=list)
    reference_times_s: list = dataclasses.field(default_factory=list)
    note: str = ""

    @property
    def skipped(self) -> bool:
        return self.agrees is None

    @property
    def speedup(self) -> float | None:
        if self.medkern_s and self.reference_s is not None and self.medkern_s > 0:
            return self.reference_s / self.medkern_s
        return None

    def as_dict(self) -> dict:
        d = {
            "algorithm": self.name, "area": self.area, "reference": self.reference_name,
            "shape": list(self.shape), "dtype": self.dtype, "kwargs": self.kwargs,
            "medkern_ms": _ms(self.medkern_s), "reference_ms": _ms(self.reference_s),
            "speedup": _finite(self.speedup), "compile_s": _finite(self.compile_s),
            "max_error": _finite(self.max_error), "tolerance": self.tolerance,
            "agrees": self.agrees, "skipped": self.skipped,
            "medkern_times_ms": [_ms(t) for t in self.medkern_times_s],
            "reference_times_ms": [_ms(t) for t in self.reference_times_s],
            "note": self.note,
        }
        return d


def _finite(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1e3, 6)


def describe_kwargs(kwargs: dict) -> dict:
    """JSON-friendly kwargs (arrays become a short description)."""
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if isinstance(value, np.ndarray):
            out[key] = f"array{tuple(value.shape)} {value.dtype.name}"
        elif isinstance(value, (tuple, list)):
            out[key] = [v.item() if isinstance(v, np.generic) else v for v in value]
        elif isinstance(value, np.generic):
            out[key] = value.item()
        elif callable(value):
            out[key] = getattr(value, "__qualname__", None) or repr(value)
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------- progress
class Progress:
    """A minimal progress bar on a stream (stderr).

    On a terminal it redraws one line (``\\r``); otherwise (a pipe, a log
    file, CI) it prints one plain line per step, so logs stay readable.
    """

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True,
                 width: int = 28):
        self.total = max(int(total), 1)
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.width = width
        self.done = 0
        self.t0 = time.perf_counter()
        try:
            self.tty = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.tty = False
        self._last_len = 0

    def update(self, label: str, stage: str = "") -> None:
        """Show the current step (``label``) without advancing."""
        if not self.enabled:
            return
        if self.tty:
            frac = self.done / self.total
            fill = int(round(frac * self.width))
            bar = "#" * fill + "-" * (self.width - fill)
            text = (f"[{bar}] {self.done}/{self.total} {time.perf_counter() - self.t0:5.0f}s "
                    f"{label}" + (f" ({stage})" if stage else ""))
            try:
                cols = os.get_terminal_size(self.stream.fileno()).columns
            except (OSError, AttributeError, ValueError):
                cols = 100
            text = text[: max(cols - 1, 20)]
            pad = " " * max(self._last_len - len(text), 0)
            self._write("\r" + text + pad)
            self._last_len = len(text)
        elif not stage:
            width = len(str(self.total))
            self._write(f"[{self.done + 1:>{width}}/{self.total}] {label}\n")

    def advance(self) -> None:
        self.done = min(self.done + 1, self.total)

    def close(self) -> None:
        if self.enabled and self.tty:
            self._write("\r" + " " * self._last_len + "\r")
            self._last_len = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # closed or broken stream: progress is optional
            self.enabled = False


# --------------------------------------------------------------------------- timing
def _best_of(fn: Callable[[], Any], repeat: int) -> tuple[Any, list[float]]:
    times, result = [], None
    for _ in range(max(int(repeat), 1)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, times


def compare_one(alg: Any, x: np.ndarray, dx: Any, repeat: int = 3,
                on_stage: Callable[[str], None] | None = None) -> Row:
    """Time ``alg`` on ``x`` (numpy, for the reference) / ``dx`` (device copy, for medkern)."""
    import medkern
    from . import runtime

    stage = on_stage or (lambda s: None)
    row = Row(name=alg.name, area=alg.area, reference_name=alg.reference_name,
              shape=tuple(x.shape), dtype=x.dtype.name, kwargs={})
    data_dtype = x.dtype  # the tolerance is the data's (a prepared mask has none)
    if alg.prepare is not None:  # e.g. label's foreground mask: uploaded once, as the image
        x = alg.bench_input(x)
        dx = medkern.asarray(x) if dx is not None else None
    if x.dtype.name not in alg.dtypes:
        row.note = f"skipped: {x.dtype.name} is not among its dtypes ({', '.join(alg.dtypes)})"
        return row
    kwargs = alg.arguments(alg.bench_kwargs, x.shape, seed=0)  # + generated label images...
    if kwargs is None:
        row.note = f"skipped: no {x.ndim}-D benchmark case"
        return row
    row.kwargs = describe_kwargs(kwargs)
    row.tolerance = alg.tol(data_dtype)
    # generated arrays of the image's shape go to the device once, like the image
    dkwargs = {k: medkern.asarray(v) if isinstance(v, np.ndarray) and v.shape == x.shape
               and dx is not None else v for k, v in kwargs.items()}

    def ours():
        out = alg.func(dx, **dkwargs)
        runtime.sync()
        return out

    try:
        stage("compile")
        t0 = time.perf_counter()
        ours()
        row.compile_s = time.perf_counter() - t0
        stage("medkern")
        out, row.medkern_times_s = _best_of(ours, repeat)
        row.medkern_s = min(row.medkern_times_s)
        out = medkern.asnumpy(out) if isinstance(out, medkern.DeviceArray) else out
    except MemoryError:
        raise  # not a disagreement: the run as a whole cannot go on (the CLI exits 2)
    except Exception as exc:  # noqa: BLE001 - one failing algorithm must not stop the table
        row.agrees = False
        row.note = f"medkern failed: {type(exc).__name__}: {exc}".splitlines()[0]
        return row
    stage("reference")
    ref, row.reference_times_s = _best_of(lambda: alg.reference(x, **kwargs), repeat)
    row.reference_s = min(row.reference_times_s)
    stage("check")
    row.max_error = alg.error(out, ref)
    row.agrees = bool(alg.agrees(out, ref, data_dtype))
    if not row.agrees:
        # (a structured result -- tuples, object arrays -- is compare_result's to judge)
        ours_dt = np.asarray(out).dtype if alg.compare_result is None else None
        ref_dt = np.asarray(ref).dtype if alg.compare_result is None else None
        if alg.compare_result is None and ours_dt != ref_dt:
            row.note = f"dtype {ours_dt} != reference {ref_dt}"
        elif not math.isfinite(row.max_error):
            row.note = "shape or NaN mismatch"
    return row


def run_all(algs: Sequence[Any], shape: tuple[int, ...], dtype: Any = "float32",
            data: str = "ct", repeat: int = 3, progress: Progress | None = None) -> list[Row]:
    """Compare every algorithm in ``algs`` on one generated input; one :class:`Row` each."""
    return run_on(algs, make_input(tuple(shape), dtype, data), repeat, progress)


def run_on(algs: Sequence[Any], x: np.ndarray, repeat: int = 3,
           progress: Progress | None = None) -> list[Row]:
    """Compare every algorithm in ``algs`` on the array ``x`` (e.g. from :func:`load_dicom`).

    Algorithms without a case for ``x.ndim`` or without ``x.dtype`` are skipped
    (a row with a note).
    """
    import medkern

    x = np.asarray(x)
    dx = medkern.asarray(x)
    rows = []
    for alg in algs:
        if progress is not None:
            progress.update(alg.name)
            row = compare_one(alg, x, dx, repeat, functools.partial(progress.update, alg.name))
            progress.advance()
        else:
            row = compare_one(alg, x, dx, repeat)
        rows.append(row)
    if progress is not None:
        progress.close()
    return rows


# --------------------------------------------------------------------------- reports
def _fmt_ms(s: float | None) -> str:
    if s is None:
        return "-"
    ms = s * 1e3
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def _fmt_err(e: float | None) -> str:
    if e is None:
        return "-"
    if not math.isfinite(e):
        return "inf"
    return "0" if e == 0 else f"{e:.1e}"


def _fmt_speedup(sp: float | None) -> str:
    if sp is None:
        return "-"
    if sp >= 100:
        return f"{sp:.0f}x"
    if sp >= 10:
        return f"{sp:.1f}x"
    return f"{sp:.2f}x" if sp >= 0.1 else f"{sp:.2g}x"


def table_cells(row: Row) -> list[str]:
    sp = row.speedup
    agrees = "-" if row.agrees is None else ("yes" if row.agrees else "NO")
    return [row.name, shape_str(row.shape), row.dtype, _fmt_ms(row.medkern_s),
            _fmt_ms(row.reference_s), _fmt_speedup(sp),
            _fmt_err(row.max_error), agrees,
            "-" if row.compile_s is None else f"{row.compile_s:.2f}"]


def format_table(rows: Sequence[Row]) -> str:
    """Plain-text table (with notes under it for skipped or failed rows)."""
    cells = [list(COLUMNS)] + [table_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    left = {0, 1, 2}

    def line(c):
        return "  ".join(v.ljust(w) if i in left else v.rjust(w)
                         for i, (v, w) in enumerate(zip(c, widths))).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(c) for c in cells[1:]]
    notes = [f"  {r.name}: {r.note}" for r in rows if r.note]
    if notes:
        out += ["", "notes:"] + notes
    return "\n".join(out)


def summary(rows: Sequence[Row]) -> dict:
    ran = [r for r in rows if not r.skipped]
    speedups = [r.speedup for r in ran if r.speedup]
    return {
        "compared": len(ran),
        "skipped": len(rows) - len(ran),
        "agree": sum(1 for r in ran if r.agrees),
        "disagree": sum(1 for r in ran if r.agrees is False),
        "geomean_speedup": (float(np.exp(np.mean(np.log(speedups)))) if speedups else None),
        "all_agree": all(r.agrees for r in ran),
    }


def summary_line(rows: Sequence[Row]) -> str:
    s = summary(rows)
    geo = _fmt_speedup(s["geomean_speedup"])
    return (f"{s['agree']}/{s['compared']} agree with the reference"
            + (f", {s['disagree']} DISAGREE" if s["disagree"] else "")
            + (f", {s['skipped']} skipped" if s["skipped"] else "")
            + f"; geometric-mean speed-up {geo}")


def machine_info(info: dict) -> dict:
    import scipy
    return {
        **info,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def header_line(info: dict, input_desc: str) -> str:
    return (f"medkern {info.get('medkern', '?')} on {info.get('arch')} "
            f"({info.get('device')}), taichi {info.get('taichi')}; input: {input_desc}")


def to_json(rows: Sequence[Row], info: dict, args: dict, input_desc: str) -> dict:
    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "arch": info.get("arch"),
        "machine": machine_info(info),
        "args": args,
        "input": input_desc,
        "timing": ("medkern: device-resident input, best of repeat calls each followed by "
                   "runtime.sync(), after one warm-up call (compile_s); reference: best of "
                   "repeat calls on the numpy input"),
        "summary": summary(rows),
        "rows": [r.as_dict() for r in rows],
    }


def to_markdown(rows: Sequence[Row], info: dict, input_desc: str, args: dict) -> str:
    head = "| " + " | ".join(COLUMNS) + " |"
    align = "|" + "|".join(":--" if i < 3 else ":-:" if i == 7 else "--:"
                           for i in range(len(COLUMNS))) + "|"
    lines = [
        "# medkern compare", "",
        f"- **arch**: {info.get('arch')} ({info.get('device')})",
        f"- **taichi**: {info.get('taichi')}, **medkern**: {info.get('medkern')}",
        f"- **input**: {input_desc}",
        f"- **repeat**: {args.get('repeat')} (best time kept; medkern input device-resident,"
        " synchronised after each call; compile s = first call)",
        f"- **result**: {summary_line(rows)}", "",
        head, align,
    ]
    for r in rows:
        cells = table_cells(r)
        if r.agrees is False:
            cells[7] = "**NO**"
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    notes = [f"- `{r.name}`: {r.note}" for r in rows if r.note]
    if notes:
        lines += ["", "Notes:", ""] + notes
    lines += ["", "References: " + ", ".join(sorted({f"`{r.reference_name}`" for r in rows})), ""]
    return "\n".join(lines)


#: Bar colour per result category of the speed-up chart (legend order).
BAR_COLOURS = {"agrees": "#2e8b57", "disagrees": "#d62728", "not checked": "#8c8c8c"}


def _bar_kind(row: Row) -> str:
    """The chart category of a row: ``agrees``, ``disagrees`` or ``not checked``."""
    if row.agrees is None:
        return "not checked"
    return "agrees" if row.agrees else "disagrees"


def plot_speedups(rows: Sequence[Row], path: str, title: str = "") -> bool:
    """Horizontal bar chart of the speed-ups (log x axis, line at 1x).

    Green bars agree with the reference, red ones do not, grey ones were timed
    but not checked; the legend names only the categories that occur. Returns
    ``False`` (and writes nothing) when matplotlib is not installed.
    """
    try:
        import matplotlib
        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    plotted = [r for r in rows if r.speedup]
    fig, ax = plt.subplots(figsize=(9, 0.3 * max(len(plotted), 1) + 1.8))
    try:
        names = [r.name for r in plotted]
        values = [float(r.speedup or 0.0) for r in plotted]  # plotted rows have one
        kinds = [_bar_kind(r) for r in plotted]
        colours = [BAR_COLOURS[k] for k in kinds]
        ypos = np.arange(len(plotted))
        # bars grow from the 1x line: right = faster than the reference, left = slower
        ax.barh(ypos, [v - 1.0 for v in values], left=1.0, color=colours, height=0.7)
        ax.set_yticks(ypos, names, fontsize=8)
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", linewidth=1)
        ax.set_xlabel("speed-up vs reference (reference time / medkern time, log scale)")
        if values:
            lo, hi = min(values + [1.0]), max(values + [1.0])
            ax.set_xlim(lo / 5.0, hi * 4.0)  # room for the value labels
        ax.set_ylim(max(len(plotted), 1) - 0.5, -0.5)  # an empty chart too: a non-empty range
        from matplotlib.ticker import FuncFormatter
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.grid(axis="x", which="major", alpha=0.3)
        for y, v in zip(ypos.tolist(), values):
            ax.text(v, y, f" {_fmt_speedup(v)} ", va="center", ha="left" if v >= 1 else "right", fontsize=7)
        present = [k for k in BAR_COLOURS if k in kinds]  # only what the chart shows
        if present:
            from matplotlib.patches import Patch
            ax.legend(handles=[Patch(color=BAR_COLOURS[k], label=k) for k in present],
                      loc="lower left", bbox_to_anchor=(1.0, 0.0), fontsize=8, frameon=False)
        if title:
            ax.set_title(title, fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
    return True


def write_reports(rows: Sequence[Row], out_dir: str, info: dict, args: dict,
                  input_desc: str) -> dict:
    """Write ``compare.json``, ``compare.md`` and ``compare.png``; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {k: os.path.join(out_dir, f"compare.{k}") for k in ("json", "md", "png")}
    with open(paths["json"], "w", encoding="utf-8") as fh:
        json.dump(to_json(rows, info, args, input_desc), fh, indent=2, allow_nan=False,
                  default=str)
        fh.write("\n")
    with open(paths["md"], "w", encoding="utf-8") as fh:
        fh.write(to_markdown(rows, info, input_desc, args))
    title = f"medkern on {info.get('arch')} ({info.get('device')})\n{input_desc}"
    if not plot_speedups(rows, paths["png"], title):
        del paths["png"]
    return paths
