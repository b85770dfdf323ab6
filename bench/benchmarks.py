"""asv benchmarks, generated from :mod:`medkern.registry`.

One class per registered algorithm, ``Time_<name>``, parameterised by
implementation x shape x dtype:

* implementation: ``"medkern"`` (the registered medkern function on the
  current arch: ``$MEDKERN_ARCH``, default ``auto``) or ``"scipy"`` (the
  registered reference, ``Algorithm.reference``: scipy.ndimage for all of them
  today);
* shape: 2-D 512^2 and 2048^2, 3-D 128^3 and 256^3 (the tiled CT volume of
  :func:`medkern.sample_data.ct_volume`);
* dtype: float32 and uint16 (CT data is 12-bit; uint16 is how it is stored).

``setup`` builds the input; for medkern it uploads it once (device-resident:
no host<->device copies are timed) and makes one warm-up call, so kernels are
compiled (or loaded from Taichi's offline cache) before timing. The timed call
synchronises the device (``medkern.runtime.sync()``).

Tracked values:

* ``MaxError.track_max_error`` -- the registry's error measure of medkern vs the
  reference on a 64^3 CT volume (relative to the reference's magnitude for
  floats, absolute for integers, which must be exactly 0);
* ``FirstCall.track_first_call_seconds`` -- the first call of a never-compiled
  specialisation (a Gaussian with a sigma no cached kernel has, a median...),
  with Taichi's offline cache pointed at an empty directory: the JIT cost a
  user pays once per new parameter set.

Combinations that do not exist (an algorithm without that dtype, or without a
case for that ndim) or whose reference takes far too long are skipped by
raising ``NotImplementedError`` in ``setup`` (asv's way to skip a parameter
combination). ``MEDKERN_BENCH_SHAPES`` / ``MEDKERN_BENCH_DTYPES`` /
``MEDKERN_BENCH_IMPLEMENTATIONS`` (comma-separated) narrow the grid, e.g.
``MEDKERN_BENCH_SHAPES=512x512`` or, for ``asv continuous`` between two medkern commits
(the reference's timings are the same on both), ``MEDKERN_BENCH_IMPLEMENTATIONS=medkern``.
"""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time

import numpy as np

import medkern
from medkern import registry, runtime, sample_data

IMPLEMENTATIONS = ["medkern", "scipy"]
SHAPES = ["512x512", "2048x2048", "128x128x128", "256x256x256"]
DTYPES = ["float32", "uint16"]


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    return [v.strip() for v in raw.split(",") if v.strip()]


IMPLEMENTATIONS = _env_list("MEDKERN_BENCH_IMPLEMENTATIONS", IMPLEMENTATIONS)
SHAPES = _env_list("MEDKERN_BENCH_SHAPES", SHAPES)
DTYPES = _env_list("MEDKERN_BENCH_DTYPES", DTYPES)

#: Shapes at which references built on scipy.ndimage.generic_filter (a Python
#: call per voxel: over a minute per call at 256^3 on 2 cores) are skipped.
SLOW_REFERENCE_SHAPES = {"256x256x256"}


def _reference_too_slow(alg: registry.Algorithm, shape: str) -> bool:
    return shape in SLOW_REFERENCE_SHAPES and "generic_filter" in alg.reference_name

#: Input of the tracked error benchmarks.
ERROR_SHAPE = "64x64x64"


def _shape(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split("x"))


@functools.lru_cache(maxsize=2)
def _input(shape: str, dtype: str) -> np.ndarray:
    x = sample_data.ct_volume(_shape(shape), dtype)
    x.setflags(write=False)  # shared between calls: nothing may modify it
    return x


def _kwargs(alg: registry.Algorithm, shape: str, dtype: str) -> dict:
    """The benchmark kwargs for this combination (with the extra arrays the algorithm's
    ``inputs`` generates: label images...), or skip it."""
    if alg.prepare is None and dtype not in alg.dtypes:  # prepared inputs have their own
        raise NotImplementedError(f"{alg.name} does not take {dtype}")
    kwargs = alg.arguments(alg.bench_kwargs, _shape(shape), seed=0)
    if kwargs is None:
        raise NotImplementedError(f"{alg.name} has no {len(_shape(shape))}-D benchmark case")
    return kwargs


def _on_device(kwargs: dict, shape: tuple) -> dict:
    """``kwargs`` with the arrays of the image's shape uploaded (device-resident, like it)."""
    return {k: medkern.asarray(v) if isinstance(v, np.ndarray) and v.shape == tuple(shape)
            else v for k, v in kwargs.items()}


