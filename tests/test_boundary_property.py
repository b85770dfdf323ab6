"""Property-based check of the boundary maps on tiny and odd shapes.

Shapes are drawn at random (axes of length 1 and 2, filters wider than the
array), so every mode's extension is exercised where it is most fragile.
Kernel variety is kept small (a few sizes x 5 modes) so the compile cache is
hit after the first examples; shapes are run-time values and cost no compile.
"""
import numpy as np
import scipy.ndimage as ndi
from hypothesis import given, settings
from hypothesis import strategies as st

import medkern.filters as mf

MODES = ("reflect", "constant", "nearest", "mirror", "wrap")
shapes = st.lists(st.integers(1, 7), min_size=1, max_size=3).map(tuple)


@settings(max_examples=30, deadline=None)  # 60 before: CI time
@given(shape=shapes, size=st.integers(1, 6), mode=st.sampled_from(MODES),
       seed=st.integers(0, 2**16))
def test_uniform_and_maximum_match_scipy_on_tiny_shapes(shape, size, mode, seed):
    x = np.random.default_rng(seed).integers(0, 256, size=shape).astype(np.uint8)
    for name in ("uniform_filter", "maximum_filter"):
        ours = getattr(mf, name)(x, size=size, mode=mode, cval=3)
        ref = getattr(ndi, name)(x, size=size, mode=mode, cval=3)
        np.testing.assert_array_equal(ours, ref, err_msg=f"{name} {shape} {size} {mode}")


@settings(max_examples=20, deadline=None)  # 40 before: CI time
@given(shape=shapes, taps=st.integers(1, 5), mode=st.sampled_from(MODES),
       seed=st.integers(0, 2**16))
def test_correlate1d_and_median_match_scipy_on_tiny_shapes(shape, taps, mode, seed):
    rng = np.random.default_rng(seed)
    x = rng.random(shape).astype(np.float64)
    w = np.arange(1.0, taps + 1.0)
    np.testing.assert_allclose(mf.correlate1d(x, w, mode=mode, cval=0.5),
                               ndi.correlate1d(x, w, mode=mode, cval=0.5), rtol=1e-12, atol=1e-12)
    # reference on a (1, ...) view: SciPy >= 1.14 sends 1-D input to a separate
    # rank routine that returns garbage for mode="mirror" on a length-1 array
    ref = ndi.median_filter(x[None], size=(1,) + (3,) * x.ndim, mode=mode, cval=0.5)[0]
    np.testing.assert_array_equal(mf.median_filter(x, size=3, mode=mode, cval=0.5), ref)
