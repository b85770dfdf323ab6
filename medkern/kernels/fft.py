"""FFTs along the last axis of a stack of rows, as Taichi kernels (issue 8, item 4e).

Complex data are two float64 buffers (real, imaginary), shape (rows, n) — Taichi has no
complex type, and vector ndarrays leak. Two shapes of the same radix-2 transform:

* :func:`fft_rows` — one thread per row, in-place iterative Cooley-Tukey (bit reversal,
  then log2(m) butterfly stages), one launch for the whole stack. Any length n goes
  through Bluestein's chirp-z algorithm: two power-of-two transforms of length
  m >= 2n - 1 per row plus a per-n table (the chirp's transform, computed once by the
  same kernel). Best where threads are few and fast (the CPU arch).
* :func:`fft_rows_staged` — Stockham autosort, one launch per stage over every butterfly
  of every row (rows x m/2 threads), ping-pong buffers, natural order out, powers of two.
  GPU-shaped: 2x faster than row-per-thread on Vulkan (lavapipe), 2.5-4x slower on the CPU.

The decision (numbers in ARCHITECTURE.md, ``tools/fft_study.py``): on the CPU arch the
buffer is numpy memory and ``scipy.fft`` (pocketfft) is ~3x faster than either kernel, so
the CPU route is ``scipy.fft``; on device arches the data must not leave the device, so
the route is these kernels (staged for powers of two). Both beat the spatial-domain
alternative for ramp filtering (a 1023-tap correlate1d) by 7x or more.

Twiddles and chirps are run-time tables (``ti.types.ndarray`` arguments), not
compile-time constants: a specialisation is keyed by the length only (the staged kernel
by nothing: one kernel serves every length).
"""
import functools
import math

import numpy as np

from .. import runtime

def is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def bluestein_length(n: int) -> int:
    return 1 << max(0, (2 * n - 2).bit_length())


