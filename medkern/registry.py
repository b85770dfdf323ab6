"""The single list of public algorithms, each with its reference, inputs and tolerance.

The parity tests (``tests/test_parity.py``), the asv suite (``bench/``) and
``medkern compare`` all enumerate :func:`algorithms`: registering an algorithm
gives it a parity test over its cases and dtypes, a benchmark and a row in the
comparison table.

Algorithms outside the package (prototypes) register the same way from a
module named in the ``MEDKERN_PLUGINS`` environment variable (see the README).

Registering a new algorithm::

    from medkern.registry import Algorithm, register
    register(Algorithm(
        name="my_filter", area="filters",
        func=my_filter, reference=scipy.ndimage.some_filter,
        bench_kwargs={"size": 3},                        # used by asv and compare
        cases=[{"size": 3, "mode": m} for m in MODES],   # parity-test variants
    ))

Algorithms that need more arrays than the image (label images, masks, seeds, a second
image) declare ``inputs``: a callable ``(shape, seed, case) -> dict`` of extra keyword
arguments, generated for each parity test, benchmark and comparison from the image's
shape, a seed and the case (or ``bench_kwargs``) dict. Keys of a case that start with
``_`` are options for that callable (or for the harness, ``_ndim``) and are not passed
to the functions::

    def label_inputs(shape, seed, case):
        n = case.get("_labels")
        return {} if n is None else {"labels": sample_data.label_image(shape, n, seed)}

    register(Algorithm(
        name="mean_labels", area="measurements", func=mean, reference=scipy.ndimage.mean,
        bench_kwargs={"_labels": 1000}, inputs=label_inputs,
        cases=({"_labels": 6}, {"_labels": 6, "index": [1, 3, 9]}),
    ))

:meth:`Algorithm.arguments` gives one call's keyword arguments (the case's plus the
generated ones); benchmarks and ``medkern compare`` upload the generated arrays that have
the image's shape together with the image, so medkern's timed calls stay device-resident.
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import sys
from typing import Any, Callable

import numpy as np

#: Boundary modes every filter is tested with.
MODES = ("reflect", "constant", "nearest", "mirror", "wrap")

FLOAT_DTYPES = ("float32", "float64")
INT_DTYPES = ("uint8", "uint16", "int16")
DTYPES = FLOAT_DTYPES + INT_DTYPES
#: The linear filters also take complex input (and weights), as SciPy's do.
COMPLEX_DTYPES = ("complex64", "complex128")

#: Relative tolerance (to the reference's largest magnitude) per dtype; integers exact.
TOLERANCE = {"float32": 1e-5, "float64": 1e-10, "complex64": 1e-5, "complex128": 1e-10, "uint8": 0, "uint16": 0, "int16": 0,
             "int8": 0, "int32": 0, "uint32": 0, "int64": 0, "uint64": 0, "bool": 0}


@dataclasses.dataclass(frozen=True)
class Algorithm:
    """One public algorithm and how to check and time it.

    Attributes
    ----------
    name : str
        Public name (``medkern.<area>.<name>``).
    area : str
        Module under ``medkern`` (``"filters"``, ``"measurements"``...).
    func, reference : callable
        ``f(image, **kwargs)`` for medkern and for the reference (SciPy, skimage...).
    reference_name : str
        Dotted name of the reference, for reports.
    bench_kwargs : dict
        Keyword arguments for benchmarks and ``medkern compare``.
    cases : list of dict
        Keyword-argument variants the parity tests run (each on 2-D and 3-D).
    dtypes : tuple of str
        Input dtypes the parity tests run.
    tolerance : dict, optional
        Per-dtype relative tolerance overriding :data:`TOLERANCE`.
    make_input : callable, optional
        ``(shape, dtype, seed) -> ndarray`` for parity tests (default
        :func:`medkern.sample_data.random_image`).
    compare_result : callable, optional
        ``(ours, reference) -> max error`` for non-array results.
    inputs : callable, optional
        ``(shape, seed, case) -> dict``: extra keyword arguments (label images, masks,
        seeds, a second image...) generated for one call on an image of ``shape``; see
        the module docstring and :meth:`arguments`.
    grid : str
        Where an image result lies for a ``Volume`` input: ``"same"`` (the input's grid:
        filters, labels), ``"resampled"`` (a new grid: shift, zoom, affine_transform...; the
        area's tests check it) or ``"none"`` (samples that form no grid: map_coordinates;
        the plain array is returned).
    prepare : callable, optional
        ``image -> image`` applied to the benchmark / ``medkern compare`` input (the CT
        volume, or the user's DICOM series) before it is timed: what the algorithm is
        meant to run on, e.g. ``label``'s foreground mask (the CT above its 70th
        percentile: density 0.3, anatomical structure). Both implementations get the
        prepared image; the time to prepare it is not counted.
    """

    name: str
    area: str
    func: Callable
    reference: Callable
    reference_name: str
    bench_kwargs: dict
    cases: tuple = ()
    dtypes: tuple = DTYPES
    tolerance: dict = dataclasses.field(default_factory=dict)
    make_input: Callable | None = None
    compare_result: Callable | None = None
    inputs: Callable | None = None
    grid: str = "same"
    prepare: Callable | None = None

    def bench_input(self, x: np.ndarray) -> np.ndarray:
        """The benchmark input made from ``x`` (:attr:`prepare`; ``x`` itself if none)."""
        return x if self.prepare is None else self.prepare(x)

    def kwargs_for(self, case: dict, ndim: int) -> dict | None:
        """A case's keyword arguments for an input of ``ndim`` dimensions.

        Conventions: ``"_ndim": k`` limits a case to k-D inputs (``None`` is
        returned for other ndims); a value ``{"_2d": a, "_3d": b}`` is picked by ndim;
        other keys starting with ``_`` are options for :attr:`inputs` and are left out.
        """
        if case.get("_ndim", ndim) != ndim:
            return None
        out = {}
        for key, value in case.items():
            if key.startswith("_"):
                continue
            if isinstance(value, dict) and "_2d" in value:
                value = value["_2d"] if ndim <= 2 else value["_3d"]
            out[key] = value
        return out

    def arguments(self, case: dict, shape: tuple, seed: int = 0) -> dict | None:
        """One call's keyword arguments for an image of ``shape``: the case's
        (:meth:`kwargs_for`) and those :attr:`inputs` generates from ``(shape, seed,
        case)``; ``None`` when the case does not apply to that ndim."""
        kwargs = self.kwargs_for(case, len(shape))
        if kwargs is None:
            return None
        if self.inputs is not None:
            kwargs.update(self.inputs(tuple(int(n) for n in shape), int(seed), case))
        return kwargs

    def make(self, shape: tuple, dtype: Any, seed: int = 0) -> np.ndarray:
        """The parity-test image: :attr:`make_input` or
        :func:`medkern.sample_data.random_image`."""
        if self.make_input is not None:
            return self.make_input(tuple(shape), dtype, seed)
        from .sample_data import random_image
        return random_image(tuple(shape), dtype, seed=seed)

    def tol(self, dtype: Any) -> float:
        name = np.dtype(dtype).name
        return self.tolerance.get(name, TOLERANCE[name])

    def error(self, ours: Any, ref: Any) -> float:
        """Largest absolute difference, relative to the reference's magnitude for floats."""
        if self.compare_result is not None:
            return float(self.compare_result(ours, ref))
        a = np.asarray(ours)
        b = np.asarray(ref)
        if a.shape != b.shape:
            return float("inf")
        wide = np.complex128 if "c" in (a.dtype.kind, b.dtype.kind) else np.float64
        diff = np.abs(a.astype(wide) - b.astype(wide))
        nan_a, nan_b = np.isnan(a.astype(wide)), np.isnan(b.astype(wide))
        if np.any(nan_a != nan_b):
            return float("inf")
        diff = np.where(nan_a, 0.0, diff)
        if b.dtype.kind in "fc":
            scale = max(float(np.nanmax(np.abs(b))) if b.size else 0.0, 1e-30)
            return float(diff.max() / scale) if diff.size else 0.0
        return float(diff.max()) if diff.size else 0.0

    def agrees(self, ours: Any, ref: Any, dtype: Any) -> bool:
        # results of any structure (tuples, lists, object arrays) go to compare_result as is
        if self.compare_result is None and np.asarray(ours).dtype != np.asarray(ref).dtype:
            return False
        return self.error(ours, ref) <= self.tol(dtype)


