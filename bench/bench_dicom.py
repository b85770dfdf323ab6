"""asv benchmarks: loading a DICOM series with :func:`medkern.io.read_dicom`.

The input is synthesised once per run (``setup_cache``) from pydicom's
bundled ``CT_small.dcm``: one file per slice, 512x512 int16 pixel data (the CT
slice tiled, shifted a little from slice to slice), new instance/series UIDs,
1 mm apart along z, with the file names shuffled so the reader has to sort by
position. The header keeps CT_small's rescale (slope 1, intercept -1024).

Benchmarks (parameter: number of slices, ``[64, 512]`` by default;
``MEDKERN_BENCH_DICOM_SLICES=64`` narrows it, e.g. for ``asv run --quick``):

* ``time_read_dicom`` -- ``read_dicom(dir, rescale=False)``: the stored values,
  the same work as the loop below;
* ``time_read_dicom_rescaled`` -- ``read_dicom(dir)`` (rescale applied, the
  default);
* ``time_pydicom_loop`` -- the baseline: a plain pydicom loop that reads every
  file, sorts by position along the slice normal and ``np.stack``\\ s the
  ``pixel_array``\\ s (:func:`pydicom_loop`);
* ``peakmem_*`` -- the same three, peak resident memory of the process.

Goal (issue): read_dicom within 1.2x of the loop's time, and no more than one
extra copy of the volume in memory. ``tools/bench_dicom.py`` measures the same
outside asv and prints the ratios.
"""
from __future__ import annotations

import os

import numpy as np

SLICES = [64, 512]
SIZE = 512  # rows = columns


def _env_slices() -> list[int]:
    raw = os.environ.get("MEDKERN_BENCH_DICOM_SLICES", "").strip()
    return [int(v) for v in raw.split(",") if v.strip()] if raw else SLICES


SLICES = _env_slices()


# --------------------------------------------------------------------------- helpers
def _stored_plane(size: int) -> np.ndarray:
    """CT_small's stored (not rescaled) int16 values, mirrored-tiled to size x size."""
    import pydicom
    from pydicom.data import get_testdata_file
    raw = pydicom.dcmread(get_testdata_file("CT_small.dcm")).pixel_array.astype(np.int16)
    tile = np.block([[raw, raw[:, ::-1]], [raw[::-1, :], raw[::-1, ::-1]]])
    reps = (-(-size // tile.shape[0]), -(-size // tile.shape[1]))
    return np.ascontiguousarray(np.tile(tile, reps)[:size, :size])


def synthesise_series(directory: str, n_slices: int, size: int = SIZE, seed: int = 0,
                      spacing: float = 1.0) -> list[str]:
    """Write a CT series of ``n_slices`` files of ``size`` x ``size`` int16 to ``directory``.

    Built from pydicom's ``CT_small.dcm`` (its header, orientation, pixel
    spacing and rescale); positions ``spacing`` mm apart along z; file names
    in a shuffled order. Returns the file paths in slice (z) order.
    """
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid

    os.makedirs(directory, exist_ok=True)
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    plane = _stored_plane(size)
    x0, y0, z0 = (float(v) for v in ds.ImagePositionPatient)
    for keyword in ("SmallestImagePixelValue", "LargestImagePixelValue"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.Rows = ds.Columns = size
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.SamplesPerPixel = 1
    ds.SliceThickness = ds.SpacingBetweenSlices = spacing
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesDescription = f"medkern synthesised {n_slices}x{size}x{size}"
    ds.SeriesNumber = 1
    order = np.random.default_rng(seed).permutation(n_slices)
    paths = []
    for k in range(n_slices):
        z = z0 + k * spacing
        ds.ImagePositionPatient = [x0, y0, z]
        ds.SliceLocation = z
        ds.InstanceNumber = k + 1
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.PixelData = np.roll(plane, (k % 16, (3 * k) % 16), axis=(0, 1)).tobytes()
        path = os.path.join(directory, f"IM{order[k]:05d}.dcm")
        ds.save_as(path)
        paths.append(path)
    return paths


def series_files(directory: str) -> list[str]:
    """The ``.dcm`` files of ``directory`` (in name order, not slice order)."""
    return sorted(os.path.join(directory, n) for n in os.listdir(directory) if n.endswith(".dcm"))


def pydicom_loop(files: list[str]) -> np.ndarray:
    """The baseline: read each file, sort by position along the slice normal, stack.

    ``np.stack([dcmread(f).pixel_array for f in files])`` with the files in
    position order, reading every file once.
    """
    from pydicom import dcmread
    slices = []
    for f in files:
        ds = dcmread(f)
        iop = [float(v) for v in ds.ImageOrientationPatient]
        normal = np.cross(iop[:3], iop[3:])
        slices.append((float(np.dot(normal, [float(v) for v in ds.ImagePositionPatient])),
                       ds.pixel_array))
    slices.sort(key=lambda t: t[0])
    return np.stack([a for _, a in slices])


def warm_page_cache(files: list[str]) -> None:
    """Read every file once so both sides are timed from the page cache."""
    for f in files:
        with open(f, "rb") as fh:
            while fh.read(1 << 20):
                pass


# --------------------------------------------------------------------------- asv
class LoadSeries:
    """Load an N-slice series of 512x512 int16 CT files: medkern.io.read_dicom vs a pydicom loop."""

    params = [SLICES]
    param_names = ["slices"]
    timeout = 600
    number = 1          # one load per sample (0.1 s to seconds each)
    repeat = (2, 5, 60.0)
    warmup_time = 0.0

    def setup_cache(self):
        # runs in a temporary directory that asv keeps until the class has run
        root = os.path.abspath("medkern-dicom-series")
        return {n: os.path.dirname(synthesise_series(os.path.join(root, str(n)), n)[0])
                for n in SLICES}

    def setup(self, dirs, slices):
        from medkern.io.dicom import read_dicom  # noqa: F401 - skip early if it is missing
        self.dir = dirs[slices]
        self.files = series_files(self.dir)
        warm_page_cache(self.files)

    def time_read_dicom(self, dirs, slices):
        from medkern.io.dicom import read_dicom
        read_dicom(self.dir, rescale=False)

    def time_read_dicom_rescaled(self, dirs, slices):
        from medkern.io.dicom import read_dicom
        read_dicom(self.dir)

    def time_pydicom_loop(self, dirs, slices):
        pydicom_loop(self.files)

    def peakmem_read_dicom(self, dirs, slices):
        from medkern.io.dicom import read_dicom
        read_dicom(self.dir, rescale=False)

    def peakmem_read_dicom_rescaled(self, dirs, slices):
        from medkern.io.dicom import read_dicom
        read_dicom(self.dir)

    def peakmem_pydicom_loop(self, dirs, slices):
        pydicom_loop(self.files)