class _TimeAlgorithm:
    """Base of the generated ``Time_<name>`` classes (``name`` is set on each)."""

    name = ""
    params = [IMPLEMENTATIONS, SHAPES, DTYPES]
    param_names = ["implementation", "shape", "dtype"]
    timeout = 300  # the scipy side of 256^3 rank filters takes ~10 s a call on 2 cores
    warmup_time = 0.0  # setup has made the warm-up (compiling) call

    def setup(self, implementation, shape, dtype):
        alg = registry.get(self.name)
        kwargs = _kwargs(alg, shape, dtype)
        x = alg.bench_input(_input(shape, dtype))  # e.g. label's foreground mask
        if implementation == "scipy":
            if _reference_too_slow(alg, shape):
                raise NotImplementedError(f"reference {alg.reference_name} too slow at {shape}")
            self._call = functools.partial(alg.reference, x, **kwargs)
        else:
            dx = medkern.asarray(x)  # upload once: device-resident input (and label images...)
            kwargs = _on_device(kwargs, x.shape)
            func = alg.func

            def call():
                out = func(dx, **kwargs)
                runtime.sync()
                return out
            self._call = call
            self._call()  # warm-up: compile the kernels outside the timed calls

    def time_run(self, implementation, shape, dtype):
        self._call()

    def teardown(self, implementation, shape, dtype):
        self._call = None


def _make_time_class(alg: registry.Algorithm) -> type:
    doc = (f"{alg.name}: medkern.{alg.area}.{alg.name} vs {alg.reference_name} "
           f"(kwargs {alg.bench_kwargs}).")
    return type(f"Time_{alg.name}", (_TimeAlgorithm,),
                {"name": alg.name, "__doc__": doc, "__module__": __name__})


def _resolve_plugin_paths() -> None:
    """Make relative ``MEDKERN_PLUGINS`` file paths absolute (from the repository root).

    asv imports this module and runs every benchmark from other working
    directories, so ``MEDKERN_PLUGINS=examples/range_filter.py`` (relative to
    the repository, where asv is started) would not be found there.
    """
    name = "MEDKERN_PLUGINS"
    raw = os.environ.get(name, "")
    if not raw:
        return
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    specs = []
    for spec in filter(None, (p.strip() for p in raw.replace(",", os.pathsep).split(os.pathsep))):
        if spec.endswith(".py") and not os.path.isabs(spec):
            here = os.path.abspath(spec)
            spec = here if os.path.exists(here) else os.path.join(root, spec)
        specs.append(spec)
    os.environ[name] = os.pathsep.join(specs)


_resolve_plugin_paths()
for _alg in registry.algorithms():
    globals()[f"Time_{_alg.name}"] = _make_time_class(_alg)
del _alg


class MaxError:
    """Largest difference between medkern and the reference on a 64^3 CT volume."""

    params = [[a.name for a in registry.algorithms()], ["float32", "uint16"]]
    param_names = ["algorithm", "dtype"]
    unit = "relative error"
    timeout = 120

    def setup(self, name, dtype):
        self.alg = registry.get(name)
        self.kwargs = _kwargs(self.alg, ERROR_SHAPE, dtype)
        self.x = _input(ERROR_SHAPE, dtype)

    def track_max_error(self, name, dtype):
        ours = self.alg.func(medkern.asarray(self.x), **_on_device(self.kwargs, self.x.shape))
        ours = medkern.asnumpy(ours) if isinstance(ours, medkern.DeviceArray) else ours
        return self.alg.error(ours, self.alg.reference(self.x, **self.kwargs))


class FirstCall:
    """Seconds for the first call of a specialisation no kernel cache holds (JIT compile).

    Needs a fresh process (asv's ``spawn`` launch method gives one per
    benchmark): Taichi's offline cache is pointed at an empty directory before
    the runtime starts; the runtime itself is started (and timed apart) in
    ``setup``.
    """

    #: algorithm -> kwargs of the new specialisation (the sigma is one no
    #: other benchmark or test uses)
    CASES = {
        "gaussian_filter": {"sigma": 1.7349},
        "median_filter": {"size": 3},
        "correlate": {"weights": np.arange(1.0, 28.0).reshape(3, 3, 3) / 378.0},
        "sum": {},
    }
    params = [list(CASES)]
    param_names = ["algorithm"]
    unit = "seconds"
    timeout = 300
    shape = "64x64x64"

    def setup(self, name):
        if runtime.is_initialized():
            raise NotImplementedError("needs a fresh process (launch_method spawn)")
        self._cache = tempfile.mkdtemp(prefix="medkern-ticache-")
        os.environ["TI_OFFLINE_CACHE_FILE_PATH"] = self._cache
        self.alg = registry.get(name)
        self.dx = medkern.asarray(_input(self.shape, "float32"))  # starts the runtime
        runtime.sync()

    def track_first_call_seconds(self, name):
        t0 = time.perf_counter()
        self.alg.func(self.dx, **self.CASES[name])
        runtime.sync()
        return time.perf_counter() - t0

    def teardown(self, name):
        shutil.rmtree(getattr(self, "_cache", ""), ignore_errors=True)
