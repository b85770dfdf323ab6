"""Checks that only mean something on a GPU-style backend (run by `make test-vulkan`).

On the CPU arch they check the same contract: the arch that runs is the
one asked for (no silent fallback).
"""
import os

import numpy as np
import scipy.ndimage as ndi

import medkern
import medkern.filters as mf


def test_running_arch_is_the_requested_one():
    wanted = os.environ.get("MEDKERN_ARCH", "cpu")
    assert medkern.runtime.arch() == wanted
    assert medkern.runtime.info()["arch"] == wanted


def test_device_pipeline_stays_on_device():
    x = np.random.default_rng(1).random((40, 50), dtype=np.float32)
    d = medkern.asarray(x)
    g = mf.gaussian_filter(d, 1.5)
    s = mf.sobel(g, axis=0)
    m = mf.maximum_filter(s, size=3)
    assert isinstance(g, medkern.DeviceArray) and isinstance(m, medkern.DeviceArray)
    ref = ndi.maximum_filter(ndi.sobel(ndi.gaussian_filter(x, 1.5), axis=0), size=3)
    np.testing.assert_allclose(medkern.asnumpy(m), ref, rtol=1e-5, atol=1e-5)
