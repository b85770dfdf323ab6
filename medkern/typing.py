"""Type aliases of medkern's public API, for annotations and type checkers.

What a filter takes and gives back::

    ArrayInput   numpy-convertible data (numpy.typing.ArrayLike), a DeviceArray or a Volume
    SupportsDLPack  another library's array (torch tensor, CuPy array...): any object with
                 ``__dlpack__`` and ``__dlpack_device__``
    OutputArg    output=: None (the input's dtype), a dtype, a numpy array or a DeviceArray
    ArrayResult  numpy.ndarray, DeviceArray or Volume: numpy in -> numpy out, DeviceArray in
                 -> DeviceArray out, Volume in -> Volume out (or the ``output=`` array)

:func:`like_input` gives a filter the signature type checkers see: the result's type
follows the input's (``mf.gaussian_filter(np_array, 2)`` is a ``numpy.ndarray``,
``mf.gaussian_filter(volume, 2)`` a ``Volume``, ``mf.gaussian_filter(torch_tensor, 2)`` a
``torch.Tensor``). With an ``output=`` array the result is
that array, whatever the input: annotate such a call's result yourself. The function itself
is unchanged (same object, signature and docstring).
"""
from __future__ import annotations

from typing import (Any, Callable, Concatenate, ParamSpec, Protocol, Sequence, TypeAlias, TypeVar,
                    Union, overload)

import numpy as np
import numpy.typing as npt

from .arrays import DeviceArray
from .volume import Volume

__all__ = ["ArrayInput", "ArrayResult", "OutputArg", "ModeArg", "IntOrSeq", "FloatOrSeq",
           "AxesArg", "Scalar", "SupportsDLPack", "ArrayFilter", "ElementwiseFilter",
           "like_input"]

#: What every filter and measurement accepts as ``input``.
ArrayInput: TypeAlias = Union[npt.ArrayLike, DeviceArray, Volume]
#: What a filter returns (see :func:`like_input` for the precise type of a call).
ArrayResult: TypeAlias = Union[np.ndarray, DeviceArray, Volume]
#: ``output=``: ``None`` (the input's dtype), a dtype, or an array to write into.
OutputArg: TypeAlias = Union[npt.DTypeLike, np.ndarray, DeviceArray, None]
#: ``mode=``: one boundary mode, or one per filtered axis.
ModeArg: TypeAlias = Union[str, Sequence[str]]
#: ``size=``, ``origin=``, ``order=``...: one integer, or one per filtered axis.
IntOrSeq: TypeAlias = Union[int, Sequence[int]]
#: ``sigma=``, ``radius=``...: one number, or one per filtered axis.
FloatOrSeq: TypeAlias = Union[float, Sequence[float]]
#: ``axes=``: the axes to filter (``None``: all).
AxesArg: TypeAlias = Union[int, Sequence[int], None]
#: A measurement's result: a Python number or a numpy scalar of the input's dtype.
Scalar: TypeAlias = Union[int, float, np.generic]



class SupportsDLPack(Protocol):
    """Another library's array (torch, CuPy, JAX...): a filter returns that library's array.

    numpy arrays and DeviceArrays speak DLPack too; the filters' overloads list them first.
    """

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any: ...

    def __dlpack_device__(self) -> tuple[Any, int]: ...


_P = ParamSpec("_P")
_DL = TypeVar("_DL", bound=SupportsDLPack)


class ArrayFilter(Protocol[_P]):
    """A filter as type checkers see it: its result has the input's kind."""

    @overload
    def __call__(self, input: Volume, /, *args: _P.args, **kwargs: _P.kwargs) -> Volume: ...

    @overload
    def __call__(self, input: DeviceArray, /, *args: _P.args,
                 **kwargs: _P.kwargs) -> DeviceArray: ...

    @overload
    def __call__(self, input: np.ndarray, /, *args: _P.args,
                 **kwargs: _P.kwargs) -> np.ndarray: ...

    @overload
    def __call__(self, input: _DL, /, *args: _P.args, **kwargs: _P.kwargs) -> _DL: ...

    @overload
    def __call__(self, input: npt.ArrayLike, /, *args: _P.args,
                 **kwargs: _P.kwargs) -> np.ndarray: ...

    def __call__(self, input: ArrayInput | SupportsDLPack, /, *args: _P.args,
                 **kwargs: _P.kwargs) -> ArrayResult | SupportsDLPack: ...


class ElementwiseFilter(Protocol):
    """What :func:`medkern.algorithms.custom.elementwise` returns: ``f(input, output=None)``,
    its result of the input's kind."""

    __name__: str

    @overload
    def __call__(self, input: Volume, output: OutputArg = None) -> Volume: ...

    @overload
    def __call__(self, input: DeviceArray, output: OutputArg = None) -> DeviceArray: ...

    @overload
    def __call__(self, input: np.ndarray, output: OutputArg = None) -> np.ndarray: ...

    @overload
    def __call__(self, input: _DL, output: OutputArg = None) -> _DL: ...

    @overload
    def __call__(self, input: npt.ArrayLike, output: OutputArg = None) -> np.ndarray: ...

    def __call__(self, input: ArrayInput | SupportsDLPack,
                 output: OutputArg = None) -> ArrayResult | SupportsDLPack: ...


def like_input(func: Callable[Concatenate[Any, _P], ArrayResult]) -> ArrayFilter[_P]:
    """Declare that ``func``'s result has the kind of its first argument (for type
    checkers; returns ``func`` itself)."""
    return func  # type: ignore[return-value]
