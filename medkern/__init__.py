"""medkern: GPU-accelerated medical image processing.

Algorithms are written once as Taichi kernels (``medkern.kernels``) that run on
CUDA, Vulkan or the CPU, behind a numpy-first API mirroring ``scipy.ndimage``
(``medkern.filters``, ``medkern.measurements``...). Importing medkern does not
start Taichi; the first kernel call does (see :func:`medkern.init`).
"""
from __future__ import annotations

import os as _os
import sys as _sys
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING as _TYPE_CHECKING

# Before Taichi is imported anywhere: no banner, no version-check thread.
_os.environ.setdefault("ENABLE_TAICHI_HEADER_PRINT", "0")
_os.environ.setdefault("TI_SKIP_VERSION_CHECK", "ON")

__version__ = "0.1.0"

from .arrays import DeviceArray, asarray, asnumpy, stack  # noqa: E402
from .checks import ArgumentError  # noqa: E402
from .runtime import init  # noqa: E402
from .volume import Volume, reorient  # noqa: E402

__all__ = ["init", "asarray", "asnumpy", "stack", "DeviceArray", "Volume", "reorient",
           "ArgumentError", "__version__"]


if _TYPE_CHECKING:  # type checkers see the submodules; at run time they load lazily
    from . import filters, interpolation, io, measurements, registry, runtime  # noqa: F401


def _has_module(package_dir: str, name: str) -> bool:
    # a file-system look, not importlib.util.find_spec: the alias finder below is on
    # sys.meta_path, where find_spec would call it again
    return (_os.path.isfile(_os.path.join(package_dir, name + ".py"))
            or _os.path.isfile(_os.path.join(package_dir, name, "__init__.py")))


def _area_module(name: str) -> str | None:
    """``medkern.algorithms.<name>`` when that module exists (anywhere on the areas
    package's ``__path__``) and ``medkern`` has no module of its own by that name: the
    public path of an area."""
    if not name.isidentifier() or name.startswith("_"):
        return None
    if _has_module(_os.path.dirname(__file__), name):
        return None
    from . import algorithms  # an empty package: cheap, Taichi-free
    if any(_has_module(d, name) for d in algorithms.__path__):
        return f"{__name__}.algorithms.{name}"
    return None


class _AreaAlias:
    """Makes ``import medkern.<area>`` give ``medkern.algorithms.<area>`` for an area
    module that has no public re-export file: adding an area is adding one module."""

    @staticmethod
    def find_spec(fullname: str, path: object = None, target: object = None) -> object:
        prefix = __name__ + "."
        if not fullname.startswith(prefix) or "." in fullname[len(prefix):]:
            return None
        real = _area_module(fullname[len(prefix):])
        if real is None:
            return None
        import importlib.util
        return importlib.util.spec_from_loader(fullname, _AreaAlias(real))  # type: ignore[arg-type]

    def __init__(self, real: str) -> None:
        self.real = real

    def create_module(self, spec: object) -> _ModuleType:
        import importlib
        return importlib.import_module(self.real)

    def exec_module(self, module: _ModuleType) -> None:
        pass  # the real module is already executed


_sys.meta_path.append(_AreaAlias)  # type: ignore[arg-type]


def __getattr__(name: str) -> _ModuleType:
    # Submodules load on first use: `import medkern` stays cheap and Taichi-free.
    # `medkern.<name>` is medkern's own module or, failing that, the area module
    # medkern.algorithms.<name>.
    if not name.startswith("_") and name.isidentifier() and (
            _has_module(_os.path.dirname(__file__), name) or _area_module(name) is not None):
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'medkern' has no attribute {name!r}")
