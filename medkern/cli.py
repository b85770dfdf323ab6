"""The ``medkern`` command line.

Subcommands:

``medkern compare``
    Time every registered algorithm on the current arch against its reference
    (SciPy...), check the results agree, print a table and write
    ``compare.json``, ``compare.md`` and ``compare.png`` (see
    :mod:`medkern.compare`). The input is generated (``--size``, ``--data``)
    or a real DICOM series (``--dicom PATH [--series UID]``).

``medkern info PATH [--series UID]``
    The DICOM series in a file or directory (uid, modality, description,
    slices, shape) and, for the chosen or only series, its geometry (shape,
    spacing, orientation, origin), value range and rescale. Files that cannot
    be read and series that cannot be read as a volume are counted by reason
    in a summary at the end.

Exit codes: 0 success (every result agrees; ``info``: everything readable),
1 some result disagrees with the reference, 2 usage error (bad option, unknown
algorithm, unavailable arch, a ``MEDKERN_PLUGINS`` entry that cannot be
loaded, unreadable or non-DICOM input, a ``--size`` beyond the available
memory, an ``--out`` that is not a writable directory, memory exhausted during
the run), 3 (``info``) the series were listed but some DICOM files of PATH
could not be read, or some series not as a volume. Errors are one line on
stderr and speak the command line's options (``--series UID``, not the
library's ``series_uid=``); ``compare`` reports the files of a DICOM directory
that cannot be read on one ``warning:`` line and skips them.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import sys
import warnings
from typing import Any, Iterable, Iterator, Sequence

EXIT_OK, EXIT_DISAGREE, EXIT_USAGE = 0, 1, 2
#: ``medkern info``: the series were listed, but some files (or series) could not be read.
EXIT_PARTIAL = 3


class _Parser(argparse.ArgumentParser):
    """argparse that returns instead of exiting, so ``main()`` always returns a code."""

    def exit(self, status=0, message=None):  # noqa: A003 - argparse's name
        if message:
            self._print_message(message, sys.stderr)
        raise _Exit(status)


class _Exit(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def _size(text: str) -> tuple[int, ...]:
    from .compare import parse_size
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return n


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .compare import DATA_KINDS, DEFAULT_SIZE, NATIVE
    from .registry import DTYPES
    from .runtime import ARCHES

    parser = _Parser(prog="medkern", description="GPU-accelerated medical image processing "
                     "(Taichi kernels behind a scipy.ndimage-style API).")
    parser.add_argument("--version", action="version", version=f"medkern {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    cmp = sub.add_parser(
        "compare", help="time every algorithm against its reference and check they agree",
        description="Time every registered algorithm on the current arch against its "
        "reference (SciPy...) on a real CT volume, check the results agree, print a table "
        "and write compare.json, compare.md and compare.png. Exit code 0: all agree, "
        "1: some disagree, 2: usage error.")
    cmp.add_argument("--arch", choices=ARCHES, default=None,
                     help="compute backend (default: $MEDKERN_ARCH, else auto = cuda, "
                     "vulkan, then cpu)")
    # --size/--data default to None so an explicit one can be refused next to --dicom
    cmp.add_argument("--size", type=_size, default=None, metavar="SIZE",
                     help=f"input shape: N (N^3 volume), HxW (2-D) or DxHxW "
                     f"(default {DEFAULT_SIZE} = {DEFAULT_SIZE}^3)")
    cmp.add_argument("--dtype", choices=(*DTYPES, NATIVE), default="float32",
                     help=f"input dtype (default float32); {NATIVE}: the DICOM series' own "
                     "dtype (with --dicom)")
    cmp.add_argument("--data", choices=DATA_KINDS, default=None,
                     help="ct: pydicom's CT_small.dcm tiled to SIZE (default); "
                     "phantom: a Shepp-Logan-like phantom")
    cmp.add_argument("--dicom", metavar="PATH", default=None,
                     help="compare on a real DICOM series instead: a file or a directory "
                     "(rescaled values; a single slice is a 2-D input); not with --size/--data")
    cmp.add_argument("--series", metavar="UID", default=None,
                     help="with --dicom: the series to use when PATH holds several "
                     "(see `medkern info PATH`)")
    cmp.add_argument("--only", metavar="NAME[,NAME...]", default=None,
                     help="compare only these algorithms (see --list)")
    cmp.add_argument("--area", metavar="AREA[,AREA...]", default=None,
                     help="compare only the algorithms of these areas (filters, "
                     "measurements...; see --list)")
    cmp.add_argument("--repeat", type=_positive, default=3, metavar="N",
                     help="timed calls per implementation, best kept (default 3)")
    cmp.add_argument("--out", default="compare-out", metavar="DIR",
                     help="where to write compare.json/.md/.png (default compare-out/)")
    cmp.add_argument("--list", action="store_true",
                     help="list the registered algorithms and exit")
    cmp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    cmp.set_defaults(handler=_compare)

    info = sub.add_parser(
        "info", help="show the DICOM series in a file or directory",
        description="List the DICOM series in PATH (uid, modality, description, slices, "
        "shape) and, for the chosen or only series, its shape, spacing, orientation, "
        "origin, value range and rescale. With several series and no --series, every "
        "series is shown (with details when they are small enough to load quickly). "
        "DICOM files that cannot be read are skipped and, with the series that cannot "
        "be read as a volume, counted by reason in a summary at the end. "
        "Exit code 0: everything readable; 3: the series were listed but some files "
        "(or series) could not be read; 2: a missing, unreadable or non-DICOM PATH, an "
        "unknown --series, or the series to describe (--series UID, or the only image "
        "series) cannot be read.")
    info.add_argument("path", metavar="PATH", help="a DICOM file or a directory of them")
    info.add_argument("--series", metavar="UID", default=None, help="the series to describe")
    info.set_defaults(handler=_info)
    return parser


def _error(parser: argparse.ArgumentParser, message: str) -> int:
    # one line, like argparse's own errors
    print(f"{parser.prog}: error: {_cli_text(message)}", file=sys.stderr)
    return EXIT_USAGE


#: The library's wording -> the command line's: a CLI user has options (``--series UID``),
#: not Python parameters (``series_uid=``). Applied to every message the CLI relays.
_CLI_WORDING: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"choose one with series_uid= \(see medkern\.io\.list_series\)"),
     "choose one with --series UID (see `medkern info PATH`)"),
    (re.compile(r"no series with SeriesInstanceUID (\S+?);"), r"no series \1 (--series \1);"),
    (re.compile(r"\bseries_uid=\s*"), "--series "),
    (re.compile(r"\bsee medkern\.io\.list_series\b"), "see `medkern info PATH`"),
    (re.compile(r"[;,]?\s*read with rescale=False( for the stored values)?"),
     "; the command line reads rescaled values only (in Python, "
     "medkern.io.read_dicom(PATH, rescale=False) gives the stored values)"),
    (re.compile(r"Pass resample=True to interpolate linearly onto a uniform grid, or a "
                r"larger spacing_tolerance"),
     "The command line reads evenly spaced series only (in Python, "
     "medkern.io.read_dicom(PATH, resample=True) interpolates onto a uniform grid and "
     "spacing_tolerance= widens the tolerance)"),
)


def _cli_text(message: Any) -> str:
    """``message`` on one line, in the command line's terms (see :data:`_CLI_WORDING`)."""
    text = " ".join(str(message).split())
    for pattern, replacement in _CLI_WORDING:
        text = pattern.sub(replacement, text)
    return text


