"""Registry entries for :mod:`medkern.algorithms.filters` (reference: ``scipy.ndimage``)."""
from __future__ import annotations

import numpy as np
import scipy.ndimage as ndi

from ..registry import COMPLEX_DTYPES, DTYPES, MODES, Algorithm, register
from ..kernels import filters as kf
from . import filters as f

_W2 = np.array([[0.5, -1.0, 0.25], [2.0, 0.0, -0.75]])   # odd x even, asymmetric
_W3 = np.arange(1.0, 13.0).reshape(2, 3, 2) / 10.0
_FP2 = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)
_FP3 = np.zeros((3, 3, 3), dtype=bool)
_FP3[1, 1, :] = _FP3[1, :, 1] = _FP3[:, 1, 1] = True
# long kernels take the looped generators (tap tables instead of unrolled taps)
_W9 = np.cos(np.arange(81.0)).reshape(9, 9) + 0.5
_W5 = np.sin(np.arange(125.0)).reshape(5, 5, 5) + 0.25


def _modes(**kw):
    """One case per boundary mode (constant with a non-zero cval)."""
    return tuple(dict(kw, mode=m, **({"cval": 7.0} if m == "constant" else {})) for m in MODES)


#: SciPy filters complex input (and weights) with these: parity in complex dtypes too
_LINEAR = {"correlate", "convolve", "correlate1d", "convolve1d", "gaussian_filter",
           "gaussian_filter1d", "uniform_filter", "uniform_filter1d", "sobel", "prewitt",
           "laplace", "gaussian_laplace", "gaussian_gradient_magnitude"}


def _entry(name, bench_kwargs, cases, **extra):
    if name in _LINEAR:
        extra.setdefault("dtypes", DTYPES + COMPLEX_DTYPES)
    register(Algorithm(name=name, area="filters", func=getattr(f, name),
                       reference=getattr(ndi, name), reference_name=f"scipy.ndimage.{name}",
                       bench_kwargs=bench_kwargs, cases=tuple(cases), **extra))


# see Algorithm.kwargs_for for the "_ndim" / {"_2d", "_3d"} conventions
_entry("gaussian_filter", {"sigma": 2.0},
       _modes(sigma=1.5) + (
           {"sigma": (1.0, 0.0, 2.5)[:2], "order": (1, 2), "_ndim": 2},
           {"sigma": (0.8, 1.3, 2.0), "order": (2, 0, 1), "mode": "mirror", "_ndim": 3},
           {"sigma": 3.0, "truncate": 2.0},
           {"sigma": 1.0, "radius": 4, "mode": "wrap"},
           {"sigma": 2.0, "axes": (0,), "order": 1},
       ))
_entry("gaussian_filter1d", {"sigma": 2.0},
       _modes(sigma=2.0) + ({"sigma": 7.0, "mode": "wrap"}, {"sigma": 1.5, "order": 1, "axis": 0},
                            {"sigma": 1.0, "order": 2}))
_entry("uniform_filter", {"size": 5},
       _modes(size=3) + ({"size": 4}, {"size": (2, 5, 3)[:2], "_ndim": 2},
                        {"size": (2, 5, 3), "origin": (0, -2, 1), "_ndim": 3},
                        {"size": 30, "mode": "reflect"}))
_entry("uniform_filter1d", {"size": 5},
       _modes(size=5) + ({"size": 6, "axis": 0, "origin": -3},))
_entry("median_filter", {"size": 3},
       _modes(size=3) + ({"size": 4}, {"footprint": {"_2d": _FP2, "_3d": _FP3}},
                        {"size": 7, "mode": "mirror"}, {"size": (3, 5), "axes": (2, 0), "_ndim": 3},
                        {"size": 5, "mode": "reflect", "_ndim": 2}))
_entry("minimum_filter", {"size": 3},
       _modes(size=3) + ({"size": (2, 4, 3)[:2], "_ndim": 2}, {"size": (2, 4, 3), "_ndim": 3},
                        {"footprint": {"_2d": _FP2, "_3d": _FP3}, "mode": "constant", "cval": 9.0}))
