"""Device arrays beyond 3-D scalars (issue 8, item 2): component and batch axes.

An array ``(C, *spatial)`` is one 3-D buffer ``(C * s0, s1, s2)`` with
``(s0, s1, s2) = shape3(spatial)`` (``arrays.component_shape3``); 4-D arrays fold their
leading axis that way. Round trips numpy <-> device, copies, components, DLPack (torch
CPU), ``output=`` and the refusals (5-D; filters given 4-D data). Runs on the arch of
``MEDKERN_ARCH`` (cpu and vulkan).
"""
import numpy as np
import pytest
import scipy.ndimage as ndi

import medkern
import medkern.filters as mf
from medkern import arrays, runtime

ARCH = runtime.arch()
RNG = np.random.default_rng(11)

SHAPES = [(3, 4, 5, 6), (2, 5, 7), (2, 9), (4, 1, 3, 2)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", [np.float32, np.int16])
def test_round_trip_and_layout(shape, dtype):
    a = (RNG.uniform(-100, 100, shape)).astype(dtype)
    d = medkern.asarray(a)
    assert d.shape == shape and d.ndim == len(shape) and d.dtype == np.dtype(dtype)
    assert tuple(d._buf.shape) == arrays.buffer_shape(shape)
    back = medkern.asnumpy(d)
    assert back.dtype == a.dtype and back.shape == shape
    np.testing.assert_array_equal(back, a)
    np.testing.assert_array_equal(np.asarray(d), a)
    np.testing.assert_array_equal(medkern.asnumpy(d.copy()), a)
    # the layout contract: component c of point p is buf[c * s0 + z, y, x]
    comp = d.component_buffer()
    s0, s1, s2 = arrays.shape3(shape[1:])
    assert tuple(comp.shape) == (shape[0] * s0, s1, s2)
    host = comp if isinstance(comp, np.ndarray) else comp.to_numpy()
    np.testing.assert_array_equal(host.reshape(shape), a)
    for c in range(shape[0]):
        part = d.component(c)
        assert part.shape == shape[1:]
        np.testing.assert_array_equal(medkern.asnumpy(part), a[c])
    np.testing.assert_array_equal(medkern.asnumpy(d.component(-1)), a[-1])


def test_component_is_a_copy_on_every_arch():
    a = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    d = medkern.asarray(a)
    part = d.component(1)
    part2 = mf.gaussian_filter(part, 1.0, output=part)  # written in place
    assert part2 is part
    np.testing.assert_array_equal(medkern.asnumpy(d), a)  # the 3-D array is untouched


def test_buffer_shape_rules():
    assert arrays.buffer_shape((7,)) == (1, 1, 7)
    assert arrays.buffer_shape((5, 7)) == (1, 5, 7)
    assert arrays.buffer_shape((3, 5, 7)) == (3, 5, 7)
    assert arrays.buffer_shape((3, 4, 5, 7)) == (12, 5, 7)
    assert arrays.component_shape3(3, (5, 7)) == (3, 5, 7)
    assert arrays.component_shape3(2, (7,)) == (2, 1, 7)


def test_five_dimensions_and_bad_components_are_refused():
    with pytest.raises(ValueError, match="1-4 dimensional"):
        medkern.asarray(np.zeros((1, 2, 3, 4, 5), np.float32))
    d = medkern.asarray(np.zeros((2, 3, 4, 5), np.float32))
    with pytest.raises(ValueError, match="out of range"):
        d.component(2)
    with pytest.raises(ValueError, match="no component axis"):
        medkern.asarray(np.zeros(4, np.float32)).component(0)


def test_filters_refuse_four_dimensional_input_clearly():
    a = RNG.uniform(0, 1, (2, 3, 4, 5)).astype(np.float32)
    for x in (a, medkern.asarray(a)):
        with pytest.raises(ValueError, match="1 to 3 dimensions, got ndim=4"):
            mf.gaussian_filter(x, 1.0)
    img = RNG.uniform(0, 1, (4, 5)).astype(np.float32)
    with pytest.raises(ValueError, match="output has shape"):
        mf.gaussian_filter(medkern.asarray(img), 1.0, output=medkern.asarray(a))


def test_output_of_four_dimensional_shape_through_components():
    """A filter's result written into a component of a 4-D device array (the
    field -> warp -> filter pipeline's last step), with no host transfer between."""
    field = RNG.uniform(0, 1, (3, 4, 5, 6)).astype(np.float32)
    d = medkern.asarray(field)
    smoothed = [mf.uniform_filter(d.component(c), 3) for c in range(3)]
    for c in range(3):
        np.testing.assert_allclose(medkern.asnumpy(smoothed[c]), ndi.uniform_filter(field[c], 3),
                                   rtol=1e-6, atol=1e-6)


def test_batch_of_2d_images_in_one_call():
    """A (B, Y, X) stack filtered along axes=(1, 2) is B independent 2-D filters."""
    stack = RNG.uniform(0, 1, (3, 10, 12)).astype(np.float32)
    got = mf.gaussian_filter(medkern.asarray(stack), 1.5, axes=(1, 2))
    want = np.stack([ndi.gaussian_filter(s, 1.5) for s in stack])
    np.testing.assert_allclose(medkern.asnumpy(got), want, rtol=1e-5, atol=1e-6)


def test_dlpack_with_torch_cpu():
    torch = pytest.importorskip("torch")
    a = RNG.uniform(0, 1, (3, 4, 5, 6)).astype(np.float32)
    d = medkern.asarray(a)
    if ARCH == "cpu":
        t = torch.from_dlpack(d)  # shared
        assert tuple(t.shape) == a.shape
        np.testing.assert_array_equal(t.numpy(), a)
        t[1, 2, 3, 4] = -5.0
        assert medkern.asnumpy(d)[1, 2, 3, 4] == -5.0
        src = torch.from_numpy(a.copy())
        shared = medkern.asarray(src, copy=False)
        assert shared.shape == a.shape
        src[0, 0, 0, 0] = 42.0
        assert medkern.asnumpy(shared)[0, 0, 0, 0] == 42.0
    else:
        t = torch.from_dlpack(d.__dlpack__(dl_device=(1, 0)))  # a host copy
        np.testing.assert_array_equal(t.numpy(), a)
        with pytest.raises(BufferError):
            d.__dlpack__()
    back = medkern.asarray(torch.from_numpy(a))
    assert back.shape == a.shape
    np.testing.assert_array_equal(medkern.asnumpy(back), a)


def test_pooled_buffers_of_component_arrays():
    """A dead 4-D result's buffer returns to the pool under its 3-D key and is reused."""
    import gc
    a = np.ones((2, 3, 4, 5), np.float32)
    d = medkern.asarray(a)
    key_shape = tuple(d._buf.shape)
    del d
    gc.collect()
    buf = arrays.empty_buffer(key_shape, np.dtype(np.float32))
    assert tuple(buf.shape) == (6, 4, 5)
    arrays.release_buffer(buf)
