"""One public call's plumbing: checked input -> kernel buffers -> result where the caller wants it.

:class:`Job` is shared by every algorithm module. It takes the caller's
input and ``output=`` argument, hands out kernel buffers of the right shape,
launches kernels under the runtime lock and delivers the final buffer where the
input came from:

* numpy array (or list) -> numpy array;
* :class:`~medkern.DeviceArray` -> DeviceArray;
* another library's array (torch tensor, CuPy array, any ``__dlpack__``
  producer) -> that library's array on the input's device. The input is
  imported without a copy where :func:`medkern.asarray` can (same device,
  C-contiguous...; else copied), and the result is handed over through DLPack
  without a copy too (the library's array owns medkern's result buffer), except
  where the result must travel (a host tensor filtered on a GPU arch, or Vulkan,
  whose memory cannot be exported: then through a host copy);
* :class:`~medkern.Volume` -> Volume with the same geometry;

or written into ``output``. With ``empty=True`` (the filters) an empty input is
accepted: the call checks its arguments as usual, runs no kernel and delivers an
empty result of the result's shape and dtype (``output=`` honoured), as SciPy
returns one. Half precision (numpy float16; torch float16/bfloat16;
CuPy float16) is converted to float32 by the caller's library on the way in and
the float32 result back on the way out (also for ``output=`` a half dtype or
array). Inputs are never written (except as ``output=``).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence, cast

import numpy as np

from .. import arrays, checks, runtime
from ..arrays import DeviceArray, compute_dtype, shape3
from ..interop import HALF, Library


class Job:
    """One call: its input, ``output=`` and delivery (module docstring).

    Parameters
    ----------
    input : array, DeviceArray, Volume or another library's array
    output : None, dtype or array, optional
        SciPy's ``output=``.
    name : str
        The input's parameter name, for error messages.
    dtype : dtype, optional
        The result's dtype when ``output`` names none (default: the input's; half
        precision input then gets no half result): ``label``'s int32.
    bools : bool
        Accept bool input, read as uint8 0/1 (functions that look at ``input != 0``).
    out_shape : sequence of int, optional
        The result's logical shape when it is not the input's (resampling); see also
        :meth:`resize_output`.
    empty : bool
        Accept an empty input (no element): every buffer is then an empty host array
        and :meth:`launch` does nothing, so the call's own code runs unchanged and
        :meth:`finish` delivers an empty result (the filters, as SciPy's).
    """

    def __init__(self, input: Any, output: Any = None, *, name: str = "input",
                 dtype: Any = None, bools: bool = False,
                 out_shape: Sequence[int] | None = None, empty: bool = False):
        from ..volume import Volume
        # a Volume's array is processed; the result gets the same geometry back
        self.volume = input if isinstance(input, Volume) else None
        if self.volume is not None:
            input = self.volume.array
        if bools and isinstance(input, np.ndarray) and input.dtype == np.bool_:
            input = input.view(np.uint8)  # same bytes, 0/1: no copy
        #: the caller's array library when the input is another library's array
        self.library: Library | None = None
        half = None  # the input's half-precision dtype name, computed in float32
        if arrays.is_dlpack_producer(input):
            self.library = Library(input)
            half = self.library.dtype_of(input)
            half = half if half in HALF else None
            if half:
                input = self.library.astype(input, "float32")
            input = arrays.import_array(input, name=name)
        elif isinstance(input, np.ndarray) and input.dtype.kind == "f" and input.dtype.itemsize == 2:
            half = "float16"
            input = input.astype(np.float32)
        x = checks.array(input, name, empty=empty)
        if empty and x.size == 0:
            # nothing to compute: this instance's launch shadows the static one and
            # runs nothing (buffers of no element live on the host, arrays._allocate)
            self.launch = _no_launch  # type: ignore[method-assign]
        self.device = isinstance(x, DeviceArray)
        self.shape: tuple[int, ...] = tuple(x.shape)
        self.ndim = len(self.shape)
        self.in_dtype = x.dtype.newbyteorder("=")
        #: half-precision dtype name (float16/bfloat16) the result is converted to, or None
        self.cast: str | None
        #: the result's dtype when ``output`` names none
        self._default = self.in_dtype if dtype is None else np.dtype(dtype)
        if dtype is not None:
            half = None  # the result's dtype does not follow the input's
        self._half = half
        self._set_output(output, out_shape)
        #: dtype of scalar results (measurements): the input's, float16 for float16 data
        self.scalar_dtype = np.dtype(np.float16) if half == "float16" else self.in_dtype
        self._x = x
        self._src = None
        self._extra: list = []  # buffers uploaded for second inputs, released by finish

    def _set_output(self, output: Any, out_shape: Sequence[int] | None) -> None:
        #: logical shape of the result (the input's unless the call resamples)
        self.out_shape: tuple[int, ...] = (self.shape if out_shape is None
                                           else tuple(int(n) for n in out_shape))
        if self.library is not None:
            self.out_dtype, self.target, self.cast = checks.foreign_output(
                output, self.out_shape, self._default, self._half, self.library)
        else:
            self.out_dtype, self.target, self.cast = checks.output(
                output, self.out_shape, self._default, self.device, self._half)

    def resize_output(self, out_shape: Sequence[int], output: Any = None) -> None:
        """Give the result another shape (resampling: ``zoom``, ``output_shape``...), checked
        against ``output`` (an array of that shape, a dtype or None) as the constructor does.
        Call before any :meth:`buffer`."""
        checks.index_range(tuple(out_shape), "output_shape")
        self._set_output(output, out_shape)

    # ---------------------------------------------------------------- buffers
    @property
    def src(self) -> Any:
        """The input as a kernel buffer (uploaded on first use)."""
        if self._src is None:
            # self.device is isinstance(self._x, DeviceArray)
            self._src = (cast(DeviceArray, self._x)._buf if self.device
                         else arrays.upload(cast(np.ndarray, self._x)))
        return self._src

    def buffer(self, dtype: Any = None, shape: Sequence[int] | None = None) -> Any:
        """A leased kernel buffer of the result's shape (or logical ``shape``)."""
        return arrays.empty_buffer(shape3(tuple(shape) if shape is not None else self.out_shape),
                                   np.dtype(dtype or self.out_dtype))

    def second(self, x: Any, name: str, *, layout: Sequence[int] | None = None,
               dtypes: Sequence[Any] = (), default: Any = np.float64) -> tuple[Any, np.dtype]:
        """A second array input (coordinates, a field...) as a kernel buffer and its dtype.

        numpy arrays (and array-likes) are checked (real, finite shape) and uploaded,
        converted to ``default`` unless their dtype is one of ``dtypes``, and viewed with
        the 3-D ``layout`` (C order, the same bytes: see :func:`medkern.arrays.shape3` and
        the component layout ``(C * s0, s1, s2)``). A :class:`~medkern.DeviceArray` is used
        in place when its buffer already has that layout and an accepted dtype; otherwise
        it goes through the host once. The caller checks the shape; the buffer is released
        by :meth:`finish`.
        """
        accepted = [np.dtype(d) for d in dtypes]
        if isinstance(x, DeviceArray):
            if np.dtype(x.dtype) in accepted:
                # the component layout (C * s0, s1, s2): the buffer itself, or for a 2-D
                # (C, N) array a device copy (a taichi.ndarray cannot be reshaped)
                buf = x.component_buffer() if x.ndim > 1 else x._buf
                if buf is not x._buf:
                    self._extra.append(buf)
                if layout is None or tuple(buf.shape) == tuple(layout):
                    return buf, np.dtype(x.dtype)
            x = arrays.asnumpy(x)
        elif arrays.is_dlpack_producer(x) and not isinstance(x, np.ndarray):
            x = arrays.asnumpy(arrays.import_array(x, name=name))
        host = np.asarray(x)
        if host.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a real array, got dtype {host.dtype}")
        dt = host.dtype.newbyteorder("=") if host.dtype in accepted else np.dtype(default)
        host = np.ascontiguousarray(host, dtype=dt)
        if layout is not None:
            host = host.reshape(tuple(layout))
        buf = arrays.upload(host if host.ndim == 3 else host.reshape(shape3(host.shape)))
        self._extra.append(buf)
        return buf, dt

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
        arrays.check_not_pooled(args)  # a released buffer is nobody's to write or read
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
    def finish(self, buf: Any, index_map: np.ndarray | None = None, *,
               geometry: bool = True) -> Any:
        """Deliver ``buf`` (the result) where the caller wants it.

        A :class:`~medkern.Volume` input gives a Volume: on the input's grid, or, for a
        result of another grid, on the grid ``index_map`` describes -- the 4 x 4 matrix
        taking a result index (padded in front to three axes, homogeneous) to the input
        index it was sampled at, so the result's affine is ``input.affine @ index_map``.
        ``geometry=False``: the result has no grid of its own (``map_coordinates``), the
        plain array is returned.
        """
        result = self._deliver(buf)
        # buffers this call still holds the lease of go back to the pool: the uploaded
        # input (GPU arches), the result once copied into output= (a handed-out result,
        # or the input of a DeviceArray, is not leased: its holder decides)
        for b in (buf, self._src, *self._extra):
            if b is not None and arrays.is_leased(b):
                arrays.release_buffer(b)
        self._src = None
        self._extra = []
        if self.volume is None or not geometry:
            return result
        if index_map is None:
            return self.volume.with_array(result)
        v = self.volume
        return type(v).from_affine(result, v.affine @ np.asarray(index_map, dtype=np.float64),
                                   modality=v.modality, meta=v.meta,
                                   series_uid=_new_uid(), derived_from=v.series_uid)

    def finish_mask(self, buf: Any) -> Any:
        """Deliver a uint8 0/1 result (:meth:`finish`) as a mask: viewed as bool where the
        caller holds it on the host (numpy, a Volume of numpy), uint8 on a device (device
        buffers hold no bool)."""
        from ..volume import Volume
        result = self.finish(buf)
        if isinstance(result, np.ndarray) and result.dtype == np.uint8:
            return result.view(np.bool_)
        if isinstance(result, Volume) and isinstance(result.array, np.ndarray) \
                and result.array.dtype == np.uint8:
            # the same result in another dtype: the series finish gave it stays
            return result.with_array(result.array.view(np.bool_), derived=False)
        return result

    def finish_with(self, buf: Any, *values: Any, extra: Sequence[tuple] = ()) -> tuple:
        """Several results of one call: ``(image, *extra arrays, *values)``.

        ``buf`` is the main result, delivered as :meth:`finish` delivers it (``output=``,
        the input's kind, a Volume's geometry). ``extra`` holds ``(buffer, shape, dtype)``
        of further arrays (indices, a second image of another shape...), each delivered
        in the input's kind (:meth:`deliver`; never into ``output=``, never a Volume).
        ``values`` (ints, floats: counts or thresholds read back with :meth:`value`) come
        last, as given.
        """
        more = tuple(self.deliver(b, shape, dtype) for b, shape, dtype in extra)
        return (self.finish(buf), *more, *values)

    def deliver(self, buf: Any, shape: tuple[int, ...], dtype: Any) -> Any:
        """A further result array (a kernel buffer of ``shape`` and ``dtype``) in the input's
        kind: numpy, DeviceArray or the input's library; the lease of ``buf`` ends here."""
        dtype = np.dtype(dtype)
        shape = tuple(int(n) for n in shape)
        if self.library is not None:
            return self._deliver_foreign_array(DeviceArray(buf, shape, dtype))
        if self.device:
            return DeviceArray(buf, shape, dtype)
        host = arrays.download(buf, shape)
        if arrays.is_leased(buf):  # GPU arches: host is a copy
            arrays.release_buffer(buf)
        return host

    def _deliver_foreign_array(self, result: DeviceArray) -> Any:
        lib = self.library
        assert lib is not None
        host = not arrays.exportable(result, lib.device)
        out = lib.from_dlpack(arrays.asnumpy(result) if host else result)
        return result if out is None else out

    def discard(self, *bufs: Any) -> None:
        """Give back what this call holds without delivering anything (a call that raises
        after computing): ``bufs`` and the uploaded input, where still leased."""
        for b in (*bufs, self._src, *self._extra):
            if b is not None and arrays.is_leased(b):
                arrays.release_buffer(b)
        self._src = None
        self._extra = []

    @staticmethod
    def value(buf: Any, index: int = 0) -> Any:
        """One element of a 1-D buffer on the host (a count, a threshold): one read-back."""
        return arrays.read_scalar(buf, index)

    def _deliver(self, buf: Any) -> Any:
        if self.library is not None:
            return self._deliver_foreign(DeviceArray(buf, self.out_shape, self.out_dtype))
        if self.target is not None:
            if isinstance(self.target, DeviceArray):
                arrays.copy_buffer(buf, self.target._buf)
            else:
                self.target[...] = arrays.download(buf, self.out_shape)
            return self.target
        if self.device:
            return DeviceArray(buf, self.out_shape, self.out_dtype)
        host = arrays.download(buf, self.out_shape)
        return host if self.cast is None else host.astype(self.cast)

    def _deliver_foreign(self, result: DeviceArray) -> Any:
        lib = self.library
        assert lib is not None
        if arrays.exportable(result, lib.device):
            out = lib.from_dlpack(result)  # the library's array over the result: no copy
            if out is None:  # a producer without from_dlpack: the DeviceArray itself
                return result
        else:  # to another device (a host tensor on a GPU arch), or from Vulkan: via the host
            out = lib.from_dlpack(arrays.asnumpy(result))
            if out is None:
                return result
        if self.cast is not None:
            out = lib.astype(out, self.cast)
        if self.target is not None:
            lib.assign(self.target, out)
            return self.target
        return out

    def extreme(self, op: str) -> Any:
        """The whole input's minimum (``op="min"``) or maximum (``"max"``), a scalar of
        the kernel dtype; NaN if the input holds one (as ``np.min``).

        On the CPU arch the kernel buffer is a numpy array and numpy's SIMD ``min``/``max``
        reads it in place: an extreme is exact whatever the order, so the result is the
        kernel's to the bit, 2-5x sooner (measured on 128^3 float32, 2 cores: numpy 0.32
        ms, the row kernel 0.6-0.8 ms). Device arches run ``dsl.reduce``'s NaN-aware pass
        (one pass; the data stays on the device).
        """
        src = self.src
        if isinstance(src, np.ndarray) and not isinstance(src, arrays.DeviceMemory):
            return src.min() if op == "min" else src.max()
        from ..kernels import dsl
        dt = self.in_dtype
        kern = dsl.reduce("nan" + op if dt.kind == "f" else op, dt, dt)
        return dt.type(reduce_buffer(kern, src, dt, op))

    def histogram(self, edges: np.ndarray, lo: float, norm: float) -> np.ndarray:
        """int64 counts of the input in the equal bins ``edges`` (float64, first edge
        ``lo``, ``norm`` bins per unit), with numpy's binning rules (``dsl.histogram``),
        counted on the device; values outside the edges and NaN are not counted."""
        from ..kernels import dsl
        nb = len(edges) - 1
        e_buf = arrays.upload_vector(np.asarray(edges, np.float64))
        counts = arrays.upload_vector(np.zeros(nb, dtype=np.int64))
        self.launch(dsl.histogram(self.in_dtype), self.src, e_buf, counts, lo, norm)
        return np.array(arrays.download(counts, (nb,)), dtype=np.int64)

    def count_nan(self) -> int:
        """How many NaNs the input holds (0 for integer dtypes)."""
        if self.in_dtype.kind != "f":
            return 0
        from ..kernels import dsl
        kern = dsl.reduce("nan_count", self.in_dtype, np.dtype(np.int64))
        return int(reduce_buffer(kern, self.src, np.int64, "nan_count"))


def host_like(input: Any) -> Any:
    """Sequences and scalars as numpy arrays (other inputs -- arrays, DeviceArrays,
    Volumes, other libraries' arrays -- as they are)."""
    if isinstance(input, (list, tuple)) or np.isscalar(input):
        return np.asarray(input)
    return input


def _no_launch(kernel: Callable, *args: Any) -> None:
    """:meth:`Job.launch` of a job with an empty input: no element, nothing to run."""


def _new_uid() -> str:
    from ..volume import new_uid
    return new_uid()


def reduce_buffer(kernel: Callable, buf: Any, acc_dtype: Any, op: str) -> Any:
    """Run a row-wise reduction kernel (``dsl.reduce``) and combine its partials.

    The partials (one per row segment, ``n0 * n1 * dsl.row_segments(n2)`` values) come
    back to the host and are combined there with numpy, in float64 for float sums.
    """
    from ..kernels import dsl
    n0, n1 = buf.shape[0], buf.shape[1]
    nseg = dsl.row_segments(buf.shape[2])
    partial = arrays.empty_buffer((n0, n1, nseg), np.dtype(acc_dtype))
    Job.launch(kernel, buf, partial)
    rows = arrays.download(partial, (n0 * n1 * nseg,))
    if arrays.is_leased(partial):  # GPU arches: rows is a copy
        arrays.release_buffer(partial)
    del partial  # CPU: rows is a view holding it, back to the pool when rows goes
    if op in ("sum", "nan_count"):
        return rows.sum()
    return rows.min() if op == "min" else rows.max()
