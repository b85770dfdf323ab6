"""medkern.interpolation vs scipy.ndimage on this machine (issue 8, item 4c numbers).

Best of --repeat, same run; medkern's input resident where the kernels run (a DeviceArray,
device-synchronised), SciPy on numpy. Cases: affine_transform (a small rotation) of a
128^3 float32 volume, order 1 and 3; zoom x1.5 order 1 and 3; map_coordinates order 1 and 3
at 128^3 points; shift order 3.

    MEDKERN_ARCH=cpu    .venv/bin/python tools/interp_bench.py
    MEDKERN_ARCH=vulkan .venv/bin/python tools/interp_bench.py --n 64 --only affine_transform-1
"""
import argparse
import time

import numpy as np
import scipy.ndimage as ndi

import medkern
import medkern.interpolation as mi
from medkern import runtime


def best(f, repeat):
    f()  # compile / warm
    runtime.sync()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        runtime.sync()
        ts.append(time.perf_counter() - t)
    return min(ts) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    n = args.n
    x = np.random.default_rng(0).random((n, n, n)).astype(np.float32)
    d = medkern.asarray(x)
    a = np.deg2rad(10.0)
    m = np.array([[1.0, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    off = (np.array(x.shape) - 1) / 2 - m @ ((np.array(x.shape) - 1) / 2)
    g = np.indices(x.shape, dtype=np.float64)
    coords = g + 0.3 * np.sin(g / 7.0)
    cases = []
    for order in (1, 3):
        cases += [
            (f"affine_transform-{order}", lambda o=order: mi.affine_transform(d, m, off, order=o),
             lambda o=order: ndi.affine_transform(x, m, off, order=o)),
            (f"zoom1.5-{order}", lambda o=order: mi.zoom(d, 1.5, order=o),
             lambda o=order: ndi.zoom(x, 1.5, order=o)),
            (f"map_coordinates-{order}", lambda o=order: mi.map_coordinates(d, coords, order=o),
             lambda o=order: ndi.map_coordinates(x, coords, order=o)),
        ]
    cases.append(("shift-3", lambda: mi.shift(d, (0.5, -1.25, 2.0), order=3),
                  lambda: ndi.shift(x, (0.5, -1.25, 2.0), order=3)))
    print(f"arch {runtime.info()['arch'] if hasattr(runtime, 'info') else '?'}, {n}^3 float32, "
          f"best of {args.repeat} (ms)")
    print(f"{'case':24s} {'medkern':>10s} {'scipy':>10s} {'speed-up':>9s}")
    for name, ours, ref in cases:
        if args.only and name not in args.only.split(","):
            continue
        t_ours = best(ours, args.repeat)
        t_ref = best(ref, args.repeat)
        print(f"{name:24s} {t_ours:10.1f} {t_ref:10.1f} {t_ref / t_ours:8.2f}x", flush=True)


if __name__ == "__main__":
    main()