_REGISTRY: dict[str, Algorithm] = {}
_LOADED = False
#: The package whose modules register algorithms: every module (and subpackage) in it is
#: imported on the first :func:`algorithms` call, so adding an area is adding a module.
AREAS_PACKAGE = "medkern.algorithms"
#: Environment variable naming extra modules (or .py files) that register algorithms,
#: separated by ``os.pathsep`` or commas: prototypes join tests, asv and compare.
PLUGINS_ENV = "MEDKERN_PLUGINS"


class PluginError(ImportError):
    """A plugin named in ``MEDKERN_PLUGINS`` cannot be loaded: a ``.py`` file that does not
    exist, a module that cannot be found, or one that raised while being imported.

    The message is one line naming the variable, the entry and the cause (with the line of
    the plugin file that raised, when known); the original exception is ``__cause__``.
    """


def _raised_at(exc: BaseException, path: str | None) -> str:
    """``" (line 3)"``: where in the plugin file ``path`` the exception was raised."""
    line = None
    if isinstance(exc, SyntaxError) and path is not None \
            and os.path.abspath(exc.filename or "") == path:
        line = exc.lineno
    if line is None and path is not None:
        import traceback
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if os.path.abspath(f.filename) == path]
        line = frames[-1].lineno if frames else None
    return f" (line {line})" if line else ""


