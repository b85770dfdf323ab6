"""Reading and writing images with their patient geometry.

One name per job:

* :func:`read` — any format, recognised from the content: a DICOM file or series
  directory, a NIfTI file (``.nii``/``.nii.gz``) or a medkern ``.npz`` volume;
  :func:`write` — by the name's ending (``.nii[.gz]``, ``.npz``, else a DICOM directory).
* per format, with that format's options: :func:`read_dicom` / :func:`write_dicom`
  (:mod:`medkern.io.dicom`), :func:`read_nifti` / :func:`write_nifti`
  (:mod:`medkern.io.nifti`, through nibabel), :func:`load` / :func:`save` (lossless
  ``.npz``, :mod:`medkern.io.npz`; ``Volume.save`` too).
* RT structure sets onto a volume's grid: :func:`rtstruct_to_labels` (one label image)
  and :func:`rtstruct_to_masks` (a boolean volume per ROI), :mod:`medkern.io.rtstruct`.
"""
from .dicom import DicomError, DicomWarning, list_series, read_dicom, write_dicom
from .formats import format_of, read, write
from .nifti import NiftiWarning, read_nifti, write_nifti
from .npz import load, save
from .rtstruct import ROI, RTStructWarning, rtstruct_to_labels, rtstruct_to_masks

__all__ = ["DicomError", "DicomWarning", "NiftiWarning", "ROI", "RTStructWarning", "format_of",
           "list_series", "load", "read", "read_dicom", "read_nifti", "rtstruct_to_labels",
           "rtstruct_to_masks", "save", "write", "write_dicom", "write_nifti"]
