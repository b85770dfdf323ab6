"""Per-label measurements (``labels=``, ``index=``) against ``scipy.ndimage``.

Every function x label dtype x index kind (None, a present and an absent scalar, lists
with absent, negative and repeated labels, a 2-D index, an empty one, a long one) x input
dtype, compared with SciPy: the same result types (numpy scalar, array of ``index``'s
shape, tuple, list of tuples, object array with ``None``), integer results exact, floats
within the registry's tolerance. Then SciPy's corner cases one by one (result dtypes,
``labels > 0`` for ``index=None``, NaN, empty regions, broadcasting, histogram's index
rules, bad input), labels beyond 2**31 and uint64, device-resident inputs and labels,
the three scatter layouts and the CPU layout's determinism, and a small derandomized
hypothesis sweep.

All but three (input, labels) dtype pairs of the matrix and the sweep are marked
``exhaustive`` (the Vulkan run leaves them to the CPU run).
"""
import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import HealthCheck, given, settings, strategies as st

import medkern
import medkern.measurements as mm
from medkern import registry, runtime
from medkern.algorithms import regions
from medkern.kernels import scatter
from medkern.sample_data import label_image, random_image

STATS = ("sum", "sum_labels", "mean", "variance", "standard_deviation", "center_of_mass")
EXTREMES = ("minimum", "maximum")
POSITIONS = ("extrema", "minimum_position", "maximum_position")
FUNCS = STATS + EXTREMES + POSITIONS
SHAPE = (7, 9, 10)

#: label dtype -> (kind, values) of the label image, and the index entries to ask for
LABELS = {
    "bool": (None, None),
    "uint8": ("blobs", (1, 2, 3, 4, 5, 6)),
    "int16": ("noise", (-3, 2, 7, 300)),
    "int32": ("blobs", (1, 2, 3, 4, 5, 6)),
    "uint32": ("sparse", (5, 2**31 + 7, 2**32 - 1)),
    "int64": ("noise", (-2**40, -1, 3, 2**62)),       # a wide span: binary search
    "uint64": ("blobs", (1, 2**63 + 5, 2**64 - 1)),  # beyond int64
}
DTYPES = ("float32", "float64", "uint8", "int16", "int64")
#: (input, labels) pairs the Vulkan run keeps (Mesa's software Vulkan is slow per call)
FAST = {("float32", "int32"), ("float32", "uint64"), ("uint8", "int64")}


def make_labels(ldt, shape=SHAPE, seed=0):
    kind, values = LABELS[ldt]
    if ldt == "bool":
        return np.random.default_rng(seed).random(shape) > 0.4
    return label_image(shape, len(values), seed, kind, values=values, dtype=ldt)


def indexes(ldt, lab):
    """The index variants for labels of ``ldt``: (name, index)."""
    present = [int(v) for v in np.unique(lab)]
    first = present[-1]
    out = [("none", None), ("scalar", first), ("scalar-np", np.array(first, dtype=lab.dtype)[()]),
           ("absent-scalar", 8 if ldt != "bool" else 0 if 0 not in present else 1)]
    if ldt == "bool":
        out += [("list", [True, False, 1, 0, 2, -1]), ("array", np.array([1, 0, 1]))]
        return out
    # absent ones: negative, beyond the dtype's range, beyond 2**32
    absent = [v for v in (-7, 8, 300, 2**33 + 1, 2**63 - 1) if v not in present]
    seq = present[::-1] + absent + [present[0], 0]
    if ldt in ("int16", "int32", "int64"):
        seq += [-3]
    # one integer dtype for the whole list (numpy makes a Python list holding -7 and
    # 2**64 - 1 a float64 array, whose rounding SciPy then compares labels with)
    seq_arr = np.array([v for v in seq if v >= 0] if ldt == "uint64" else seq,
                       dtype=np.uint64 if ldt == "uint64" else np.int64)
    out += [("list", seq_arr), ("pylist", [v for v in seq if -2**53 < v < 2**53]),
            ("2d", np.array(present[:2] * 2).reshape(2, 2)), ("empty", []),
            ("long", list(range(-40, 360)))]
    return out


