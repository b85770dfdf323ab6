"""Inputs that once killed the interpreter or returned garbage, each run in its own process.

A segfault or an LLVM assertion takes the whole pytest worker down; here it only
fails one test. Each case prints what it got; the parent checks the exit status
and the printed outcome (a clear error naming the parameter, or the right answer).
"""
import os
import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import numpy as np, scipy.ndimage as ndi, taichi as ti
import medkern, medkern.filters as mf, medkern.measurements as mm
from numpy.lib.stride_tricks import as_strided
zero = np.zeros(1, np.uint8)
def view(shape):  # a huge read-only array that takes no memory
    return as_strided(zero, shape, (0,) * len(shape), writeable=False)
def outcome(fn):
    try:
        r = fn()
    except (ValueError, TypeError) as e:
        print(type(e).__name__ + ": " + str(e))
    else:
        print("RESULT", np.asarray(r).ravel()[:8].tolist())
"""


def _run(body: str, timeout: float = 120) -> str:
    code = PRELUDE + textwrap.dedent(body)
    env = dict(os.environ)
    env.setdefault("MEDKERN_ARCH", "cpu")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, f"process died (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
    return "".join(line for line in proc.stdout.splitlines(keepends=True)
                   if not line.startswith("[Taichi]"))


HUGE = {
    "uniform_filter1d_2d_over_2_31": "mf.uniform_filter1d(view((2**15 + 1, 2**16)), 3)",
    "sum_over_2_31": "mm.sum(view((2**16, 2**16)))",
    "uniform_filter1d_1d_over_2_31": "mf.uniform_filter1d(view((2**31 + 8,)), 3)",
    "axis_over_2_30": "mf.uniform_filter1d(view((1, 1, 2**30 + 5)), 3)",
    "asarray_over_2_31": "medkern.asarray(view((2**31,)))",
    "median_3d_over_2_31": "mf.median_filter(view((1300, 1300, 1300)), 3)",
    "output_over_2_31": "mf.gaussian_filter(view((2**16, 2**16)), 1.0, output=np.float32)",
}


@pytest.mark.parametrize("case", sorted(HUGE))
def test_huge_shapes_are_refused_clearly(case):
    out = _run(f"outcome(lambda: {HUGE[case]})")
    assert out.startswith("ValueError: "), out
    assert "32-bit" in out and "pieces" in out


@pytest.mark.parametrize("case", ["size", "gaussian_radius", "median_box"])
def test_huge_windows_are_refused_clearly(case):
    call = {"size": "mf.uniform_filter1d(np.zeros(10), 2**40)",
            "gaussian_radius": "mf.gaussian_filter(np.zeros(10), 1e12)",
            "median_box": "mf.median_filter(np.zeros((10, 10, 10)), 1000)"}[case]
    out = _run(f"outcome(lambda: {call})")
    assert out.startswith("ValueError: "), out


def test_generic_filter_numpy_max_runs_as_a_kernel():
    out = _run("""
        x = np.random.default_rng(0).random((6, 7))
        print(np.array_equal(mf.generic_filter(x, np.max, size=3), ndi.generic_filter(x, np.max, size=3)))
    """)
    assert out.strip() == "True"


@pytest.mark.parametrize("fn", ["lambda w: w.max()", "np.argmax", "print", "3", "'max'"])
def test_generic_filter_python_callables_raise_type_error(fn):
    out = _run(f"outcome(lambda: mf.generic_filter(np.ones((4, 4)), {fn}, size=3))")
    assert out.startswith("TypeError: function"), out
    assert "ti.func" in out


def test_generic_filter_ti_func_returning_a_vector_raises_type_error():
    out = _run("""
        @ti.func
        def doubled(w):
            return w * 2
        outcome(lambda: mf.generic_filter(np.ones((4, 4)), doubled, size=3))
    """)
    assert out.startswith("TypeError: function"), out
    assert "scalar" in out


def test_generic_filter_ti_func_that_does_not_compile_raises_type_error():
    out = _run("""
        @ti.func
        def broken(w):
            return w.no_such_method()
        outcome(lambda: mf.generic_filter(np.ones((4, 4)), broken, size=3))
    """)
    assert out.startswith("TypeError: function"), out


@pytest.mark.slow
def test_longest_axis_allowed_is_filtered_correctly():
    """2**30 - 1 samples along one axis: the boundary maps' 2 * n still fits 32 bits."""
    out = _run("""
        n = 2**30 - 1
        x = np.zeros(n, np.uint8)
        x[:5] = [9, 1, 7, 3, 5]
        x[-5:] = [2, 8, 4, 6, 250]
        for mode in ("reflect", "mirror", "wrap"):
            ours = mf.uniform_filter1d(x, 7, mode=mode)
            ref_head = ndi.uniform_filter1d(np.concatenate([x[-16:], x[:16]]), 7, mode="wrap")
            ext = np.concatenate([x[:16], x[-16:]])
            if mode == "wrap":
                ok = np.array_equal(ours[:8], ref_head[16:24]) and np.array_equal(ours[-8:], ref_head[8:16])
            else:  # a short line has the same extension at each end as the long one
                short = np.concatenate([x[:16], np.zeros(64, np.uint8), x[-16:]])
                r = ndi.uniform_filter1d(short, 7, mode=mode)
                ok = np.array_equal(ours[:8], r[:8]) and np.array_equal(ours[-8:], r[-8:])
            print(mode, ok)
    """, timeout=600)
    assert out.split() == ["reflect", "True", "mirror", "True", "wrap", "True"], out