@functools.lru_cache(maxsize=64)
def _kernels(m: int):
    """The radix-2 row transform of length ``m`` (a power of two) and Bluestein's on top."""
    ti = runtime.ensure_init()
    logm = int(math.log2(m))
    f64 = ti.f64
    arr2 = ti.types.ndarray(dtype=f64, ndim=2)
    arr1 = ti.types.ndarray(dtype=f64, ndim=1)

    @ti.func
    def fft_row(re: ti.template(), im: ti.template(), r: ti.i32, twr: ti.template(),
                twi: ti.template(), sign: f64):
        # sign +1: forward (twiddles exp(-2 pi i k / m)), -1: inverse (unscaled)
        # bit-reversal permutation
        for i in range(m):
            j = 0
            v = i
            for _ in ti.static(range(logm)):
                j = (j << 1) | (v & 1)
                v >>= 1
            if j > i:
                tr = re[r, i]
                tq = im[r, i]
                re[r, i] = re[r, j]
                im[r, i] = im[r, j]
                re[r, j] = tr
                im[r, j] = tq
        half = 1
        while half < m:
            stride = m // (2 * half)
            for g in range(m // (2 * half)):
                base = g * 2 * half
                for j in range(half):
                    wr = twr[j * stride]
                    wi = sign * twi[j * stride]
                    a = base + j
                    b = a + half
                    xr = re[r, b]
                    xi = im[r, b]
                    tr = wr * xr - wi * xi
                    tq = wr * xi + wi * xr
                    ur = re[r, a]
                    ui = im[r, a]
                    re[r, a] = ur + tr
                    im[r, a] = ui + tq
                    re[r, b] = ur - tr
                    im[r, b] = ui - tq
            half *= 2

    @ti.kernel
    def radix2(xre: arr2, xim: arr2, ore: arr2, oim: arr2, twr: arr1, twi: arr1,
               sign: f64, scale: f64):
        for r in range(xre.shape[0]):
            for k in range(m):
                ore[r, k] = xre[r, k]
                oim[r, k] = xim[r, k]
            fft_row(ore, oim, r, twr, twi, sign)
            if scale != 1.0:
                for k in range(m):
                    ore[r, k] *= scale
                    oim[r, k] *= scale

    @ti.kernel
    def bluestein(xre: arr2, xim: arr2, ore: arr2, oim: arr2, are: arr2, aim: arr2,
                  cwr: arr1, cwi: arr1, bre: arr1, bim: arr1, twr: arr1, twi: arr1,
                  sign: f64, scale: f64):
        n = xre.shape[1]
        for r in range(xre.shape[0]):
            for k in range(m):
                are[r, k] = 0.0
                aim[r, k] = 0.0
            for k in range(n):  # a_k = x_k * w_k,  w_k = exp(sign * i pi k^2 / n)
                wr = cwr[k]
                wi = sign * cwi[k]
                are[r, k] = xre[r, k] * wr - xim[r, k] * wi
                aim[r, k] = xre[r, k] * wi + xim[r, k] * wr
            fft_row(are, aim, r, twr, twi, 1.0)
            for k in range(m):  # times the transform of conj(w) (sign-matched table)
                br = bre[k]
                bi = bim[k]
                xr = are[r, k]
                xi = aim[r, k]
                are[r, k] = xr * br - xi * bi
                aim[r, k] = xr * bi + xi * br
            fft_row(are, aim, r, twr, twi, -1.0)
            s = scale / m
            for k in range(n):
                wr = cwr[k]
                wi = sign * cwi[k]
                xr = are[r, k] * s
                xi = aim[r, k] * s
                ore[r, k] = xr * wr - xi * wi
                oim[r, k] = xr * wi + xi * wr

    return radix2, bluestein


def _upload(*tables: np.ndarray) -> tuple:
    from .. import arrays
    return tuple(arrays.upload_vector(t) for t in tables)


@functools.lru_cache(maxsize=64)
def _twiddles(m: int) -> tuple:
    """exp(-2 pi i k / m), k < m/2 (forward sign; the kernel flips the imaginary part), as
    two kernel buffers: uploaded once per length, not per call."""
    k = np.arange(max(1, m // 2))
    ang = -2.0 * np.pi * k / m
    return _upload(np.cos(ang), np.sin(ang))


@functools.lru_cache(maxsize=64)
def _chirp(n: int, inverse: bool):
    """w_k = exp(-/+ i pi k^2 / n) (angles reduced exactly: k^2 mod 2n) and the length-m
    transform of the conjugate chirp, wrapped (computed with the radix-2 kernel), as four
    kernel buffers uploaded once per (n, direction)."""
    m = bluestein_length(n)
    k = np.arange(n, dtype=np.int64)
    ang = np.pi * ((k * k) % (2 * n)) / n
    cwr, cwi = np.cos(ang), -np.sin(ang)  # forward: exp(-i pi k^2/n); inverse flips sign
    sign = -1.0 if inverse else 1.0
    b = np.zeros(m, np.complex128)
    conj_w = cwr - 1j * sign * cwi  # conj of the sign-applied chirp
    b[:n] = conj_w
    b[m - n + 1:] = conj_w[1:][::-1]
    bre, bim = new_buffer(1, m), new_buffer(1, m)
    fft_rows(to_device(b.real[None]), to_device(b.imag[None]), bre, bim)
    return _upload(cwr, cwi, to_host(bre)[0], to_host(bim)[0])


def to_device(x: np.ndarray):
    """A (rows, n) float64 kernel buffer holding ``x``."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    if runtime.is_cpu():
        return x
    buf = new_buffer(*x.shape)
    with runtime.lock:
        buf.from_numpy(x)
    return buf


def to_host(buf) -> np.ndarray:
    if isinstance(buf, np.ndarray):
        return buf
    with runtime.lock:
        return buf.to_numpy()


def fft_rows(re, im, ore, oim, *, inverse: bool = False, scratch=None) -> None:
    """Transform every row of (re, im) into (ore, oim): kernel buffers (numpy on the CPU
    arch, ``ti.ndarray`` elsewhere) of float64, shape (rows, n). Inverse includes 1/n.

    ``scratch``: two (rows, m) float64 buffers for Bluestein (non-power-of-two n).
    """
    rows, n = re.shape[0], re.shape[1]
    if is_pow2(n):
        radix2, _ = _kernels(n)
        twr, twi = _twiddles(n)
        with runtime.lock:
            radix2(re, im, ore, oim, twr, twi, -1.0 if inverse else 1.0,
                   1.0 / n if inverse else 1.0)
        return
    m = bluestein_length(n)
    _, bluestein = _kernels(m)
    twr, twi = _twiddles(m)
    cwr, cwi, bre, bim = _chirp(n, inverse)
    if scratch is None:
        scratch = (new_buffer(rows, m), new_buffer(rows, m))
    with runtime.lock:
        bluestein(re, im, ore, oim, scratch[0], scratch[1], cwr, cwi, bre, bim, twr, twi,
                  -1.0 if inverse else 1.0, 1.0 / n if inverse else 1.0)


def new_buffer(rows: int, n: int):
    """A (rows, n) float64 kernel buffer: numpy on the CPU arch, ``ti.ndarray`` elsewhere."""
    ti = runtime.ensure_init()
    if runtime.is_cpu():
        return np.empty((rows, n))
    return ti.ndarray(ti.f64, (rows, n))


@functools.lru_cache(maxsize=8)
def _stage_kernel():
    """One radix-2 Stockham stage over every butterfly of every row (GPU-shaped: rows x m/2
    threads per launch, log2(m) launches, ping-pong buffers, natural order out)."""
    ti = runtime.ensure_init()
    f64 = ti.f64
    arr2 = ti.types.ndarray(dtype=f64, ndim=2)
    arr1 = ti.types.ndarray(dtype=f64, ndim=1)

    @ti.kernel
    def stage(xre: arr2, xim: arr2, yre: arr2, yim: arr2, twr: arr1, twi: arr1,
              p: ti.i32, sign: f64, scale: f64):
        m = xre.shape[1]
        half = m // 2
        for r, i in ti.ndrange(xre.shape[0], half):
            k = i & (p - 1)
            t = k * (half // p)  # exp(-i pi k / p) = twiddle k * m / (2p)
            wr = twr[t]
            wi = sign * twi[t]
            ar = xre[r, i]
            ai = xim[r, i]
            br = xre[r, i + half]
            bi = xim[r, i + half]
            tr = wr * br - wi * bi
            tq = wr * bi + wi * br
            j = 2 * i - k
            yre[r, j] = (ar + tr) * scale
            yim[r, j] = (ai + tq) * scale
            yre[r, j + p] = (ar - tr) * scale
            yim[r, j + p] = (ai - tq) * scale

    return stage


def fft_rows_staged(re, im, ore, oim, tmp, *, inverse: bool = False) -> None:
    """Power-of-two rows, one launch per stage (see :func:`_stage_kernel`). ``tmp``: two more
    (rows, n) buffers; the input is not modified."""
    n = re.shape[1]
    if n == 1:  # no stage: the transform is a copy
        fft_rows(re, im, ore, oim, inverse=inverse)
        return
    stage = _stage_kernel()
    twr_d, twi_d = _twiddles(n)
    sign = -1.0 if inverse else 1.0
    nst = int(math.log2(n))
    # ping-pong so that the last stage lands in (ore, oim)
    bufs = [(ore, oim), tmp] if nst % 2 else [tmp, (ore, oim)]
    src = (re, im)
    p = 1
    with runtime.lock:
        for s in range(nst):
            dst = bufs[s % 2]
            scale = (1.0 / n) if (inverse and s == nst - 1) else 1.0
            stage(src[0], src[1], dst[0], dst[1], twr_d, twi_d, p, sign, scale)
            src = dst
            p *= 2
