"""The DSL FFT building block (kernels/fft.py) against scipy.fft, on whatever arch runs."""
import numpy as np
import pytest
import scipy.fft as sf

from medkern import runtime
from medkern.kernels import fft as kfft


def transform(x, inverse, staged=False):
    rows, n = x.shape
    re, im = kfft.to_device(x.real), kfft.to_device(x.imag)
    ore, oim = kfft.new_buffer(rows, n), kfft.new_buffer(rows, n)
    if staged:
        kfft.fft_rows_staged(re, im, ore, oim, (kfft.new_buffer(rows, n), kfft.new_buffer(rows, n)),
                             inverse=inverse)
    else:
        kfft.fft_rows(re, im, ore, oim, inverse=inverse)
    runtime.sync()
    return kfft.to_host(ore) + 1j * kfft.to_host(oim)


@pytest.mark.parametrize("n", [1, 2, 4, 64, 256, 3, 5, 12, 100, 367])
@pytest.mark.parametrize("inverse", [False, True])
def test_rows_match_scipy_fft(n, inverse):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(5, n)) + 1j * rng.normal(size=(5, n))
    ref = sf.ifft(x, axis=-1) if inverse else sf.fft(x, axis=-1)
    got = transform(x, inverse)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13 * np.abs(ref).max())
    if kfft.is_pow2(n):
        np.testing.assert_allclose(transform(x, inverse, staged=True), ref, rtol=0,
                                   atol=1e-13 * np.abs(ref).max())


def test_round_trip_and_input_untouched():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 360)) + 1j * rng.normal(size=(3, 360))
    keep = x.copy()
    back = transform(transform(x, False), True)
    np.testing.assert_allclose(back, x, atol=1e-12)
    np.testing.assert_array_equal(x, keep)


def test_lengths():
    assert kfft.bluestein_length(367) == 1024 and kfft.bluestein_length(1) == 1
    assert kfft.bluestein_length(3) == 8 and kfft.is_pow2(512) and not kfft.is_pow2(360)
