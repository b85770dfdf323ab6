"""Public path of :mod:`medkern.algorithms.filters` (``import medkern.filters as mf``)."""
from .algorithms.filters import *  # noqa: F401,F403
from .algorithms.filters import __all__  # noqa: F401