def first_positions(x, lab, index, maximum):
    """Flat positions of the first element equal to each region's extreme (no NaN)."""
    out = []
    for v in np.atleast_1d(np.asarray(index, dtype=object)).ravel():
        where = np.flatnonzero(lab == v) if not isinstance(v, bool) else np.flatnonzero(lab == v)
        if where.size == 0:
            out.append(0)
            continue
        vals = x.ravel()[where]
        out.append(where[np.argmax(vals) if maximum else np.argmin(vals)])
    return out


# --------------------------------------------------------------------------- comparison
def rtol_for(dtype, func):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return registry.TOLERANCE[dt.name]
    return 1e-12 if func in ("variance", "standard_deviation") else 0.0


def check_like(ours, ref, rtol, where=""):
    """``ours`` has ``ref``'s structure, types and dtypes; values within ``rtol``."""
    if ref is None:
        assert ours is None, f"{where}: {ours!r} where SciPy gives None"
        return
    if isinstance(ref, (tuple, list)):
        assert type(ours) is type(ref) and len(ours) == len(ref), \
            f"{where}: {type(ours).__name__} of {len(ours)} vs {type(ref).__name__} of {len(ref)}"
        for k, (o, r) in enumerate(zip(ours, ref)):
            check_like(o, r, rtol, f"{where}[{k}]")
        return
    if isinstance(ref, np.ndarray):
        assert isinstance(ours, np.ndarray), f"{where}: {type(ours).__name__} vs ndarray"
        assert ours.shape == ref.shape and ours.dtype == ref.dtype, \
            f"{where}: {ours.shape} {ours.dtype} vs {ref.shape} {ref.dtype}"
        if ref.dtype == object:
            for k, (o, r) in enumerate(zip(ours.ravel(), ref.ravel())):
                check_like(o, r, rtol, f"{where}[{k}]")
            return
    else:
        assert type(ours) is type(ref), f"{where}: {type(ours).__name__} vs {type(ref).__name__}"
    a, b = np.asarray(ours), np.asarray(ref)
    if b.dtype.kind in "iub":
        np.testing.assert_array_equal(a, b, err_msg=where)
        return
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{where}: NaN")
    ok = np.isfinite(b)
    np.testing.assert_array_equal(a[~ok & ~np.isnan(b)], b[~ok & ~np.isnan(b)], err_msg=where)
    if ok.any():
        scale = max(float(np.abs(b[ok]).max()), 1e-300)
        err = float(np.abs(a[ok].astype(np.float64) - b[ok]).max()) / scale
        assert err <= rtol, f"{where}: relative error {err:.3g} > {rtol}\n{ours!r}\n{ref!r}"


