"""One public call's plumbing: checked input -> kernel buffers -> result where the caller wants it.

:class:`Job` is shared by every algorithm module. It takes the caller's
input (numpy array or :class:`~medkern.DeviceArray`) and ``output=``
argument, hands out kernel buffers of the right shape, launches kernels under
the runtime lock and delivers the final buffer: as a numpy array, as a
:class:`~medkern.DeviceArray` (device input), or written into ``output``;
a :class:`~medkern.Volume` input gets a Volume back with the same geometry.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import arrays, checks, runtime
from ..arrays import DeviceArray, compute_dtype, shape3


class Job:
    def __init__(self, input: Any, output: Any = None, *, name: str = "input"):
        from ..volume import Volume
        # a Volume's array is processed; the result gets the same geometry back
        self.volume = input if isinstance(input, Volume) else None
        if self.volume is not None:
            input = self.volume.array
        x = checks.array(input, name)
        self.device = isinstance(x, DeviceArray)
        self.shape: tuple[int, ...] = tuple(x.shape)
        self.ndim = len(self.shape)
        self.in_dtype = x.dtype.newbyteorder("=")
        self.out_dtype, self.target = checks.output(output, self.shape, self.in_dtype, self.device)
        self._x = x
        self._src = None

    # ---------------------------------------------------------------- buffers
    @property
    def src(self) -> Any:
        """The input as a kernel buffer (uploaded on first use)."""
        if self._src is None:
            self._src = self._x._buf if self.device else arrays.upload(self._x)
        return self._src

    def buffer(self, dtype: Any = None) -> Any:
        return arrays.empty_buffer(shape3(self.shape), np.dtype(dtype or self.out_dtype))

    def axis3(self, axis: int) -> int:
        """A logical axis as an axis of the 3-D buffer."""
        return axis + 3 - self.ndim

    def offsets3(self, offsets: np.ndarray) -> tuple:
        """Rows of logical offsets as static 3-D offset tuples."""
        pad = 3 - self.ndim
        return tuple(tuple([0] * pad + [int(v) for v in row]) for row in offsets)

    # ---------------------------------------------------------------- launching
    @staticmethod
    def launch(kernel: Callable, *args: Any) -> None:
        with runtime.lock:
            kernel(*args)

    def chain(self, passes: Sequence[Callable[[np.dtype], Callable]], cval: float) -> Any:
        """Run 1-D passes one after the other; each reads the previous result.

        ``passes`` are factories ``in_dtype -> kernel(a, out, cval)``. Results are
        stored in the output dtype between passes (as SciPy does). No passes: a
        cast copy of the input.
        """
        if not passes:
            return self.cast_copy()
        bufs = [self.buffer(), self.buffer() if len(passes) > 1 else None]
        cur, cur_dtype = self.src, self.in_dtype
        for n, make in enumerate(passes):
            dst = bufs[n % 2]
            self.launch(make(cur_dtype), cur, dst, float(cval))
            cur, cur_dtype = dst, self.out_dtype
        spare = bufs[len(passes) % 2]
        if spare is not None:
            arrays.release_buffer(spare)
        return cur

    def cast_copy(self) -> Any:
        from ..kernels import dsl, filters as kf
        out = self.buffer()
        self.launch(dsl.pointwise(kf.identity, (self.in_dtype,), self.out_dtype), self.src, out)
        return out

    def compute(self, in_dtype: np.dtype | None = None) -> np.dtype:
        """The dtype built-in filters compute in: float64, as SciPy (see ``arrays``)."""
        return np.dtype(np.float64)

    def user_compute(self) -> np.dtype:
        """The dtype a user's ``ti.func`` receives: float32 for float32 in and out."""
        return compute_dtype(self.in_dtype, self.out_dtype)

    # ---------------------------------------------------------------- delivering
    def finish(self, buf: Any) -> Any:
        result = self._deliver(buf)
        return result if self.volume is None else self.volume.with_array(result)

    def _deliver(self, buf: Any) -> Any:
        if self.target is not None:
            if isinstance(self.target, DeviceArray):
                arrays.copy_buffer(buf, self.target._buf)
            else:
                self.target[...] = arrays.download(buf, self.shape)
            return self.target
        if self.device:
            return DeviceArray(buf, self.shape, self.out_dtype)
        return arrays.download(buf, self.shape)

    def count_nan(self) -> int:
        """How many NaNs the input holds (0 for integer dtypes)."""
        if self.in_dtype.kind != "f":
            return 0
        from ..kernels import dsl
        kern = dsl.reduce("nan_count", self.in_dtype, np.dtype(np.int64))
        return int(reduce_buffer(kern, self.src, np.int64, "nan_count"))


def reduce_buffer(kernel: Callable, buf: Any, acc_dtype: Any, op: str) -> Any:
    """Run a row-wise reduction kernel (``dsl.reduce``) and combine its partials.

    The partials (one per row, ``n0 * n1`` values) come back to the host and are
    combined there with numpy, in float64 for float sums.
    """
    n0, n1 = buf.shape[0], buf.shape[1]
    partial = arrays.empty_buffer((n0, n1, 1), np.dtype(acc_dtype))
    Job.launch(kernel, buf, partial)
    rows = arrays.download(partial, (n0 * n1,))
    if op in ("sum", "nan_count"):
        return rows.sum()
    return rows.min() if op == "min" else rows.max()
