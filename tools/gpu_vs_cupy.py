"""medkern (CUDA, device-resident) against cupyx.scipy.ndimage on the same GPU.

Run on a GPU machine (see tools/gpu_check.sh): float32 8192^2 and 512^3, best of
``--repeat`` after a warm-up, both sides synchronised inside the timed region.
Prints a Markdown table and writes it to ``$OUT/gpu_vs_cupy.md`` when OUT is set.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import medkern
import medkern.filters as mf

CASES = [
    ("gaussian_filter", {"sigma": 2.0}),
    ("uniform_filter", {"size": 5}),
    ("median_filter", {"size": 3}),
    ("sobel", {}),
    ("maximum_filter", {"size": 3}),
    ("uniform_filter", {"size": 3}),
]


def best(fn, sync, repeat):
    fn()
    sync()
    t = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        t = min(t, time.perf_counter() - t0)
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--shapes", default="8192x8192,512x512x512")
    args = ap.parse_args()
    try:
        import cupy as cp
        import cupyx.scipy.ndimage as cnd
    except ImportError:
        cp = cnd = None
    arch = medkern.init()
    rows = [f"# medkern ({arch}) vs cupyx.scipy.ndimage, float32, best of {args.repeat}", "",
            "| op | shape | medkern ms | cupyx ms | speed-up | max abs diff |",
            "| --- | --- | --- | --- | --- | --- |"]
    for spec in args.shapes.split(","):
        shape = tuple(int(v) for v in spec.split("x"))
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        d = medkern.asarray(x)
        c = cp.asarray(x) if cp is not None else None
        for name, kw in CASES:
            ours = best(lambda: getattr(mf, name)(d, **kw), medkern.runtime.sync, args.repeat)
            ref = diff = float("nan")
            if cnd is not None:
                ref = best(lambda: getattr(cnd, name)(c, **kw),
                           cp.cuda.runtime.deviceSynchronize, args.repeat)
                a = medkern.asnumpy(getattr(mf, name)(d, **kw))
                diff = float(np.abs(a - cp.asnumpy(getattr(cnd, name)(c, **kw))).max())
            rows.append(f"| {name}{kw} | {spec} | {ours * 1e3:.2f} | {ref * 1e3:.2f} | "
                        f"{ref / ours:.2f}x | {diff:.2e} |")
            print(rows[-1], flush=True)
    text = "\n".join(rows) + "\n"
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "gpu_vs_cupy.md"), "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
