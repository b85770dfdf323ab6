"""label vs scipy.ndimage.label: time, sweeps and read-backs (issue 8, items 4b/4d).

Usage: MEDKERN_ARCH=cpu python tools/label_study.py [--repeat 5] [--sizes 256^3,512^2]

Random masks (``sample_data.binary_mask``: smoothed noise with specks) at each density,
face and full connectivity; medkern's input is a DeviceArray (data resident, as in a
pipeline), the result is synchronised but stays on the device; SciPy gets numpy.
Prints best-of-``repeat`` times and the propagation statistics of the last call.
"""
import argparse
import time

import numpy as np
import scipy.ndimage as ndi

import medkern
import medkern.segmentation as ms
from medkern import runtime
from medkern.kernels import propagate
from medkern.sample_data import binary_mask


def best(fn, repeat):
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, min(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--sizes", default="256^3,512^2")
    p.add_argument("--densities", default="0.5")
    args = p.parse_args()
    print(f"arch {runtime.ensure_init() and runtime.arch()}")
    print("shape        density conn  medkern ms  scipy ms  ratio  labels  sweeps changing readbacks")
    for spec in args.sizes.split(","):
        n, _, k = spec.partition("^")
        shape = (int(n),) * int(k or 3)
        for density in map(float, args.densities.split(",")):
            x = binary_mask(shape, density, seed=0)
            d = medkern.asarray(x)
            for conn in (1, len(shape)):
                s = ndi.generate_binary_structure(len(shape), conn)

                def ours():
                    out = ms.label(d, s)
                    runtime.sync()
                    return out
                ours()  # compile
                (lab, num), t_ours = best(ours, args.repeat)
                st = propagate.last_run
                (ref, m), t_ref = best(lambda: ndi.label(x, s), args.repeat)
                assert num == m and np.array_equal(medkern.asnumpy(lab), ref)
                print(f"{'x'.join(map(str, shape)):12s} {density:7.2f} {conn:4d} {t_ours * 1e3:11.1f} "
                      f"{t_ref * 1e3:9.1f} {t_ref / t_ours:6.2f} {num:7d} {st.sweeps:7d} "
                      f"{st.changing:8d} {st.readbacks:9d}")


if __name__ == "__main__":
    main()
