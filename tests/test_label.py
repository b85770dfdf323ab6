"""``medkern.segmentation.label`` equals ``scipy.ndimage.label`` exactly (labels, numbering,
dtype, count), on adversarial inputs, on whatever arch runs (CPU and Vulkan)."""
import numpy as np
import pytest
import scipy.ndimage as ndi

import medkern
import medkern.measurements as mm
import medkern.segmentation as ms
from medkern import Volume, arrays
from medkern.kernels import propagate
from medkern.sample_data import binary_mask

#: Sweeps that may change something, whatever the shape: pointer jumping settles the
#: components of these inputs in a few sweeps (a plain min-propagation would need
#: one sweep per step along the longest path: thousands for the spirals).
FEW_SWEEPS = 8


def same(ours, ref):
    (a, n), (b, m) = ours, ref
    a = medkern.asnumpy(a) if isinstance(a, medkern.DeviceArray) else a
    assert n == m
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def spiral(n):
    """A one-element-wide square spiral path from the centre out (arms one element apart)."""
    a = np.zeros((n, n), bool)
    y = x = n // 2
    a[y, x] = True
    dirs, step, k = [(0, 1), (1, 0), (0, -1), (-1, 0)], 2, 0
    while True:
        for _ in range(2):
            dy, dx = dirs[k % 4]
            for _ in range(step):
                y, x = y + dy, x + dx
                if not (0 <= y < n and 0 <= x < n):
                    return a
                a[y, x] = True
            k += 1
        step += 2


