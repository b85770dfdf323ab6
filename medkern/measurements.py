"""Public path of :mod:`medkern.algorithms.measurements` (``import medkern.measurements``)."""
from .algorithms.measurements import *  # noqa: F401,F403
from .algorithms.measurements import __all__  # noqa: F401
