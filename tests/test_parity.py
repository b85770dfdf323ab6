"""Parity with the reference implementation for every registered algorithm.

Generated from :mod:`medkern.registry`: each algorithm's cases run on 2-D and 3-D inputs.
Every case runs in float32 and in one integer dtype (cycling through uint8/uint16/int16; a
function of other dtypes only, in its first); the first case runs in every registered dtype
(the last case too, with ``-m slow``): complex64/complex128 for the linear filters and the
interpolation functions (their parts run the real kernels, which the Vulkan run checks;
tests/test_complex.py runs complex data on every backend). Integer outputs must equal the
reference exactly; floats agree within the registry's per-dtype tolerance. Algorithms with
extra inputs (label images...) get them from their ``inputs`` (``Algorithm.arguments``).
Dtypes other than float32/uint8, and the 2-D inputs of every case but the first, are marked
``exhaustive``: the second backend run (Vulkan) leaves them to the CPU run (CI time; the
kernels are the same 3-D ones).
"""
import numpy as np
import pytest

from medkern import registry

SHAPES = {2: (23, 30), 3: (9, 12, 11)}
INTS = registry.INT_DTYPES


def _params():
    for alg in registry.algorithms():
        last = len(alg.cases) - 1
        for ci, case in enumerate(alg.cases):
            for ndim in (2, 3):
                if alg.kwargs_for(case, ndim) is None:
                    continue
                some = [d for d in alg.dtypes if d == "float32" or d == INTS[ci % len(INTS)]]
                some = some or list(alg.dtypes[:1])  # e.g. bool-only functions
                dtypes = alg.dtypes if ci in (0, last) else some
                for dt in dtypes:
                    # the Vulkan run: float32/uint8, 3-D, and 2-D for the first case (2-D
                    # images run the same kernels over 3-D buffers with a leading axis of 1)
                    vulkan = dt in ("float32", "uint8") and (ndim == 3 or ci == 0)
                    marks = [] if vulkan else [pytest.mark.exhaustive]
                    if ci == last and ci != 0 and dt not in some:
                        # the last case's other dtypes: with -m slow (CI time: every
                        # dtype compiles its own kernels; the first case has them all)
                        marks = [pytest.mark.slow]
                    yield pytest.param(alg.name, ci, ndim, dt, id=f"{alg.name}-{ci}-{ndim}d-{dt}",
                                       marks=marks)


@pytest.mark.parametrize("name, case_index, ndim, dtype", list(_params()))
def test_matches_reference(name, case_index, ndim, dtype):
    alg = registry.get(name)
    # the case's kwargs plus the extra arrays (labels...) the algorithm's `inputs` makes
    kwargs = alg.arguments(alg.cases[case_index], SHAPES[ndim], seed=case_index)
    x = alg.make(SHAPES[ndim], dtype, seed=case_index)
    before = x.copy()
    extra = {k: v.copy() for k, v in kwargs.items() if isinstance(v, np.ndarray)}
    ours = alg.func(x, **kwargs)
    ref = alg.reference(x, **kwargs)
    np.testing.assert_array_equal(x, before, err_msg="input was mutated")
    for key, value in extra.items():
        np.testing.assert_array_equal(kwargs[key], value, err_msg=f"{key} was mutated")
    if alg.compare_result is None:
        assert np.asarray(ours).dtype == np.asarray(ref).dtype
        assert np.asarray(ours).shape == np.asarray(ref).shape
    err = alg.error(ours, ref)
    assert err <= alg.tol(dtype), f"{name}{kwargs} {dtype} {ndim}-D: error {err:.3g} > {alg.tol(dtype)}"
