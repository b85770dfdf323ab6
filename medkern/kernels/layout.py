"""Copies between buffer layouts: the component (batch) axis of 4-D arrays.

A ``taichi.ndarray`` cannot be sliced or reshaped, so a component array
``(C, *spatial)`` is one 3-D buffer ``(C * s0, s1, s2)`` (``arrays.component_shape3``)
and kernels address component ``c`` through the row offset ``c * s0``. These kernels
copy a run of first-axis rows between buffers (extracting or inserting one component)
and re-lay a buffer's elements into another 3-D shape of the same size (the 2-D
``(C, N)`` array stored as an image ``(1, C, N)`` vs its component layout ``(C, 1, N)``).
"""

import functools

import numpy as np
import taichi as ti

from ..arrays import ti_dtype

ND3 = functools.partial(ti.types.ndarray, ndim=3)


@functools.lru_cache(maxsize=None)
def slab_copy(dtype: np.dtype):
    """``dst[dst_off + i, j, k] = src[src_off + i, j, k]`` for ``i < rows``.

    Signature ``(src, dst, src_off: i32, dst_off: i32, rows: i32)``; the two buffers
    share their last two axes; offsets and the row count are run-time arguments.
    """
    t = ti_dtype(dtype)

    @ti.kernel
    def kern(src: ND3(dtype=t), dst: ND3(dtype=t), src_off: ti.i32, dst_off: ti.i32,
             rows: ti.i32):
        for i, j, k in ti.ndrange(rows, dst.shape[1], dst.shape[2]):
            dst[dst_off + i, j, k] = src[src_off + i, j, k]
    return kern


@functools.lru_cache(maxsize=None)
def reshape_copy(in_dtype: np.dtype, out_dtype: np.dtype):
    """``dst.flat[n] = src.flat[n]`` (C order) between two 3-D buffers of equal size.

    Signature ``(src, dst)``; the dtypes must match (a plain copy, no cast).
    """
    if np.dtype(in_dtype) != np.dtype(out_dtype):
        raise ValueError("reshape_copy copies, it does not convert dtypes")
    t = ti_dtype(in_dtype)

    @ti.kernel
    def kern(src: ND3(dtype=t), dst: ND3(dtype=t)):
        s1, s2 = src.shape[1], src.shape[2]
        d1, d2 = dst.shape[1], dst.shape[2]
        for i, j, k in dst:
            n = (i * d1 + j) * d2 + k
            dst[i, j, k] = src[n // (s1 * s2), (n // s2) % s1, n % s2]
    return kern