def _about_input(option: str, path: Any, exc: BaseException) -> str:
    """``--dicom PATH: why``: the library's message, without repeating PATH at its start."""
    text, where = _exc_text(exc), os.fspath(path)
    for prefix in (where, where.rstrip(os.sep)):
        if prefix and text.startswith(prefix + ": "):
            text = text[len(prefix) + 2:]
            break
    return f"{option} {where}: {text}"


@contextlib.contextmanager
def _dicom_warnings(parser: argparse.ArgumentParser) -> Iterator[None]:
    """Print the reader's DicomWarnings (skipped unreadable files) as one line each, once,
    when they happen, instead of Python's two-line warning with a source location."""
    from .io.dicom import DicomWarning

    seen: set[str] = set()
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if not issubclass(category, DicomWarning):
                return shown(message, category, filename, lineno, file, line)
            text = " ".join(str(message).split())
            if text not in seen:
                seen.add(text)
                print(f"{parser.prog}: warning: {text}", file=sys.stderr, flush=True)
            return None

        warnings.simplefilter("always", DicomWarning)
        warnings.showwarning = show
        yield


def _names(text: str, known: list[str], what: str, option: str) -> tuple[list[str], str]:
    """A comma-separated option value as a list, and the error message ("" if none): an
    empty list or a name not in ``known``."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        return names, (f"unknown {what} for {option}: {', '.join(unknown) or '(none)'}"
                       f"; known: {', '.join(known)}")
    return names, ""


def _compare(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import compare, registry, runtime

    try:  # the first registry call loads MEDKERN_PLUGINS: a bad entry is a usage error
        registry.algorithms()
    except registry.PluginError as exc:
        return _error(parser, str(exc))
    if args.list:
        algs = registry.algorithms()
        width = max(len(a.name) for a in algs)
        for a in algs:
            print(f"{a.name:<{width}}  {a.area:<12}  {a.reference_name}")
        return EXIT_OK

    only = None
    if args.only is not None:
        only, bad = _names(args.only, compare.known_names(), "algorithm(s)", "--only")
        if bad:
            return _error(parser, bad)
    if args.area is not None:
        wanted, bad = _names(args.area, registry.areas(), "area(s)", "--area")
        if bad:
            return _error(parser, bad)
        in_areas = [a.name for a in registry.algorithms() if a.area in wanted]
        only = in_areas if only is None else [n for n in only if n in in_areas]
        if not only:
            return _error(parser, f"--only and --area {args.area} leave no algorithm to compare")
    algs = compare.select(only)

    x = None
    if args.dicom is not None:
        given = [opt for opt, value in (("--size", args.size), ("--data", args.data))
                 if value is not None]
        if given:
            return _error(parser, f"--dicom cannot be combined with {' / '.join(given)} "
                                  "(the series gives the input)")
        try:  # read before starting the runtime: a bad path fails fast
            with _dicom_warnings(parser):
                loaded = _load_dicom_input(args, parser)
        except Exception as exc:  # noqa: BLE001 - any reader failure is a one-line error
            return _error(parser, _about_input("--dicom", args.dicom, exc))
        if isinstance(loaded, int):
            return loaded
        x, input_desc = loaded
        shape, data = tuple(x.shape), "dicom"
    else:
        for opt, value in (("--series", args.series),
                           ("--dtype native", args.dtype == compare.NATIVE or None)):
            if value is not None:
                return _error(parser, f"{opt} needs --dicom PATH")
        shape = tuple(args.size or _size(compare.DEFAULT_SIZE))
        data = args.data or "ct"
        input_desc = compare.describe_input(shape, args.dtype, data)
        # refuse before allocating: a size that cannot fit would die in numpy (or the OOM
        # killer) with a traceback, not as a usage error
        need, have = compare.memory_estimate(shape, args.dtype, data), compare.available_memory()
        if have is not None and need > have:
            return _error(parser, f"--size {compare.shape_str(shape)}: "
                                  f"{math.prod(shape):,} voxels of {args.dtype} need about "
                                  f"{compare.format_bytes(need)} of memory for the comparison, "
                                  f"more than the {compare.format_bytes(have)} available")

    problem = compare.check_out_dir(args.out)
    if problem is not None:
        return _error(parser, f"--out {problem}")

    try:
        runtime.init(args.arch)
        info = runtime.info()
    except (runtime.BackendUnavailableError, RuntimeError, ValueError) as exc:
        if args.arch is not None:
            return _error(parser, f"--arch {args.arch}: {exc}")
        # no --arch: the arch came from the environment; name it, not an option not given
        env = os.environ.get("MEDKERN_ARCH")
        text = str(exc)
        if env is not None and text.startswith("MEDKERN_ARCH "):
            text = text[len("MEDKERN_ARCH "):]
        where = f"MEDKERN_ARCH={env}" if env is not None else "--arch auto (the default)"
        return _error(parser, f"{where}: {text}")

    print(compare.header_line(info, input_desc), flush=True)
    progress = compare.Progress(len(algs), sys.stderr, enabled=not args.quiet)
    try:
        if x is not None:
            rows = compare.run_on(algs, x, args.repeat, progress)
        else:
            rows = compare.run_all(algs, shape, args.dtype, data, args.repeat, progress)
    except MemoryError as exc:
        progress.close()
        what = f" ({exc})" if str(exc) else ""
        dtype = args.dtype if x is None else x.dtype.name
        hint = "; try a smaller --size" if x is None else ""
        return _error(parser, f"out of memory running the comparison on "
                              f"{compare.shape_str(shape)} {dtype}{what}{hint}")
    print()
    print(compare.format_table(rows))
    print()
    print(compare.summary_line(rows))
    run_args = {"arch": args.arch, "size": list(shape),
                "dtype": args.dtype if x is None else x.dtype.name, "data": data,
                "only": only, "area": args.area, "repeat": args.repeat, "out": args.out}
    if x is not None:
        run_args.update(dicom=os.path.abspath(args.dicom), series=args.series,
                        dtype_requested=args.dtype)
    try:
        paths = compare.write_reports(rows, args.out, info, run_args, input_desc)
    except OSError as exc:
        return _error(parser, f"--out {args.out}: {exc}")
    print("wrote " + ", ".join(paths.values()))
    if "png" not in paths:
        print("(compare.png not written: matplotlib is not installed)", file=sys.stderr)
    return EXIT_OK if compare.summary(rows)["all_agree"] else EXIT_DISAGREE


def _load_dicom_input(args: argparse.Namespace,
                      parser: argparse.ArgumentParser) -> tuple[Any, str] | int:
    """(array, description) of ``--dicom``, or an exit code when it names several series."""
    from . import compare
    from .io.dicom import list_series

    if args.series is None:
        images = [s for s in list_series(args.dicom) if s.get("n_slices")]
        if len(images) > 1:
            return _error(parser, f"--dicom {args.dicom}: {len(images)} image series; "
                                  "choose one with --series UID: "
                                  + ", ".join(f"{s['uid']} ({s.get('modality') or '?'}, "
                                              f"{compare.shape_str(s['shape'] or ())})"
                                              for s in images))
    return compare.load_dicom(args.dicom, args.series, args.dtype)


# --------------------------------------------------------------------------- info
#: With several series and no --series, details are shown for each only when all
#: of them together hold at most this many voxels (cheap to load: ~64 MiB int16).
INFO_DETAIL_VOXELS = 1 << 25

_AXIS_LABELS = ("sagittal", "coronal", "axial")  # slice normal along patient x, y, z


def _exc_text(exc: BaseException) -> str:
    """One-line message; the type name when it is not a plain ValueError/OSError message."""
    text = " ".join(str(exc).split())
    if isinstance(exc, (ValueError, OSError)) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def orientation_label(direction: Any, tolerance_deg: float = 1.0) -> str:
    """``"axial"``, ``"coronal"``, ``"sagittal"`` or ``"oblique (nearest axial, 12.0 deg)"``.

    From the slice normal, the cross product of the row and column direction
    cosines (columns 2 and 1 of a :class:`~medkern.Volume`'s ``direction``, which
    follows the array's axis order): the plane is named after the patient axis the
    normal is within ``tolerance_deg`` of (x: sagittal, y: coronal, z: axial).
    """
    import numpy as np
    d = np.asarray(direction, dtype=float).reshape(3, 3)
    normal = np.cross(d[:, 2], d[:, 1])
    norm = float(np.linalg.norm(normal))
    if not np.isfinite(norm) or norm < 1e-6:
        return "unknown (degenerate direction cosines)"
    normal = np.abs(normal / norm)
    axis = int(np.argmax(normal))
    angle = float(np.degrees(np.arccos(min(normal[axis], 1.0))))
    if angle <= tolerance_deg:
        return _AXIS_LABELS[axis]
    return f"oblique (nearest {_AXIS_LABELS[axis]}, {angle:.1f} deg)"


def _g(v: float) -> str:
    return f"{float(v):.6g}"


def _vec(v: Iterable[float]) -> str:
    return "(" + ", ".join(_g(0.0 if abs(float(c)) < 5e-7 else c) for c in v) + ")"


def _series_table(series: list[dict]) -> list[str]:
    from .compare import shape_str
    head = ("uid", "modality", "slices", "shape", "description")
    cells = [head] + [(str(s.get("uid", "")), str(s.get("modality") or "-"),
                       str(s.get("n_slices", "?")), shape_str(s["shape"]) if s.get("shape") else "?",
                       str(s.get("description") or "-")) for s in series]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    return ["  " + "  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip() for c in cells]


def _stored_dtype(ds: Any) -> str | None:
    """The pixel data's dtype as stored (BitsAllocated, PixelRepresentation, float data)."""
    try:
        if "FloatPixelData" in ds:
            return "float32"
        if "DoubleFloatPixelData" in ds:
            return "float64"
        bits = int(ds.BitsAllocated)
        signed = int(getattr(ds, "PixelRepresentation", 0) or 0) == 1
        return f"{'int' if signed else 'uint'}{max(8, bits)}"
    except (AttributeError, TypeError, ValueError, KeyError):
        return None


def _rescale_values(ds: Any) -> tuple[float | None, float | None, float | None]:
    """(RescaleSlope, RescaleIntercept, DoseGridScaling) of the header, ``None`` where absent.

    Slope and intercept come from the top level, else from the shared or first
    per-frame functional group (enhanced multi-frame objects).
    """
    def num(container, keyword):
        try:
            value = container.get(keyword) if container is not None else None
            return None if value is None or value == "" else float(value)
        except (TypeError, ValueError, AttributeError):
            return None

    slope, intercept = num(ds, "RescaleSlope"), num(ds, "RescaleIntercept")
    if slope is None and intercept is None:
        for seq in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
            try:
                group = ds.get(seq)
                pvt = group[0].get("PixelValueTransformationSequence") if group else None
                item = pvt[0] if pvt else None
            except (AttributeError, IndexError, TypeError, KeyError):
                item = None
            if item is not None:
                slope, intercept = num(item, "RescaleSlope"), num(item, "RescaleIntercept")
                break
    return slope, intercept, num(ds, "DoseGridScaling")


def _rescale_text(vol: Any) -> str:
    """The header's rescale and the dtypes before/after (read_dicom(rescale=True) applies it)."""
    ds = vol.meta
    if ds is None or not hasattr(ds, "get"):
        return "unknown (no header)"
    slope, intercept, dose = _rescale_values(ds)
    parts = []
    if slope is not None or intercept is not None:
        parts.append(f"slope {_g(1.0 if slope is None else slope)}, "
                     f"intercept {_g(0.0 if intercept is None else intercept)}")
    if dose is not None:
        parts.append(f"DoseGridScaling {_g(dose)}")
    if not parts:
        return "none (no RescaleSlope/RescaleIntercept in the header)"
    if (slope in (None, 1.0)) and (intercept in (None, 0.0)) and (dose in (None, 1.0)):
        return f"none ({'; '.join(parts)}: identity)"
    stored = _stored_dtype(ds)
    return (f"{'; '.join(parts)}: applied"
            + (f" (stored {stored} -> {vol.dtype.name})" if stored else f" ({vol.dtype.name})"))


def _value_range(arr: Any) -> str:
    import numpy as np
    a = np.asarray(arr)
    if a.size == 0:
        return f"(empty) ({a.dtype.name})"
    if a.dtype.kind == "f":
        lo, hi = np.nanmin(a), np.nanmax(a)
        nans = int(np.count_nonzero(np.isnan(a)))
        extra = f", {nans} NaN" if nans else ""
        return f"{_g(lo)} .. {_g(hi)} ({a.dtype.name}{extra})"
    return f"{a.min()} .. {a.max()} ({a.dtype.name})"


def _volume_details(vol: Any, entry: dict | None) -> list[str]:
    import numpy as np
    from .compare import shape_str
    axes = ("c", "z", "y", "x")[-vol.ndim:]  # 4-D: a leading component axis
    space_axes = axes[-len(vol.spacing):]
    d = np.asarray(vol.direction, dtype=float).reshape(3, 3)
    rows = [
        ("modality", vol.modality or "-"),
        ("description", (entry or {}).get("description") or
         str(getattr(vol.meta, "get", lambda *_: "")("SeriesDescription", "") or "-")),
    ]
    if entry and entry.get("files") is not None:
        files = list(entry["files"])
        rows.append(("files", f"{len(files)}" + (f" ({os.path.basename(files[0])}"
                                                  + (", ..." if len(files) > 1 else "") + ")"
                                                  if files else "")))
    rows += [
        ("shape", f"{shape_str(vol.shape)} ({', '.join(axes)})"),
        ("spacing", f"{' x '.join(_g(s) for s in vol.spacing)} mm ({', '.join(space_axes)})"),
        ("orientation", orientation_label(d)),
        ("  axis codes", f"{vol.orientation()} (x, y, z: where columns, rows, slices point)"),
        ("  row (x)", _vec(d[:, 2])),
        ("  column (y)", _vec(d[:, 1])),
        ("  slice (z)", _vec(d[:, 0])),
        ("origin", f"{_vec(vol.origin)} mm"),
        ("values", _value_range(vol.array)),
        ("rescale", _rescale_text(vol)),
    ]
    width = max(len(k) for k, _ in rows)
    return [f"  {k:<{width}}  {v}" for k, v in rows]


def _voxels(entry: dict) -> int:
    """Voxels of a list_series entry (a 512x512-slice guess when the shape is unknown)."""
    shape = entry.get("shape")
    n_slices = int(entry.get("n_slices") or 0)
    if not shape:
        return n_slices * 512 * 512
    n = 1
    for v in shape:
        n *= int(v)
    return n * (n_slices if len(shape) < 3 and n_slices > 1 else 1)


#: How many file names (or series UIDs) the summary of ``medkern info`` names per reason;
#: the rest are counted.
INFO_SUMMARY_NAMES = 3


def _scan_dicom(path: str) -> tuple[list[dict], list[tuple[str, Any]], int, str]:
    """(series, unreadable, n_files, label) of ``path`` from one scan of the headers.

    ``series`` as :func:`medkern.io.list_series` gives them (with ``unreadable``: the files
    of the series that cannot be read); ``unreadable`` every DICOM file that could not be
    read, with the reader's :class:`~medkern.io.DicomError`; ``n_files`` the files looked
    at. It is list_series's own scan, kept whole: list_series reports the unreadable files
    in one DicomWarning that names only the first few.
    """
    from .io import dicom

    files, explicit, label = dicom._collect(path)
    with dicom._quiet_pydicom():
        scan = dicom._scan(files, explicit, label)
        series = [dicom._summary(uid, its) for uid, its in dicom._group(scan.items).items()]
        for entry in series:
            entry["unreadable"] = [f for f, _ in scan.broken_in(entry["uid"])]
    return series, [(f, err) for f, err, _ in scan.broken], len(files), label


def _reason_kind(reason: str) -> str:
    """The kind of problem a reader message describes, to count alike ones together: its
    first clause without parenthesised details, quoted values or trailing numbers
    (``invalid NumberOfFrames '1A' (expected one integer)`` -> ``invalid NumberOfFrames``)."""
    text = reason
    while True:
        shorter = re.sub(r"\s*\([^()]*\)", "", text)
        if shorter == text:
            break
        text = shorter
    text = re.sub(r"^\S+( \(frame \d+\))?: ", "", text)  # a file name in front
    text = re.split(r": |; |, | \[| \(", text, maxsplit=1)[0]
    text = re.sub(r"\s*(['\"]).*?\1", "", text)
    text = re.sub(r"(?<=\S )-?\d[\d.]*(e[-+]?\d+)?\b", "N", text)  # numbers, but a leading one
    return " ".join(text.split()) or " ".join(reason.split())


def _relative(text: str, root: str | None) -> str:
    """``text`` with the paths under the directory ``root`` written relative to it."""
    return text.replace(os.path.join(root, ""), "") if root else text


def _grouped(problems: Sequence[tuple[str, str]]) -> list[str]:
    """``(name, kind of problem)`` pairs as one line per kind, most frequent first:
    ``"  6  corrupt header   a.dcm, b.dcm, c.dcm, ... (+3)"``."""
    kinds: dict[str, list[str]] = {}
    for name, kind in problems:
        kinds.setdefault(kind, []).append(name)
    order = sorted(kinds.items(), key=lambda kv: -len(kv[1]))  # stable: first met first
    count_w = max(len(str(len(v))) for _, v in order)
    kind_w = max(len(k) for k, _ in order)
    lines = []
    for kind, names in order:
        shown = ", ".join(names[:INFO_SUMMARY_NAMES])
        more = f", ... (+{len(names) - INFO_SUMMARY_NAMES})" if len(names) > INFO_SUMMARY_NAMES else ""
        lines.append(f"  {len(names):>{count_w}}  {kind:<{kind_w}}  {shown}{more}")
    return lines


def _series_problem(exc: BaseException, uid: Any, root: str | None) -> str:
    """Why series ``uid`` cannot be read as a volume, for its place in the listing: the
    reader's message in CLI terms, paths relative to PATH, without the series' own name."""
    text = _relative(_cli_text(_exc_text(exc)), root)
    text = re.sub(r"^.*? \(and \d+ other files\): ", "", text)  # read_dicom's file-list label
    prefix = f"series {uid}: "
    return text[len(prefix):] if text.startswith(prefix) else text


#: The kind of problem of a series that owns an unreadable file, in the summary.
_BROKEN_FILE_KIND = "some of its files cannot be read"


def _info(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    path = args.path
    if not os.path.exists(path):
        return _error(parser, f"{path}: no such file or directory")
    try:
        from .io.dicom import read_dicom
    except ImportError as exc:  # medkern.io.dicom missing from this installation
        return _error(parser, f"DICOM support is not available: {exc}")
    if os.path.isfile(path):
        from .io.formats import format_of
        try:
            fmt = format_of(path)
        except Exception:  # noqa: BLE001 - not NIfTI/npz: let the DICOM reader say why
            fmt = "dicom"
        if fmt != "dicom":
            return _info_file(path, fmt, args, parser)
    with _dicom_warnings(parser):
        return _info_of(path, args, parser, read_dicom)


def _info_file(path: str, fmt: str, args: argparse.Namespace,
               parser: argparse.ArgumentParser) -> int:
    """A NIfTI or medkern .npz file: one volume, described like a DICOM series."""
    from .io import read
    if args.series is not None:
        return _error(parser, f"--series: {path} is a {fmt} file (one image), not a DICOM folder")
    try:
        vol = read(path)
    except Exception as exc:  # noqa: BLE001 - unreadable input: one line, no traceback
        return _error(parser, _cli_text(_exc_text(exc)))
    print(f"{fmt} file {path}")
    for line in _volume_details(vol, None):
        # DICOM-only rows (NIfTI's scl_slope/scl_inter are applied by the reader)
        if line.split()[0] not in ("modality", "description", "rescale"):
            print(line)
    return EXIT_OK


def _info_of(path: str, args: argparse.Namespace, parser: argparse.ArgumentParser,
             read_dicom: Any) -> int:
    from .io import dicom

    try:
        series, unreadable, n_files, label = _scan_dicom(path)
    except Exception as exc:  # noqa: BLE001 - unreadable input: one line, no traceback
        return _error(parser, _exc_text(exc))
    if not series:
        return _error(parser, f"{path}: no DICOM series found")
    uids = [str(s.get("uid")) for s in series]
    if args.series is not None and args.series not in uids:
        return _error(parser, f"--series {args.series}: no such series in {path}; found: "
                              f"{', '.join(uids)}")
    root = path if os.path.isdir(path) else None
    reasons = {f: dicom._reason(err, f) for f, err in unreadable}
    if unreadable:  # at once, like the reader's DicomWarning; counted in the summary
        print(f"{parser.prog}: warning: {_cli_text(label)}: skipped "
              f"{_cli_text(dicom._unreadable_list(label, unreadable))}",
              file=sys.stderr, flush=True)

    print(f"{len(series)} series in {path}:")
    for line in _series_table(series):
        print(line)

    images = [s for s in series if s.get("n_slices")]
    if args.series is not None:
        chosen = [series[uids.index(args.series)]]
    elif len(series) == 1 or len(images) <= 1:
        chosen = images or series
    else:
        total = sum(_voxels(s) for s in images)
        chosen = images
        if total > INFO_DETAIL_VOXELS:
            print(f"\n{len(images)} image series ({total / 1e6:.0f} M voxels): details with "
                  f"`medkern info {path} --series UID`")
            chosen = []
    # one series to describe (asked for, or the only image series): failing is an error;
    # among several, a series that cannot be read is listed and counted, the rest shown
    single = args.series is not None or len(images) <= 1

    failed: list[tuple[str, str]] = []  # (uid, kind of problem) of series that cannot be read
    for entry in chosen:
        uid = entry.get("uid")
        if not entry.get("n_slices"):
            print(f"\nseries {uid}")
            print(f"  no image: {entry.get('sop_class') or 'non-image objects'} "
                  f"({len(entry.get('files') or [])} file(s))")
            continue
        mine = entry.get("unreadable") or []
        try:
            if mine:  # read_dicom(path, series_uid=uid) refuses a series with a broken file
                more = (f" ({len(mine) - 1} more file(s) of the series cannot be read)"
                        if len(mine) > 1 else "")
                raise dicom.DicomError(f"{mine[0]}: {reasons.get(mine[0], 'cannot be read')} "
                                       f"[a file of series {uid}]{more}")
            # its own files: no second scan of the directory, and a series without a
            # SeriesInstanceUID can be read too
            vol = read_dicom(list(entry["files"]))
        except Exception as exc:  # noqa: BLE001 - reported, never a traceback
            if single:  # read_dicom's label for the file list -> PATH
                return _error(parser, re.sub(r"^.*? \(and \d+ other files\): ", f"{path}: ",
                                             _exc_text(exc)))
            if mine:
                why = (f"{len(mine)} of its files cannot be read: {_relative(mine[0], root)} "
                       f"({reasons.get(mine[0], '?')})" + (", ..." if len(mine) > 1 else ""))
            else:
                why = _series_problem(exc, uid, root)
            failed.append((str(uid), _BROKEN_FILE_KIND if mine else _reason_kind(why)))
            print(f"\nseries {uid}")
            print(f"  not readable as a volume: {why}")
            continue
        print(f"\nseries {vol.series_uid or uid}")
        for line in _volume_details(vol, entry):
            print(line)

    if unreadable or failed:
        print()
        if unreadable:
            print(f"{len(unreadable)} of {n_files} files could not be read and were skipped:")
            for line in _grouped([(_relative(f, root), _reason_kind(reasons[f]))
                                  for f, _ in unreadable]):
                print(line)
        if failed:
            print(f"{len(failed)} of {len(images)} image series could not be read as a volume:")
            for line in _grouped(failed):
                print(line)
            print(f"{parser.prog}: warning: {len(failed)} of {len(images)} image series could "
                  f"not be read as a volume: {', '.join(u for u, _ in failed[:INFO_SUMMARY_NAMES])}"
                  + (", ..." if len(failed) > INFO_SUMMARY_NAMES else ""),
                  file=sys.stderr, flush=True)
        return EXIT_PARTIAL
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``medkern`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else [str(a) for a in argv])
    except _Exit as exc:
        return exc.code
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    sub = next(action.choices[args.command] for action in parser._actions  # noqa: SLF001
               if isinstance(action, argparse._SubParsersAction))  # noqa: SLF001
    try:
        return args.handler(args, sub)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `medkern compare --list | head`
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
