#!/usr/bin/env python
"""Time and memory of ``medkern.io.read_dicom`` vs a plain pydicom loop.

Synthesises a CT series (default 512 files of 512x512 int16, built from
pydicom's CT_small.dcm; see ``bench/bench_dicom.py``), then

* times, in this process with the files in the page cache, ``--repeat``
  calls (best and median) of: the plain loop (read each file, sort by position,
  ``np.stack`` the ``pixel_array``\\ s), ``read_dicom(dir, rescale=False)``
  (same work) and ``read_dicom(dir)`` (rescale applied), alternating them;
* checks ``read_dicom(dir, rescale=False).array`` equals the loop's array;
* measures the peak memory of one call of each in a fresh subprocess: extra
  resident memory (peak ``VmHWM`` minus the resident size before the call) and,
  in another subprocess, the ``tracemalloc`` peak (numpy buffers included);
  both also as a multiple of the int16 volume's size;
* with ``--profile``, runs ``read_dicom`` under cProfile and prints where the
  time goes (file:line(function)), by own time and by cumulative time.

Goal (issue): read_dicom <= 1.2x the loop's time, peak memory no more than one
extra copy of the volume (<= 2.0x its size). Exit status 0 when met, 1 if not.

    python tools/bench_dicom.py                    # 512 slices
    python tools/bench_dicom.py --slices 64 --profile
    python tools/bench_dicom.py --dir /tmp/series --keep   # reuse the files next time
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from bench.bench_dicom import (pydicom_loop, series_files, synthesise_series,  # noqa: E402
                               warm_page_cache)

TIME_GOAL, MEMORY_GOAL = 1.2, 2.0
VARIANTS = ("pydicom_loop", "read_dicom", "read_dicom_rescaled")
MiB = 1 << 20


def _call(variant: str, directory: str, files: list[str]):
    if variant == "pydicom_loop":
        return pydicom_loop(files)
    from medkern.io.dicom import read_dicom
    return read_dicom(directory, rescale=variant == "read_dicom_rescaled").array


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> bool:
    """Reset VmHWM (the peak resident size) to the current size, where Linux allows it."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _child(variant: str, directory: str, trace: bool) -> None:
    """One call in a fresh process; prints a JSON line with its memory use."""
    import pydicom
    import medkern.io.dicom
    files = series_files(directory)
    pydicom.dcmread(files[0]).pixel_array  # lazy imports (pixel handlers) outside the measure
    medkern.io.dicom.read_dicom  # noqa: B018
    gc.collect()
    if trace:
        import tracemalloc
        tracemalloc.start()
        out = _call(variant, directory, files)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(json.dumps({"tracemalloc_peak": peak, "nbytes": int(out.nbytes),
                          "dtype": out.dtype.name}))
        return
    # VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's at fork
    _reset_peak_rss()
    before = _status_kib("VmRSS") * 1024
    out = _call(variant, directory, files)
    peak = _status_kib("VmHWM") * 1024
    print(json.dumps({"rss_extra": peak - before, "nbytes": int(out.nbytes),
                      "dtype": out.dtype.name}))