_entry("maximum_filter", {"size": 3},
       _modes(size=3) + ({"footprint": {"_2d": _FP2, "_3d": _FP3}, "origin": 1},))
_entry("minimum_filter1d", {"size": 3}, _modes(size=4))
_entry("maximum_filter1d", {"size": 3}, _modes(size=3) + ({"size": 41, "mode": "nearest"},
                                                          {"size": 7, "axis": 0}))
_entry("rank_filter", {"rank": 5, "size": 3},
       _modes(rank=2, size=3) + ({"rank": -2, "size": 3}, {"rank": 1, "footprint": {"_2d": _FP2, "_3d": _FP3}}))
_entry("percentile_filter", {"percentile": 25.0, "size": 3},
       _modes(percentile=30.0, size=3) + ({"percentile": -20.0, "size": 4}, {"percentile": 100.0, "size": 2}))
_entry("correlate", {"weights": {"_2d": _W2, "_3d": _W3}},
       _modes(weights={"_2d": _W2, "_3d": _W3}) + (
           {"weights": {"_2d": _W9, "_3d": _W5}, "mode": "wrap"},
           {"weights": _W2, "axes": (2, 0), "origin": (1, 0), "_ndim": 3},
           {"weights": {"_2d": _W2 * (1 - 0.5j), "_3d": _W3 - 0.25j}, "mode": "constant", "cval": 2.0},
           {"weights": {"_2d": _W2, "_3d": _W3}, "origin": -1}))
_entry("convolve", {"weights": {"_2d": _W2, "_3d": _W3}},
       _modes(weights={"_2d": _W2, "_3d": _W3}) + ({"weights": {"_2d": _W2 + 1j * _W2[::-1], "_3d": _W3 * 1j}},
                                                 {"weights": {"_2d": _W2, "_3d": _W3}, "origin": -1}))
_entry("correlate1d", {"weights": [1.0, 2.0, 4.0, 2.0, 1.0]},
       _modes(weights=[1.0, -3.0, 0.5, 2.0]) + ({"weights": [0.25, 0.5, 0.25], "axis": 0},
                                                 {"weights": [1 + 2j, -0.5j, 3.0], "mode": "wrap"},
                                                 {"weights": [-1.0, 0.0, 1.0], "origin": 1}))
_entry("convolve1d", {"weights": [1.0, 2.0, 4.0, 2.0, 1.0]},
       _modes(weights=[1.0, -3.0, 0.5, 2.0]) + ({"weights": [2 - 1j, 0.5, 1j, 1.0], "origin": 1},
                                                 {"weights": [3.0, 1.0, 4.0], "origin": -1, "axis": 0}))
_entry("sobel", {}, _modes() + ({"axis": 0},))
_entry("prewitt", {}, _modes() + ({"axis": 0},))
_entry("laplace", {}, _modes() + ({"mode": ("wrap", "nearest", "reflect")[:2], "_ndim": 2},
                                  {"mode": ("wrap", "constant", "mirror"), "cval": 2.0, "_ndim": 3}))
_entry("gaussian_laplace", {"sigma": 2.0}, _modes(sigma=1.5) + ({"sigma": (1.0, 2.0, 1.5)[:2], "_ndim": 2},))
_entry("gaussian_gradient_magnitude", {"sigma": 2.0},
       _modes(sigma=1.5) + ({"sigma": (1.0, 2.0, 1.5), "_ndim": 3},))

# medkern's generic_filter takes a ti.func (kf.window_range), SciPy's a Python callable
# (np.ptp): the reference swaps the function
register(Algorithm(
    name="generic_filter", area="filters", func=f.generic_filter,
    reference=lambda x, function, **kw: ndi.generic_filter(x, np.ptp, **kw),
    reference_name="scipy.ndimage.generic_filter(np.ptp)",
    bench_kwargs={"function": kf.window_range, "size": 3},
    cases=({"function": kf.window_range, "size": 3},
           {"function": kf.window_range, "size": (2, 4, 3)[:2], "mode": "wrap", "_ndim": 2},
           {"function": kf.window_range, "footprint": {"_2d": _FP2, "_3d": _FP3},
            "mode": "constant", "cval": 5.0})))