def call(mod, name, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 of absent labels, as SciPy
        try:
            return getattr(mod, name)(*args)
        except (ValueError, IndexError, TypeError) as exc:
            return exc


def compare_all(x, lab, index, where, funcs=FUNCS):
    for name in funcs:
        ours = call(mm, name, x, lab, index)
        ref = call(ndi, name, x, lab, index)
        w = f"{name}({where})"
        if isinstance(ref, Exception):
            if isinstance(ref, TypeError) and name in STATS and np.ndim(index) == 0 \
                    and not np.isscalar(index):
                continue  # SciPy's _stats fails on a 0-d array index; we treat it as a scalar
            assert isinstance(ours, ValueError) and isinstance(ref, ValueError), \
                f"{w}: {ours!r} vs SciPy's {ref!r}"
            continue
        assert not isinstance(ours, Exception), f"{w}: raised {ours!r}, SciPy gave {ref!r}"
        tied = np.dtype(x.dtype).kind != "f" and index is not None and np.ndim(index) > 0
        if name in POSITIONS and tied:
            # ties: SciPy picks any of equal extremes for a sequence; we pick the first
            if name == "extrema":
                check_like(ours[:2], ref[:2], 0.0, w)
                pos = (ours[2], ours[3])
            else:
                pos = (ours,) if name == "minimum_position" else (None, ours)
            for k, p in enumerate(pos):
                if p is None:
                    continue
                want = first_positions(x, lab, index, maximum=k == 1)
                got = [int(np.ravel_multi_index(t, x.shape)) for t in p]
                assert got == want, f"{w}: positions {got} != first extremes {want}"
            continue
        check_like(ours, ref, rtol_for(x.dtype, name), w)


def _matrix():
    for dt in DTYPES:
        for ldt in LABELS:
            marks = [] if (dt, ldt) in FAST else [pytest.mark.exhaustive]
            yield pytest.param(dt, ldt, id=f"{dt}-{ldt}", marks=marks)


@pytest.mark.parametrize("dtype, ldt", list(_matrix()))
def test_like_scipy(dtype, ldt):
    x = random_image(SHAPE, dtype, seed=1)
    lab = make_labels(ldt)
    before, lbefore = x.copy(), lab.copy()
    for name, index in indexes(ldt, lab):
        if name == "long" and dtype not in ("float32", "uint8"):
            continue
        compare_all(x, lab, index, f"{dtype} x, {ldt} labels, index {name}")
        hist_case(x, lab, index, f"{dtype} x, {ldt} labels, index {name}")
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(lab, lbefore)


def hist_case(x, lab, index, where):
    lo = float(x.min())
    hi = lo + 0.8 * (float(x.max()) - lo) + 1.0
    ours = call(mm, "histogram", x, lo, hi, 9, lab, index)
    ref = call(ndi, "histogram", x, lo, hi, 9, lab, index)
    if isinstance(ref, Exception) or isinstance(ours, Exception):
        if np.ndim(index) == 2 and not isinstance(ours, Exception):
            return  # SciPy cannot lay out a 2-D index here; we give an object array
        assert type(ours) is type(ref) or isinstance(ours, ValueError) and isinstance(ref, ValueError), \
            f"histogram({where}): {ours!r} vs SciPy's {ref!r}"
        return
    check_like(ours, ref, 0.0, f"histogram({where})")


def test_whole_array_new_functions():
    for dtype in ("float32", "int16"):
        x = random_image((6, 11), dtype, seed=2)
        for name in ("variance", "standard_deviation", "center_of_mass") + POSITIONS:
            check_like(getattr(mm, name)(x), getattr(ndi, name)(x), rtol_for(dtype, name), name)
        # the index is ignored without labels, as SciPy ignores it
        check_like(mm.variance(x, None, [1, 2]), ndi.variance(x, None, [1, 2]),
                   rtol_for(dtype, "variance"), "variance index without labels")


# --------------------------------------------------------------------------- SciPy's rules
def test_result_types_match_scipy():
    x = np.array([1, 2])
    assert type(mm.sum_labels(x, [1, 1], 1)) is np.int64 and mm.sum_labels(x, [1, 1], 1) == 3
    r = mm.sum_labels(x, [1, 1], [1])
    assert r.dtype == np.float64 and r.tolist() == [3.0]
    assert type(mm.sum(np.uint8([1, 2]), [1, 1], 1)) is np.uint64
    assert type(mm.sum(np.float32([1, 2]), [1, 1], None)) is np.float32
    assert type(mm.mean(np.int16([1, 2]), [1, 1], 1)) is np.float64
    # whole array: unchanged (Python numbers)
    assert type(mm.sum(x)) is int and type(mm.sum(np.float32([1, 2]))) is float
    # int64 sums wrap like numpy's (one region), float64 per label (a sequence)
    big = np.int64([2**62, 2**62, 1])
    assert mm.sum(big, [1, 1, 1], 1) == ndi.sum(big, [1, 1, 1], 1)
    np.testing.assert_array_equal(mm.sum(big, [1, 1, 1], [1]), ndi.sum(big, [1, 1, 1], [1]))
    u = np.uint64([2**63, 2**62, 1])
    assert mm.sum(u, [1, 1, 1], 1) == ndi.sum(u, [1, 1, 1], 1)
    np.testing.assert_array_equal(mm.sum(u, [1, 1, 1], [1]), ndi.sum(u, [1, 1, 1], [1]))


def test_index_none_takes_positive_labels_only():
    x = np.arange(6.0)
    lab = np.array([-1, 0, 1, 2, -5, 3])
    assert mm.sum(x, lab) == ndi.sum(x, lab) == 2 + 3 + 5
    assert mm.minimum(x, lab) == 2 and mm.maximum_position(x, lab) == (5,)


def test_absent_labels_give_scipys_defaults():
    x = np.float32([1, 2, 3])
    lab = [1, 1, 2]
    with pytest.warns(RuntimeWarning):
        assert np.isnan(mm.mean(x, lab, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m = mm.mean(x, lab, [1, 5])
        v = mm.variance(x, lab, [5, 2])
        c = mm.center_of_mass(x, lab, [5])
    assert m[0] == 1.5 and np.isnan(m[1]) and np.isnan(v[0]) and v[1] == 0.0
    assert np.isnan(c[0][0])
    assert mm.sum(x, lab, [5]).tolist() == [0.0] and mm.minimum(x, lab, [5, 2]).tolist() == [0, 3]
    assert mm.maximum_position(x, lab, [5]) == [(0,)]
    assert mm.histogram(x, 0, 4, 2, lab, 5) is None
    h = mm.histogram(x, 0, 4, 2, lab, [2, 5])
    assert h.dtype == object and h[1] is None and h[0].tolist() == [0, 1]
    # a label present but outside the histogram's range is present: zeros, not None
    assert mm.histogram(x, 10, 20, 2, lab, 2).tolist() == [0, 0]


def test_empty_single_region_raises_like_scipy():
    x = np.int16([1, 2])
    for name in ("minimum", "maximum", "extrema", "minimum_position", "maximum_position"):
        with pytest.raises(ValueError):
            getattr(ndi, name)(x, [1, 1], 2)
        with pytest.raises(ValueError, match="empty region"):
            getattr(mm, name)(x, [1, 1], 2)
        with pytest.raises(ValueError, match="empty region"):
            getattr(mm, name)(x, [0, 0])


def test_nan_like_scipy():
    x = np.array([np.nan, 2.0, 4.0, np.nan, 1.0, 7.0])
    lab = np.array([1, 1, 1, 2, 2, 3])
    # a sequence: SciPy's sort puts NaN last: min skips NaN unless all are, max is NaN
    np.testing.assert_array_equal(mm.minimum(x, lab, [1, 2, 3]), ndi.minimum(x, lab, [1, 2, 3]))
    np.testing.assert_array_equal(mm.maximum(x, lab, [1, 2, 3]), ndi.maximum(x, lab, [1, 2, 3]))
    assert mm.minimum_position(x, lab, [1, 2]) == [(1,), (4,)]
    assert mm.maximum_position(x, lab, [1, 2, 3]) == [(0,), (3,), (5,)]
    # one region: NaN propagates (numpy's min); the position is the first NaN's (SciPy
    # raises IndexError there)
    assert np.isnan(mm.minimum(x, lab, 1)) and np.isnan(ndi.minimum(x, lab, 1))
    assert np.isnan(mm.maximum(x, lab)) and mm.minimum_position(x, lab, 1) == (0,)
    assert mm.minimum_position(x, lab, 3) == (5,)
    all_nan = np.array([np.nan, np.nan])
    assert np.isnan(mm.minimum(all_nan, [1, 1], [1])[0])
    assert np.isnan(mm.sum(x, lab, [1])[0]) and np.isnan(ndi.sum(x, lab, [1])[0])
    np.testing.assert_array_equal(mm.histogram(x, 0, 8, 4, lab, 1), ndi.histogram(x, 0, 8, 4, lab, 1))
    # -0.0 and 0.0 are one value: the first of them is the position
    z = np.array([1.0, 0.0, -0.0, 3.0])
    assert mm.minimum_position(z, [1, 1, 1, 1], [1]) == [(1,)]


def test_labels_broadcast_and_shape_errors():
    x = np.arange(12.0).reshape(3, 4)
    row = np.array([[1, 2, 2, 0]])
    for lab in (row, row[0], np.array(1)):
        check_like(mm.sum(x, lab, [1, 2]), ndi.sum(x, lab, [1, 2]), 1e-12, f"labels {np.shape(lab)}")
        check_like(mm.extrema(x, lab, 1), ndi.extrema(x, lab, 1), 1e-12, "extrema")
    with pytest.raises(ValueError, match="labels"):
        mm.sum(x, np.ones((3, 5), int), [1])
    with pytest.raises(ValueError, match="labels"):  # would enlarge the input (SciPy broadcasts it)
        mm.sum(x, np.ones((2, 3, 4), int), [1])
    with pytest.raises(ValueError, match="labels"):
        mm.mean(medkern.asarray(x), medkern.asarray(np.ones((4, 3), np.int32)), 1)


def test_bad_labels_and_index():
    x = np.arange(6.0)
    lab = np.array([1, 1, 2, 2, 3, 3])
    with pytest.raises(TypeError, match="labels"):
        mm.extrema(x, lab.astype(np.complex64), 1)
    with pytest.raises(TypeError, match="labels"):
        mm.mean(x, object(), 1)
    with pytest.raises(ValueError, match="index"):
        mm.sum(x, lab, [1.5])
    with pytest.raises(ValueError, match="index"):
        mm.mean(x, lab, np.nan)
    with pytest.raises(TypeError, match="index"):
        mm.sum(x, lab, "a")
    with pytest.raises(TypeError, match="index"):
        mm.minimum(x, lab, [1, "a"])
    with pytest.raises(ValueError, match="index"):
        mm.sum(x, lab, [1, [2, 3]])
    # integral floats and bools are labels too (as in SciPy)
    check_like(mm.sum(x, lab, [1.0, 3.0]), ndi.sum(x, lab, [1.0, 3.0]), 0, "float index")
    check_like(mm.sum(x, lab, np.array([True, False])), ndi.sum(x, lab, np.array([True, False])),
               0, "bool index")
    # histogram: SciPy's labeled_comprehension rules
    with pytest.raises(ValueError, match="index"):
        mm.histogram(x, 0, 6, 3, None, [1])
    for lab2, index in ((np.uint8(lab), [300]), (np.uint8(lab), -1), (lab > 1, [2]), (lab, [1.5])):
        with pytest.raises(ValueError):
            ndi.histogram(x, 0, 6, 3, lab2, index)
        with pytest.raises(ValueError, match="index"):
            mm.histogram(x, 0, 6, 3, lab2, index)
    with pytest.raises(ValueError, match="index"):
        mm.histogram(x, 0, 6, 3, lab, [])
    # ... and its wrap-around of 64-bit values: -1 is 2**64 - 1 for uint64 labels
    u = np.array([1, 2**64 - 1, 2**64 - 1, 0, 0, 0], np.uint64)
    check_like(mm.histogram(x, 0, 6, 3, u, [-1, 1]), ndi.histogram(x, 0, 6, 3, u, [-1, 1]), 0,
               "uint64 wrap")
    # elsewhere labels compare exactly: -1 is no uint64 label (an object array keeps the
    # Python ints exact; numpy would make [-1, 2**64 - 1] a float64 array)
    assert mm.sum(x, u, np.array([-1, 2**64 - 1], dtype=object)).tolist() == [0.0, 3.0]
    check_like(mm.sum(x, u, np.uint64([2**64 - 1, 1])), ndi.sum(x, u, np.uint64([2**64 - 1, 1])),
               0, "exact")


# ------------------------------------------------------------------ SciPy's other inputs
#: (name, args) after the input: whole array, labels, a scalar index, a sequence
_CALLS = [("whole", ()), ("labels", ([1, 2],)), ("scalar", ([1, 2], 2)),
          ("sequence", ([1, 2], [1, 2, 3]))]


def _same_as_scipy(name, x, *args, rtol=1e-12, where=""):
    ours, ref = getattr(mm, name)(x, *args), getattr(ndi, name)(x, *args)
    if name in ("sum", "sum_labels") and len(args) < 1:
        # the whole array's sum is a Python int/float (module docs); SciPy's numpy's
        assert ours == ref and isinstance(ours, (int, float)), where
        return
    check_like(ours, ref, rtol, where)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # absent labels
@pytest.mark.parametrize("name", FUNCS)
def test_bool_input_like_scipy(name):
    # bool data counts as 0/1; minima and maxima are bool, one region's sum int64 (numpy's)
    x = np.array([[True, False], [True, True]])
    before = x.copy()
    for kind, args in _CALLS:
        if name in POSITIONS and kind == "sequence":
            continue  # SciPy picks any of tied positions for a sequence (module docs)
        _same_as_scipy(name, x, *args, where=f"{name} {kind}")
    np.testing.assert_array_equal(x, before)
    if name in POSITIONS:  # ... medkern the first: check against the one SciPy gives alone
        ours = getattr(mm, name)(x, [1, 2], [1, 2, 3])
        ref = [getattr(ndi, name)(x, [1, 2], i) if i < 3 else None for i in (1, 2, 3)]
        seq = ours if name != "extrema" else list(zip(*ours[2:]))
        for k, r in enumerate(ref[:2]):
            assert seq[k] == (r if name != "extrema" else r[2:]), f"{name} label {k + 1}"
    assert mm.mean([True, False, True]) == ndi.mean([True, False, True])  # a sequence too


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # absent labels
@pytest.mark.parametrize("name", FUNCS + ("histogram",))
def test_0d_input_like_scipy(name):
    # a 0-d array is one element; its position is () (SciPy's centre of mass raises
    # IndexError there: medkern gives () too)
    for dtype in ("uint8", "float64"):
        x = np.array(3, dtype)
        for kind, args in (("whole", ()), ("labels", (np.array(1),)), ("scalar", (1, 1)),
                           ("sequence", (1, [1, 2]))):
            where = f"{name} {dtype} {kind}"
            if name == "histogram":
                check_like(mm.histogram(x, 0, 5, 4, *args), ndi.histogram(x, 0, 5, 4, *args),
                           0, where)
            elif name == "center_of_mass":
                expected = () if kind != "sequence" else [(), ()]
                assert mm.center_of_mass(x, *args) == expected, where
            else:
                _same_as_scipy(name, x, *args, where=where)


@pytest.mark.parametrize("name", FUNCS + ("histogram",))
def test_empty_input_like_scipy(name):
    # no element: sums 0, means/variances/centres NaN, extremes of one region ValueError
    # (SciPy's answers; for a sequence index SciPy raises, medkern gives the absent-label
    # defaults)
    for x, lab in ((np.zeros((0, 4), np.int16), np.ones((0, 4), bool)),
                   (np.zeros(0, np.float32), np.zeros(0, np.int32))):
        for kind, args in (("whole", ()), ("labels", (lab,)), ("scalar", (lab, 1))):
            where = f"{name} {x.dtype} {kind}"
            if name == "histogram":
                check_like(mm.histogram(x, 0, 5, 4, *args), ndi.histogram(x, 0, 5, 4, *args),
                           0, where)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # 0 / 0
                try:
                    ref = getattr(ndi, name)(x, *args)
                except ValueError:
                    with pytest.raises(ValueError, match="input|empty"):
                        getattr(mm, name)(x, *args)
                    continue
                ours = getattr(mm, name)(x, *args)
            if name in ("sum", "sum_labels") and kind == "whole":
                assert ours == ref == 0
            else:
                check_like(ours, ref, 0, where)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if name in STATS:
                seq = getattr(mm, name)(x, lab, [1, 2])
                assert len(seq) == 2
    with pytest.raises(ValueError, match="input"):  # still 1-3 D
        mm.sum(np.zeros((0, 1, 2, 3)))
    d = medkern.asarray(np.zeros((0, 3), np.float32))  # a device array without elements
    assert mm.sum(d) == 0 and mm.histogram(d, 0, 1, 2).tolist() == [0, 0]


def test_float_labels_like_scipy():
    # SciPy compares float labels with index by value (2.5 is a label); index=None takes
    # the positive ones; NaN labels match nothing
    x = np.arange(24.0).reshape(4, 6)
    lab = np.array([1.0, 2.5, 0.0, 4.5, -2.5, np.nan])
    for name in FUNCS + ("histogram",):
        for index in (None, 2.5, 4.5, [1.0, 4.5, 2.5, 7.0, -2.5, 0.0], [[2.5], [1]],
                      np.float32(2.5), 1):
            if name in POSITIONS and np.ndim(index) > 0:
                index = [2.5, 7.0, 1.0]  # no ties in these regions
            if name == "histogram" and np.ndim(index) > 1:
                continue  # SciPy's labeled_comprehension fails on a 2-D index of float labels
            args = (x, 0, 30, 4, lab, index) if name == "histogram" else (x, lab, index)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # NaN of absent labels
                check_like(getattr(mm, name)(*args), getattr(ndi, name)(*args),
                           1e-12, f"{name} {index!r}")
    # values compare in numpy's common dtype: a float32 label 0.1 is not the float64 0.1
    # of an array, but is the (weak) Python float 0.1
    f32 = np.array([0.1, 0.1, 0.5, 2.0], np.float32)
    v = np.arange(4.0)
    for index in ([0.1, 0.5, 2], [np.float32(0.1)], 0.1, np.float64(0.1), 2):
        check_like(mm.sum(v, f32, index), ndi.sum(v, f32, index), 0, f"float32 {index!r}")
    assert mm.maximum_position(x, medkern.asarray(lab.astype(np.float32)), 4.5) == \
        ndi.maximum_position(x, lab, 4.5)  # device labels are read back


def test_large_labels_and_long_index_lists():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 50)).astype(np.float64)
    values = np.array([-2**62, -2**31, -1, 2**31, 2**31 + 1, 2**40, 2**62 + 3], np.int64)
    lab = values[rng.integers(0, len(values), x.shape)]
    index = np.concatenate([values, values + 1, rng.integers(-2**62, 2**62, 2000)])
    for name in ("sum", "mean", "variance", "minimum", "maximum", "center_of_mass"):
        check_like(getattr(mm, name)(x, lab, index), call(ndi, name, x, lab, index), 1e-10, name)
    # many labels, dense range, most of them absent
    lab2 = rng.integers(0, 30000, x.shape).astype(np.int32)
    check_like(mm.mean(x, lab2, np.arange(-5, 40000)), call(ndi, "mean", x, lab2, np.arange(-5, 40000)),
               1e-10, "dense")
    ul = (np.uint64(2**63) + rng.integers(0, 5, x.shape).astype(np.uint64))
    check_like(mm.extrema(x, ul, np.uint64(2**63) + np.arange(6, dtype=np.uint64)),
               ndi.extrema(x, ul, np.uint64(2**63) + np.arange(6, dtype=np.uint64)), 0, "uint64")


def test_device_arrays_and_volumes():
    x = random_image(SHAPE, "float32", seed=4)
    lab = make_labels("int32", seed=4)
    dx, dl = medkern.asarray(x), medkern.asarray(lab)
    for name in FUNCS:
        ref = getattr(mm, name)(x, lab, [1, 2, 9])
        check_like(getattr(mm, name)(dx, dl, [1, 2, 9]), ref, 0, f"{name} device")
        check_like(getattr(mm, name)(dx, lab, [1, 2, 9]), ref, 0, f"{name} device, numpy labels")
    np.testing.assert_array_equal(medkern.asnumpy(dl), lab)
    vol = medkern.Volume(x.copy(), spacing=(1.0, 2.0, 3.0))
    check_like(mm.center_of_mass(vol, lab, 3), mm.center_of_mass(x, lab, 3), 0, "volume")
    h = mm.histogram(dx, 0, 3000, 5, dl, 2)
    np.testing.assert_array_equal(h, ndi.histogram(x, 0, 3000, 5, lab, 2))


# --------------------------------------------------------------------------- layouts
@pytest.mark.parametrize("layout", ["slots", "rows", "unrolled"])
def test_every_layout_like_scipy(layout, monkeypatch):
    """The CPU's two layouts and the GPUs' one give SciPy's results (the GPUs' on every
    arch; the CPU's on the CPU: integer atomics inside a run-time loop, as "rows" has them,
    are miscompiled by Mesa's Vulkan)."""
    if layout != "unrolled" and not runtime.is_cpu():
        pytest.skip("a CPU layout")
    monkeypatch.setattr(scatter, "default_layout", lambda kind, dtype: layout)
    x = np.random.default_rng(3).normal(size=(5, 13, 17))
    lab = make_labels("int16", (5, 13, 17), seed=3)
    for index in (None, 7, [300, 2, -3, 7, 5]):
        compare_all(x, lab, index, f"layout {layout}, index {index}")


def test_cpu_float_sums_are_deterministic():
    if not runtime.is_cpu():
        pytest.skip("the CPU arch's slots layout; GPU float sums are atomic (order varies)")
    rng = np.random.default_rng(8)
    x = rng.normal(size=(64, 96, 97))
    lab = rng.integers(0, 50, x.shape).astype(np.int32)  # runs of one element: many flushes
    first = mm.sum(x, lab, np.arange(50))
    for _ in range(3):
        np.testing.assert_array_equal(mm.sum(x, lab, np.arange(50)), first)
    np.testing.assert_allclose(first, ndi.sum(x, lab, np.arange(50)), rtol=1e-12)


def test_too_many_bins_for_slots_falls_back_to_rows(monkeypatch):
    monkeypatch.setattr(scatter, "SLOT_BYTES", 64)
    x = random_image((9, 10), "float64", seed=9)
    lab = make_labels("int32", (9, 10), seed=9)
    compare_all(x, lab, [1, 2, 3, 4, 5, 6], "rows fallback", funcs=STATS)


# --------------------------------------------------------------------------- sweep
@pytest.mark.exhaustive  # the CPU run (about 8 s); the Vulkan run has test_like_scipy
@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**31 - 1), ndim=st.integers(1, 3),
       dtype=st.sampled_from(["float32", "uint8"]), ldt=st.sampled_from(["int32", "int64"]),
       nlab=st.integers(1, 9), kind=st.sampled_from(["blobs", "sparse", "noise"]))
def test_sweep(seed, ndim, dtype, ldt, nlab, kind):
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 9, ndim))
    x = random_image(shape, dtype, seed=seed)
    values = rng.choice(np.arange(-4, 12), nlab, replace=False) if ldt == "int64" else None
    lab = label_image(shape, nlab, seed, kind, values=values, dtype=ldt)
    index = rng.integers(-5, 13, int(rng.integers(1, 6))).tolist()
    for idx in (None, index, index[0]):
        compare_all(x, lab, idx, f"shape {shape} {dtype} {ldt} {kind} index {idx}")
        hist_case(x, lab, idx, f"shape {shape} {dtype} {ldt} {kind} index {idx}")
