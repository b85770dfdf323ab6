"""Reading and writing images with their geometry: DICOM series (:mod:`medkern.io.dicom`)
and lossless ``.npz`` volumes (:mod:`medkern.io.npz`)."""
from .npz import load, save

__all__ = ["load", "save"]
