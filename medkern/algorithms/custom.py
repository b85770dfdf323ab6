"""Turn a user's ``ti.func`` into a public, numpy/device-array function.

``generic_filter`` (in :mod:`medkern.filters`) covers neighbourhood
functions; :func:`elementwise` covers per-pixel ones. Both compile the user's
function into a medkern kernel, so it runs on every arch and takes numpy or
device arrays like every other medkern function.
"""
from __future__ import annotations

from typing import Any, Callable, cast

import numpy as np
import numpy.typing as npt

from ..kernels import dsl
from ..typing import ArrayInput, ArrayResult, ElementwiseFilter, OutputArg
from .job import Job


def elementwise(function: Callable[..., Any], output_dtype: npt.DTypeLike | None = None, *,
                name: str | None = None) -> ElementwiseFilter:
    """Make ``f(input, output=None)`` applying ``function`` to every element.

    Parameters
    ----------
    function : ti.func
        Taichi function (``ti.func``) of one scalar (the element, float32 for float32 input,
        float64 otherwise) returning a scalar.
    output_dtype : data-type, optional
        Default output dtype (the input's when ``None``); ``output=`` at call
        time overrides it.
    name : str, optional
        ``__name__`` of the returned function.

    Returns
    -------
    callable
        ``f(input, output=None)`` for numpy or device arrays.

    Examples
    --------
    >>> import numpy as np, taichi as ti
    >>> from medkern.algorithms.custom import elementwise
    >>> def soft_tissue(hu):  # CT window: level 40 HU, width 400 HU -> [0, 1]
    ...     return ti.min(ti.max((hu + 160.0) / 400.0, 0.0), 1.0)
    >>> soft_tissue = ti.func(soft_tissue)  # i.e. decorated with ti.func
    >>> window = elementwise(soft_tissue, np.float32)
    >>> window(np.array([-1000, 40, 1000], np.int16))
    array([0. , 0.5, 1. ], dtype=float32)
    """
    if not callable(function):
        raise TypeError(f"function must be a ti.func, got {type(function).__name__}")
    default = None if output_dtype is None else np.dtype(output_dtype)

    def apply(input: ArrayInput, output: OutputArg = None) -> ArrayResult:
        job = Job(input, output if output is not None else default)
        kern = dsl.pointwise(function, (job.in_dtype,), job.out_dtype, job.user_compute())
        out = job.buffer()
        job.launch(kern, job.src, out)
        return job.finish(out)

    apply.__name__ = str(name or getattr(function, "__name__", "elementwise"))
    apply.__doc__ = f"Element-wise {apply.__name__} (medkern kernel)."
    return cast(ElementwiseFilter, apply)