def _memory(variant: str, directory: str, trace: bool) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", variant, "--dir", directory]
    if trace:
        cmd.append("--trace")
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise RuntimeError(f"{variant} child failed:\n{res.stderr.strip()}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _profile(directory: str, rescale: bool, top: int) -> None:
    import cProfile
    import pstats
    from medkern.io.dicom import read_dicom
    prof = cProfile.Profile()
    prof.enable()
    read_dicom(directory, rescale=rescale)
    prof.disable()
    for key in ("tottime", "cumulative"):
        print(f"\n--- cProfile of read_dicom(dir, rescale={rescale}), top {top} by {key} ---")
        stats = pstats.Stats(prof, stream=sys.stdout)
        stats.sort_stats(key).print_stats(top)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--slices", type=int, default=512)
    ap.add_argument("--size", type=int, default=512, help="rows = columns (default 512)")
    ap.add_argument("--repeat", type=int, default=5, help="timed calls of each (best and median)")
    ap.add_argument("--dir", default=None, help="series directory (default: a temp dir); "
                    "reused if it already holds --slices files")
    ap.add_argument("--keep", action="store_true", help="keep the synthesised files")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    ap.add_argument("--profile", action="store_true", help="cProfile read_dicom")
    ap.add_argument("--top", type=int, default=25, help="profile rows to print")
    ap.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    ap.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        _child(args.child, args.dir, args.trace)
        return 0

    directory = args.dir or tempfile.mkdtemp(prefix="medkern-dicom-bench-")
    made_temp = args.dir is None
    try:
        files = series_files(directory) if os.path.isdir(directory) else []
        if len(files) != args.slices:
            t0 = time.perf_counter()
            shutil.rmtree(directory, ignore_errors=True)
            synthesise_series(directory, args.slices, args.size)
            files = series_files(directory)
            print(f"synthesised {len(files)} files in {directory} "
                  f"({time.perf_counter() - t0:.1f} s)")
        warm_page_cache(files)
        from medkern.io.dicom import read_dicom

        # correctness first (also warms imports and caches)
        ref = pydicom_loop(files)
        vol = read_dicom(directory, rescale=False)
        same = vol.array.shape == ref.shape and np.array_equal(vol.array, ref)
        vol_bytes = ref.nbytes
        print(f"series: {len(files)} files, {'x'.join(map(str, ref.shape))} {ref.dtype} "
              f"({vol_bytes / MiB:.0f} MiB); read_dicom(rescale=False) == loop: {same} "
              f"(read_dicom dtype {vol.dtype}, spacing {vol.spacing})")
        del vol, ref
        gc.collect()

        times = {v: [] for v in VARIANTS}
        for _ in range(max(args.repeat, 1)):
            for v in VARIANTS:
                gc.collect()
                t0 = time.perf_counter()
                out = _call(v, directory, files)
                times[v].append(time.perf_counter() - t0)
                del out
        best = {v: min(t) for v, t in times.items()}
        med = {v: float(np.median(t)) for v, t in times.items()}
        base = best["pydicom_loop"]
        print(f"\ntime (best and median of {args.repeat}, alternating, {os.cpu_count()} CPUs, "
              "files in page cache):")
        for v in VARIANTS:
            print(f"  {v:<22} best {best[v]:6.3f} s {best[v] / base:5.2f}x loop   median "
                  f"{med[v]:6.3f} s {med[v] / med['pydicom_loop']:5.2f}x   "
                  f"(all: {', '.join(f'{t:.3f}' for t in times[v])})")

        mem = {}
        if not args.no_memory:
            print("\npeak memory of one call (fresh subprocess each):")
            for v in VARIANTS:
                m = _memory(v, directory, trace=False)
                m.update(_memory(v, directory, trace=True))
                mem[v] = m
                print(f"  {v:<22} rss +{m['rss_extra'] / MiB:7.1f} MiB "
                      f"({m['rss_extra'] / vol_bytes:4.2f}x volume)   tracemalloc peak "
                      f"{m['tracemalloc_peak'] / MiB:7.1f} MiB "
                      f"({m['tracemalloc_peak'] / vol_bytes:4.2f}x)   result {m['dtype']} "
                      f"{m['nbytes'] / MiB:.0f} MiB")

        ratio = best["read_dicom"] / base
        ok = same and ratio <= TIME_GOAL
        verdict = [f"time ratio read_dicom/loop = {ratio:.2f} (goal <= {TIME_GOAL})"]
        if mem:
            peak = mem["read_dicom"]["tracemalloc_peak"] / vol_bytes
            ok = ok and peak <= MEMORY_GOAL
            verdict.append(f"peak memory {peak:.2f}x volume (goal <= {MEMORY_GOAL}, loop "
                           f"{mem['pydicom_loop']['tracemalloc_peak'] / vol_bytes:.2f}x)")
        print("\n" + "; ".join(verdict) + (" -- OK" if ok else " -- NOT MET"))

        if args.profile:
            _profile(directory, False, args.top)
            _profile(directory, True, args.top)
        return 0 if ok else 1
    finally:
        if made_temp and not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
