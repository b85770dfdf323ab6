"""The FFT question of issue 8 (item 4e), answered with numbers on this machine.

Times, best of --repeat, data resident where the kernels run (device-synchronised):
  * rows of complex float64: radix-2 (n = 512) and Bluestein (n = 367) — medkern's DSL
    FFT (kernels/fft.py) vs scipy.fft (workers=1 and all cores) on the host;
  * the reconstruction use: ramp-filtering a 360 x 512 sinogram — FFT route (pad to 1024,
    transform, multiply by |f|, back) vs the spatial-domain alternative (the Ram-Lak kernel
    as a 1023-tap correlate1d: medkern's looped correlate1d and scipy.ndimage.correlate1d).

    MEDKERN_ARCH=cpu    .venv/bin/python tools/fft_study.py
    MEDKERN_ARCH=vulkan .venv/bin/python tools/fft_study.py
"""
import argparse
import os
import time

import numpy as np
import scipy.fft as sf
import scipy.ndimage as ndi

import medkern
import medkern.filters as mf
from medkern import runtime
from medkern.kernels import fft as kfft


def best(f, repeat):
    f()
    runtime.sync()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        runtime.sync()
        ts.append(time.perf_counter() - t)
    return min(ts) * 1e3


def ramlak(n):
    """Spatial Ram-Lak kernel h[k], k = -(n-1)..n-1 (Kak & Slaney eq. 61, unit spacing)."""
    k = np.arange(-(n - 1), n)
    h = np.zeros(k.size)
    h[k == 0] = 0.25
    odd = k % 2 == 1
    h[odd] = -1.0 / (np.pi * k[odd]) ** 2
    return h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    runtime.ensure_init()
    info = runtime.info()
    print(f"arch {info.get('arch')}, device {info.get('device')}, cores {os.cpu_count()}")
    rng = np.random.default_rng(0)
    rows = []
    for n, what in ((512, "radix-2"), (367, "Bluestein")):
        x = rng.normal(size=(1024, n)) + 1j * rng.normal(size=(1024, n))
        re, im = kfft.to_device(x.real), kfft.to_device(x.imag)
        ore, oim = kfft.new_buffer(1024, n), kfft.new_buffer(1024, n)
        scratch = None
        if not kfft.is_pow2(n):
            m = kfft.bluestein_length(n)
            scratch = (kfft.new_buffer(1024, m), kfft.new_buffer(1024, m))
        t_dsl = best(lambda: kfft.fft_rows(re, im, ore, oim, scratch=scratch), args.repeat)
        if kfft.is_pow2(n):  # the GPU-shaped variant: one launch per stage
            tmp = (kfft.new_buffer(1024, n), kfft.new_buffer(1024, n))
            t_st = best(lambda: kfft.fft_rows_staged(re, im, ore, oim, tmp), args.repeat)
            got = kfft.to_host(ore) + 1j * kfft.to_host(oim)
            err = np.abs(got - sf.fft(x, axis=-1)).max() / np.abs(sf.fft(x, axis=-1)).max()
            t_sp1 = best(lambda: sf.fft(x, axis=-1, workers=1), args.repeat)
            t_spn = best(lambda: sf.fft(x, axis=-1, workers=-1), args.repeat)
            rows.append((f"fft rows 1024 x {n} c128 (radix-2, per stage)", t_st, t_sp1, t_spn, err))
        t_sp1 = best(lambda: sf.fft(x, axis=-1, workers=1), args.repeat)
        t_spn = best(lambda: sf.fft(x, axis=-1, workers=-1), args.repeat)
        got = kfft.to_host(ore) + 1j * kfft.to_host(oim)
        err = np.abs(got - sf.fft(x, axis=-1)).max() / np.abs(sf.fft(x, axis=-1)).max()
        rows.append((f"fft rows 1024 x {n} c128 ({what}, row/thread)", t_dsl, t_sp1, t_spn, err))

    # ramp filtering a sinogram (360 angles x 512 detector bins)
    sino = rng.normal(size=(360, 512))
    npad = 1024
    ramp = np.abs(sf.fftfreq(npad))  # |f| on the padded grid (cycles/sample)

    def scipy_ramp():
        f = sf.rfft(sino, n=npad, axis=-1)
        return sf.irfft(f * ramp[: npad // 2 + 1], n=npad, axis=-1)[:, :512]

    sre = kfft.to_device(np.pad(sino, ((0, 0), (0, npad - 512))))
    sim = kfft.to_device(np.zeros((360, npad)))
    fre, fim = kfft.new_buffer(360, npad), kfft.new_buffer(360, npad)
    bre, bim = kfft.new_buffer(360, npad), kfft.new_buffer(360, npad)

    def dsl_ramp():  # forward, multiply (host-free only on the CPU arch here), inverse
        kfft.fft_rows(sre, sim, fre, fim)
        if isinstance(fre, np.ndarray):
            fre[...] *= ramp
            fim[...] *= ramp
        kfft.fft_rows(fre, fim, bre, bim, inverse=True)

    h = ramlak(512)
    d_sino = medkern.asarray(sino)
    t_fft_dsl = best(dsl_ramp, args.repeat)
    t_fft_sp = best(scipy_ramp, args.repeat)
    t_sp_spatial = best(lambda: ndi.correlate1d(sino, h, axis=-1, mode="constant"), max(2, args.repeat // 3))
    t_mk_spatial = best(lambda: mf.correlate1d(d_sino, h, axis=-1, mode="constant"), max(2, args.repeat // 3))
    # the FFT route with zero padding is the linear convolution with the band-limited ramp:
    # compare shapes of results only loosely (discretisations differ)
    print(f"\n{'case':44s} {'medkern DSL ms':>15s} {'scipy w=1 ms':>13s} {'scipy all ms':>13s}  rel. error")
    for name, a, b, c, e in rows:
        print(f"{name:44s} {a:15.2f} {b:13.2f} {c:13.2f}  {e:.1e}")
    print(f"\nramp filter 360 x 512 (pad 1024): FFT route  medkern DSL {t_fft_dsl:.2f} ms, "
          f"scipy.fft {t_fft_sp:.2f} ms")
    print(f"ramp filter 360 x 512, spatial 1023-tap kernel: medkern correlate1d {t_mk_spatial:.2f} ms, "
          f"scipy.ndimage.correlate1d {t_sp_spatial:.2f} ms")


if __name__ == "__main__":
    main()
