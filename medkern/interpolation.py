"""Public path of :mod:`medkern.algorithms.interpolation` (``import medkern.interpolation as mi``)."""
from .algorithms.interpolation import *  # noqa: F401,F403
from .algorithms.interpolation import __all__  # noqa: F401
