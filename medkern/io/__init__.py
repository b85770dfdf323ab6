"""Reading and writing images with their geometry: DICOM series (:mod:`medkern.io.dicom`)
and lossless ``.npz`` volumes (:mod:`medkern.io.npz`)."""
from .dicom import DicomError, DicomWarning, list_series, read_dicom, write_dicom
from .npz import load, save

__all__ = ["DicomError", "DicomWarning", "list_series", "load", "read_dicom", "save",
           "write_dicom"]
