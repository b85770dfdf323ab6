"""Public path of :mod:`medkern.algorithms.segmentation` (``import medkern.segmentation``)."""
from .algorithms.segmentation import *  # noqa: F401,F403
from .algorithms.segmentation import __all__  # noqa: F401
