"""Edge cases and bad input of the labelled-object functions (find_objects,
relabel_sequential, clear_border, keep_largest_component, regionprops_table): the
references' answers where they answer, clear errors naming the parameter where not.
The parity on real data is tests/test_segmentation_data.py."""
import numpy as np
import pytest
import scipy.ndimage as ndi
from skimage import measure, segmentation as sks

import medkern
import medkern.segmentation as ms

LAB = np.array([[0, 2, 2, 0, 0],
                [0, 0, 0, 0, 5],
                [7, 0, 5, 5, 5]], np.int32)


def test_find_objects_small_cases_as_scipy():
    assert ms.find_objects(np.array(3)) == ndi.find_objects(np.array(3))
    assert ms.find_objects(np.zeros((4, 5), int)) == []
    assert ms.find_objects(LAB, max_label=9) == ndi.find_objects(LAB, max_label=9)
    f = LAB.astype(np.float64) + 0.5
    assert ms.find_objects(f, max_label=7) == ndi.find_objects(f, max_label=7)
    b = LAB > 0
    assert ms.find_objects(b, max_label=2) == ndi.find_objects(b, max_label=2)
    neg = LAB.copy()
    neg[0, 0] = -4
    assert ms.find_objects(neg) == ndi.find_objects(neg)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: ms.find_objects(LAB.astype(float)), TypeError, "max_label"),
    (lambda: ms.find_objects(LAB > 0), TypeError, "max_label"),
    (lambda: ms.find_objects(LAB.astype(complex)), TypeError, "input"),
    (lambda: ms.find_objects(LAB, max_label=1.5), TypeError, "max_label"),
    (lambda: ms.relabel_sequential(LAB, offset=0), ValueError, "offset"),
    (lambda: ms.relabel_sequential(LAB - 1), ValueError, "negative"),
    (lambda: ms.relabel_sequential(LAB.astype(np.float32)), TypeError, "label_field"),
    (lambda: ms.clear_border(LAB, buffer_size=3), ValueError, "buffer_size"),
    (lambda: ms.clear_border(LAB, buffer_size=-1), ValueError, "buffer_size"),
    (lambda: ms.clear_border(LAB, mask=np.ones((3, 5))), TypeError, "mask"),
    (lambda: ms.clear_border(LAB, mask=np.ones((3, 4), bool)), ValueError, "mask"),
    (lambda: ms.clear_border(LAB.astype(np.uint8), bgval=-1), ValueError, "bgval"),
    (lambda: ms.clear_border(LAB, bgval=2.5), ValueError, "bgval"),
    (lambda: ms.keep_largest_component(LAB, structure=np.ones((3, 3, 3))), ValueError,
     "structure"),
    (lambda: ms.regionprops_table(LAB, properties=("perimeter",)), ValueError, "perimeter"),
    (lambda: ms.regionprops_table(LAB > 0), TypeError, "label_image"),
    (lambda: ms.regionprops_table(LAB, properties=("intensity_mean",)), ValueError,
     "intensity_image"),
    (lambda: ms.regionprops_table(LAB, np.ones((3, 4)), properties=("intensity_max",)),
     ValueError, "intensity_image"),
    (lambda: ms.regionprops_table(LAB, properties="label"), TypeError, "properties"),
    (lambda: ms.regionprops_table(LAB[0]), TypeError, "label_image"),
])
def test_bad_input_names_the_parameter(call, exc, match):
    before = LAB.copy()
    with pytest.raises(exc, match=match):
        call()
    np.testing.assert_array_equal(LAB, before)


def test_relabel_sequential_dtypes_and_maps_as_skimage():
    for dt in (np.uint8, np.int16, np.uint32, np.int64):
        x = (LAB * 30).astype(dt)
        for offset in (1, 5, 250):
            ours, theirs = ms.relabel_sequential(x, offset), sks.relabel_sequential(x, offset)
            np.testing.assert_array_equal(ours[0], theirs[0])
            assert ours[0].dtype == theirs[0].dtype, (dt, offset)
            for a, b in zip(ours[1:], theirs[1:]):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
                assert len(a) == len(b)
                np.testing.assert_array_equal(a[np.array([0, 60, 61])], b[np.array([0, 60, 61])])
    no_zero = LAB + 1
    for a, b in zip(ms.relabel_sequential(no_zero), sks.relabel_sequential(no_zero)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    zeros = np.zeros((3, 4), np.int32)
    for a, b in zip(ms.relabel_sequential(zeros), sks.relabel_sequential(zeros)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_clear_border_in_place_out_and_bool():
    x = LAB.copy()
    r = ms.clear_border(x, out=x)
    assert r is x
    np.testing.assert_array_equal(x, sks.clear_border(LAB))
    b = LAB > 0
    np.testing.assert_array_equal(ms.clear_border(b), sks.clear_border(b))
    assert ms.clear_border(b).dtype == bool
    v = medkern.Volume(b, spacing=(1.0, 2.0), series_uid="1.2.3")
    cleared = ms.clear_border(v)  # a bool Volume comes back bool too, a derived series
    assert cleared.array.dtype == bool and cleared.derived_from == "1.2.3"
    np.testing.assert_array_equal(cleared.array, sks.clear_border(b))


def test_regionprops_empty_and_sparse_labels():
    z = np.zeros((4, 5), np.int32)
    props = ("label", "area", "bbox", "centroid", "intensity_mean")
    ours = ms.regionprops_table(z, z.astype(float), properties=props)
    ref = measure.regionprops_table(z, z.astype(float), properties=props)
    assert list(ours) == list(ref)
    for k in ref:
        assert len(ours[k]) == 0 and ours[k].dtype == ref[k].dtype, k
    # labels beyond a dense table (found with np.unique on the host; skimage itself runs
    # out of memory here, so the reference is the table of the small labels)
    big = LAB.astype(np.int64) * (1 << 40)
    ours = ms.regionprops_table(big, properties=("label", "bbox"))
    ref = measure.regionprops_table(LAB, properties=("label", "bbox"))
    ref["label"] = ref["label"] * (1 << 40)
    for k in ref:
        np.testing.assert_array_equal(ours[k], ref[k])


def test_keep_largest_ties_and_empty():
    tie = np.array([[1, 1, 0, 1, 1]])
    np.testing.assert_array_equal(ms.keep_largest_component(tie), [[1, 1, 0, 0, 0]])
    assert not ms.keep_largest_component(np.zeros((3, 3))).any()
    d = ms.keep_largest_component(medkern.asarray(tie.astype(np.uint8)))
    assert isinstance(d, medkern.DeviceArray)