def snake(n):
    """Rows joined alternately at their right and left ends: one path through everything."""
    a = np.zeros((n, n), bool)
    a[::2] = True
    for r in range(1, n, 2):
        a[r, -1 if (r // 2) % 2 == 0 else 0] = True
    return a


@pytest.mark.parametrize("shape", [(40,), (23, 30), (9, 12, 11)])
@pytest.mark.parametrize("density", [0.1, 0.5, 0.9])
def test_matches_scipy_every_connectivity(shape, density):
    x = binary_mask(shape, density, seed=len(shape))
    for conn in range(1, len(shape) + 1):
        s = ndi.generate_binary_structure(len(shape), conn)
        same(ms.label(x, s), ndi.label(x, s))
    same(ms.label(x), ndi.label(x))


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int64", "uint64", "float32", "float64"])
def test_any_dtype_is_read_as_nonzero(dtype):
    x = binary_mask((17, 19), 0.5, seed=2, dtype=dtype)
    if np.dtype(dtype).kind == "f":
        x[0, :4] = [np.nan, -0.0, np.inf, 0.0]  # NaN and inf are features, -0.0 is not
    before = x.copy()
    same(ms.label(x), ndi.label(x))
    np.testing.assert_array_equal(x, before)


def test_any_layout():
    x = binary_mask((12, 14, 16), 0.5, seed=1)
    for v in (x[::2, 1:, ::-1], np.asfortranarray(x), x[..., 3]):
        same(ms.label(v), ndi.label(v))
    big = x.astype(">i4")  # SciPy refuses big-endian data; medkern reads it
    same(ms.label(big), ndi.label(x))


def test_lists_float16_and_mixed_signs():
    same(ms.label([[1, 0, -1], [0, 0, 2]]), ndi.label([[1, 0, -1], [0, 0, 2]]))
    h = np.array([[0, 0.5, 0], [1e-4, 0, 0]], np.float16)
    same(ms.label(h), ndi.label(h.astype(np.float32)))


def test_trivial_inputs():
    for x in (np.zeros((5, 6)), np.ones((5, 6, 2)), np.ones(1), np.zeros(1), np.ones((1, 1))):
        same(ms.label(x), ndi.label(x))
    # no element: no feature; a 0-d array: one label if nonzero (as SciPy, output= too)
    for x in (np.zeros((0,)), np.zeros((3, 0)), np.array(2.0), np.array(0), np.array(True)):
        for output in (None, np.uint8, "f"):
            same(ms.label(x, output=output), ndi.label(x, output=output))
    out = np.zeros((), np.int16)
    assert ms.label(np.array(7), output=out) == 1 and out == 1
    with pytest.raises(ValueError, match="structure"):
        ms.label(np.array(1.0), np.ones((3, 3)))
    with pytest.raises(ValueError, match="output"):
        ms.label(np.zeros((0, 3)), output=np.zeros((3, 0), np.int32))
    with pytest.raises(ValueError, match="input"):
        ms.label(np.zeros((0, 2, 2, 2)))
    one = np.zeros((7, 8, 9), bool)
    one[6, 7, 8] = True  # a single voxel in the last corner
    same(ms.label(one), ndi.label(one))


def test_checkerboard_merges_only_with_full_connectivity():
    for shape in ((12, 13), (6, 7, 8)):
        x = (np.indices(shape).sum(axis=0) % 2).astype(bool)
        a, n = ms.label(x)
        assert n == x.sum()  # faces only: every foreground element alone
        same((a, n), ndi.label(x))
        full = np.ones((3,) * len(shape))
        same(ms.label(x, full), ndi.label(x, full))
        assert ms.label(x, full)[1] == 1


@pytest.mark.parametrize("make", [spiral, snake, lambda n: snake(n).T.copy(),
                                  lambda n: spiral(n)[::-1, ::-1].copy()])
def test_long_paths_settle_in_few_sweeps(make):
    x = make(127)
    for s in (None, np.ones((3, 3))):
        same(ms.label(x, s), ndi.label(x, s))
        stats = propagate.last_run
        assert stats.changing <= FEW_SWEEPS, stats
        assert stats.readbacks == -(-stats.sweeps // stats.every)  # one per `every` sweeps
        if medkern.runtime.arch() != "cpu":  # where a read-back waits for the device
            assert stats.readbacks < stats.sweeps


@pytest.fixture
def gpu_layout(monkeypatch):
    """Run the GPUs' kernels (one thread per element, no row walks) on whatever arch runs."""
    from medkern.algorithms.segmentation import _label
    monkeypatch.setattr(_label, "_ROWS", False)


@pytest.mark.parametrize("make", [spiral, snake, lambda n: binary_mask((n, n), 0.55, seed=n)])
def test_gpu_layout_matches_scipy(gpu_layout, make):
    x = make(63)
    for s in (None, np.ones((3, 3)), [[0, 1, 0], [0, 1, 0], [0, 1, 0]]):
        same(ms.label(x, s), ndi.label(x, s))
        assert propagate.last_run.changing <= 4 * FEW_SWEEPS
    z = binary_mask((7, 20, 21), 0.5, seed=4)
    same(ms.label(z, np.ones((3, 3, 3))), ndi.label(z, np.ones((3, 3, 3))))


def test_stacked_spirals_in_3d():
    x = np.zeros((9, 63, 63), bool)
    x[::2] = spiral(63)
    x[1::2, 31, 31] = True  # the spirals joined through their centres
    same(ms.label(x), ndi.label(x))
    assert propagate.last_run.changing <= FEW_SWEEPS


def test_many_labels_and_run_to_run_identity():
    x = binary_mask((20, 30, 31), 0.3, seed=9)
    first = ms.label(x)
    for _ in range(3):
        same(ms.label(x), first)
    same(first, ndi.label(x))


def test_output_dtype_and_array():
    x = binary_mask((15, 16), 0.4, seed=4)
    ref, n = ndi.label(x)
    for dt in (np.uint8, np.int16, np.uint32, np.int64, np.float32, np.float64):
        same(ms.label(x, output=dt), ndi.label(x, output=dt))
    out = np.full(x.shape, 77, np.int16)
    assert ms.label(x, output=out) == n  # SciPy returns only the count then
    np.testing.assert_array_equal(out, ref)
    y = x.astype(np.int32)  # in place, as SciPy allows
    assert ms.label(y, output=y) == n
    np.testing.assert_array_equal(y, ref)
    with pytest.raises(ValueError, match="output"):
        ms.label(x, output=np.zeros((2, 2), np.int32))


def test_output_too_small_raises_and_writes_nothing():
    x = np.zeros(600, bool)
    x[::2] = True  # 300 labels
    with pytest.raises(RuntimeError, match="bit-depth"):
        ndi.label(x, output=np.int8)
    with pytest.raises(RuntimeError, match="bit-depth.*int8.*300"):
        ms.label(x, output=np.int8)
    out = np.full(600, 5, np.uint8)
    with pytest.raises(RuntimeError, match="bit-depth"):
        ms.label(x, output=out)
    assert (out == 5).all()
    same(ms.label(x, output=np.int16), ndi.label(x, output=np.int16))


@pytest.mark.parametrize("structure, match", [
    (np.ones((3, 3, 3)), "rank"),
    (np.ones((3, 5)), "size 3"),
    (np.ones((5, 5)), "size 3"),
    ([[0, 0, 0], [0, 1, 1], [0, 0, 0]], "centrosymmetric"),
    ([[1, 0, 1], [0, 1, 0], [0, 0, 0]], "centrosymmetric"),  # mirror- but not centro-symmetric
])
def test_bad_structure_names_it(structure, match):
    x = np.ones((4, 4))
    with pytest.raises(ValueError, match=f"structure.*{match}"):
        ms.label(x, structure)


def test_bad_input():
    with pytest.raises(TypeError, match="complex"):
        ms.label(np.ones((3, 3), complex))
    with pytest.raises(ValueError, match="input"):
        ms.label(np.ones((2, 2, 2, 2)))
    with pytest.raises(TypeError):
        ms.label("not an array")


def test_partial_structures_centre_ignored():
    x = binary_mask((13, 14), 0.6, seed=5)
    for s in (np.zeros((3, 3)), [[0, 1, 0], [1, 0, 1], [0, 1, 0]],
              [[0, 1, 0], [0, 1, 0], [0, 1, 0]],  # columns only: rows' runs do not connect
              [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[0, 0, 1], [0, 0, 0], [1, 0, 0]]):
        same(ms.label(x, s), ndi.label(x, s))
        same(ms.label(np.ones((3, 4)), s), ndi.label(np.ones((3, 4)), s))
    z = binary_mask((5, 6, 7), 0.6, seed=5)
    s = np.zeros((3, 3, 3))
    s[0, 1, 1] = s[2, 1, 1] = s[1, 0, 2] = s[1, 2, 0] = 1
    same(ms.label(z, s), ndi.label(z, s))


def test_device_array_in_device_array_out():
    x = binary_mask((11, 12, 13), 0.5, seed=6)
    d = medkern.asarray(x)
    labels, n = ms.label(d, np.ones((3, 3, 3)))
    assert isinstance(labels, medkern.DeviceArray) and labels.dtype == np.int32
    same((labels, n), ndi.label(x, np.ones((3, 3, 3))))
    out = medkern.asarray(np.zeros(x.shape, np.uint16))
    assert ms.label(d, output=out) == ndi.label(x)[1]
    np.testing.assert_array_equal(medkern.asnumpy(out), ndi.label(x)[0])


def test_volume_in_volume_out():
    x = binary_mask((6, 7, 8), 0.5, seed=3)
    vol = Volume(x, spacing=(2.5, 0.8, 0.6), origin=(-10.0, 20.5, 3.0), series_uid="1.2.3")
    out, n = ms.label(vol)
    assert isinstance(out, Volume)
    assert out.spacing == vol.spacing and out.origin == vol.origin
    np.testing.assert_array_equal(out.direction, vol.direction)
    assert out.derived_from == "1.2.3"
    same((out.array, n), ndi.label(x))


def test_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    x = binary_mask((9, 10), 0.5, seed=8)
    labels, n = ms.label(torch.from_numpy(x.astype(np.float32)))
    assert isinstance(labels, torch.Tensor) and labels.dtype == torch.int32
    same((labels.numpy(), n), ndi.label(x))


def test_public_paths_and_no_leaked_buffers():
    assert mm.label is ms.label and medkern.segmentation.label is ms.label
    x = binary_mask((30, 31), 0.5, seed=1)
    for _ in range(2):  # compiling calls: Taichi keeps their arguments (not pooled then)
        ms.label(x)
    before = arrays.pool_stats()
    for _ in range(3):
        ms.label(x)
    after = arrays.pool_stats()
    assert after["leased"] == before["leased"]
    assert after["allocations"] == before["allocations"]  # every buffer came from the pool


def test_generate_binary_structure_as_scipy():
    for rank in range(0, 4):
        for conn in range(-1, 5):
            ours = ms.generate_binary_structure(rank, conn)
            ref = ndi.generate_binary_structure(rank, conn)
            assert ours.dtype == ref.dtype and ours.shape == ref.shape
            np.testing.assert_array_equal(ours, ref)
    with pytest.raises(TypeError, match="rank"):
        ms.generate_binary_structure(2.5, 1)