def _plugin_failure(spec: str, exc: BaseException, path: str | None = None) -> PluginError:
    text = " ".join(str(exc).split())
    cause = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return PluginError(f"{PLUGINS_ENV}: importing {spec!r} raised {cause}{_raised_at(exc, path)}")


def _load_plugin(spec: str) -> None:
    if spec.endswith(".py"):
        path = os.path.abspath(spec)
        if not os.path.isfile(path):
            where = "" if path == spec else f" (looked for {path})"
            what = "is a directory, not a .py file" if os.path.isdir(path) else "no such file"
            raise PluginError(f"{PLUGINS_ENV}: {spec!r}: {what}{where}")
        name = "medkern_plugin_" + os.path.splitext(os.path.basename(path))[0]
        loader = importlib.util.spec_from_file_location(name, path)
        if loader is None or loader.loader is None:
            raise PluginError(f"{PLUGINS_ENV}: {spec!r} cannot be imported as a module")
        module = importlib.util.module_from_spec(loader)
        sys.modules[name] = module  # Taichi reads ti.func sources through the module
        try:
            loader.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            raise _plugin_failure(spec, exc, path) from exc
    else:
        try:
            importlib.import_module(spec)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (spec == exc.name or spec.startswith(exc.name + ".")):
                raise PluginError(f"{PLUGINS_ENV}: no module named {spec!r} (an entry is an "
                                  "importable module name or a path ending in .py)") from exc
            raise _plugin_failure(spec, exc) from exc
        except Exception as exc:
            raise _plugin_failure(spec, exc) from exc


def register(alg: Algorithm) -> Algorithm:
    """Add (or replace) an algorithm in the registry."""
    _REGISTRY[alg.name] = alg
    return alg


def algorithms(only: Any = None) -> list[Algorithm]:
    """All registered algorithms in registration order (optionally those named in ``only``).

    The first call imports the providers and the plugins named in ``MEDKERN_PLUGINS``; a
    plugin that cannot be loaded raises :class:`PluginError`. Unknown names: ``ValueError``.
    """
    global _LOADED
    if not _LOADED:
        for mod in area_modules():
            importlib.import_module(mod)
        extra = os.environ.get(PLUGINS_ENV, "").replace(",", os.pathsep)
        for spec in filter(None, (p.strip() for p in extra.split(os.pathsep))):
            _load_plugin(spec)
        _LOADED = True
    if only is None:
        return list(_REGISTRY.values())
    names = [only] if isinstance(only, str) else list(only)
    unknown = [n for n in names if n not in _REGISTRY]
    if unknown:
        raise ValueError(f"unknown algorithm(s) {unknown}; known: {sorted(_REGISTRY)}")
    return [_REGISTRY[n] for n in names]


def get(name: str) -> Algorithm:
    return algorithms([name])[0]


def areas() -> list[str]:
    """The areas of the registered algorithms, in registration order."""
    return list(dict.fromkeys(a.area for a in algorithms()))


def by_area(area: str) -> list[Algorithm]:
    """The registered algorithms of one area; an unknown area: ``ValueError``."""
    found = [a for a in algorithms() if a.area == area]
    if not found:
        raise ValueError(f"unknown area {area!r}; known: {areas()}")
    return found


def area_modules() -> list[str]:
    """Every module of :data:`AREAS_PACKAGE` (found on its ``__path__``, not imported),
    subpackages included; private modules (``_name``) are left to their package."""
    import pkgutil
    package = importlib.import_module(AREAS_PACKAGE)
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_"):
            found.append(f"{AREAS_PACKAGE}.{info.name}")
    return sorted(found)
