"""Public path of :mod:`medkern.algorithms.measurements` (``import medkern.measurements``).

``label`` is here too, as in ``scipy.ndimage``'s measurements (it lives in
:mod:`medkern.segmentation`)."""
from .algorithms.measurements import *  # noqa: F401,F403
from .algorithms.measurements import __all__  # noqa: F401
from .algorithms.segmentation import label  # noqa: F401
