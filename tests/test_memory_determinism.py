"""Issue 8, item 8: device out-of-memory is a ``MemoryError``, never a crash; integer and
label results are bit-identical run to run and across arches.

Each case runs in a subprocess, so an abort inside Taichi's allocator would show up as a
dead process instead of killing pytest.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from medkern import runtime

ARCH = runtime.arch()


def _run(code: str, arch: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, MEDKERN_ARCH=arch)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def _vulkan_available() -> bool:
    proc = _run("import medkern; medkern.runtime.arch()", "vulkan", 120)
    return proc.returncode == 0


OOM_PRELUDE = """
import numpy as np
from numpy.lib.stride_tricks import as_strided
import medkern, medkern.filters as mf
from medkern import arrays, runtime

def view(shape, dtype=np.uint8):  # a huge input that takes no memory
    return as_strided(np.zeros(1, dtype), shape, (0,) * len(shape), writeable=False)

def expect_memory_error(fn, *words):
    try:
        fn()
    except MemoryError as exc:
        text = str(exc)
        assert all(w in text for w in words), text
        print("MemoryError:", text)
    else:
        raise SystemExit("no MemoryError")
"""


def test_out_of_memory_is_a_memory_error_on_the_cpu_arch():
    # the host has more memory than any medkern buffer may take (2**31 elements x 8
    # bytes), so the available memory is made small to reach the check
    proc = _run(OOM_PRELUDE + """
runtime.host_available = lambda: 256 << 20
expect_memory_error(lambda: mf.uniform_filter(view((64, 1024, 1024)), 3, output=np.float64),
                    "512.0 MiB", "float64", "(64, 1024, 1024)", "cpu arch", "256.0 MiB")
expect_memory_error(lambda: medkern.asarray(np.zeros((40, 1024, 1024), np.float64)),
                    "320.0 MiB")
print("alive", mf.uniform_filter(np.arange(12.0).reshape(3, 4), 3).shape)
""", "cpu")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "alive (3, 4)" in proc.stdout


def test_out_of_memory_is_a_memory_error_on_vulkan():
    if ARCH not in ("cpu", "vulkan") or not _vulkan_available():
        pytest.skip("no Vulkan here")
    proc = _run(OOM_PRELUDE + """
desc, heap = runtime.device_memory()
assert heap, desc
# a public call whose float64 result needs more than the device's heap
n0 = heap // (8 << 20) + 16
expect_memory_error(lambda: mf.uniform_filter(view((n0, 1024, 1024)), 3, output=np.float64),
                    "float64", f"({n0}, 1024, 1024)", "Vulkan", "device memory")
expect_memory_error(lambda: arrays.empty_buffer((2047, 1024, 1024), np.dtype(np.float64)),
                    "16.0 GiB", "Vulkan")
# past the check (patched away), Taichi's own allocation failure becomes a MemoryError too
runtime.check_allocation = lambda nbytes, what: None
# (1.5 x the heap in float32: fewer than 2**31 elements, which Taichi's sizes overflow)
expect_memory_error(lambda: arrays.empty_buffer((3 * heap // (8 << 20), 1024, 1024),
                                                np.dtype(np.float32)), "Vulkan")
print("alive", medkern.asnumpy(mf.uniform_filter(medkern.asarray(np.ones((3, 4))), 3)).sum())
""", "vulkan")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "alive 12.0" in proc.stdout


DETERMINISM = """
import sys
import numpy as np
import medkern, medkern.filters as mf, medkern.measurements as mm

rng = np.random.default_rng(5)
u8 = rng.integers(0, 256, (9, 23, 31), dtype=np.uint8)
i16 = rng.integers(-3000, 3000, (37, 41), dtype=np.int16)
lab = rng.integers(0, 7, (9, 23, 31)).astype(np.int32)

def results():
    return {
        "median_u8": mf.median_filter(u8, 3),
        "rank_i16": mf.rank_filter(i16, 5, size=(3, 5)),
        "uniform_u8": mf.uniform_filter(u8, 3),
        "gauss_u8": mf.gaussian_filter(u8, 1.3),
        "sum_labels_int": np.asarray(mm.sum_labels(u8.astype(np.int32), lab, np.arange(7))),
        "min_labels": np.asarray(mm.minimum(i16, i16 % 5, [0, 1, 2, 3, 4])),
        "hist_labels": np.stack(list(mm.histogram(u8, 0, 255, 16, lab, [1, 2, 3]))),
        "sum_int": np.asarray(mm.sum(i16)),
        "max_u8": np.asarray(mm.maximum(u8)),
    }

first, second = results(), results()
for k in first:
    assert first[k].tobytes() == second[k].tobytes(), f"{k} differs run to run"
np.savez(sys.argv[1], **first)
print("saved")
"""


@pytest.mark.slow  # a second process on Vulkan (13 s): -m slow
@pytest.mark.parametrize("other", ["vulkan"])
def test_integer_and_label_results_are_bit_identical_across_runs_and_arches(tmp_path, other):
    if ARCH != "cpu":
        pytest.skip("compares the cpu arch with the others: run once, from the cpu session")
    if not _vulkan_available():
        pytest.skip("no Vulkan here")
    saved = {}
    for run, arch in (("cpu1", "cpu"), ("cpu2", "cpu"), (other, other)):
        path = tmp_path / f"{run}.npz"
        proc = subprocess.run([sys.executable, "-c", DETERMINISM, str(path)], capture_output=True,
                              text=True, timeout=600, env=dict(os.environ, MEDKERN_ARCH=arch))
        assert proc.returncode == 0, proc.stderr[-3000:]
        with np.load(path) as f:
            saved[run] = {k: f[k] for k in f.files}
    for run in ("cpu2", other):
        for key, ref in saved["cpu1"].items():
            got = saved[run][key]
            assert got.dtype == ref.dtype and got.shape == ref.shape, (run, key)
            assert got.tobytes() == ref.tobytes(), f"{key}: {run} differs from cpu"


def test_more_elements_than_taichi_counts_is_a_memory_error_not_an_abort():
    if ARCH not in ("cpu", "vulkan") or not _vulkan_available():
        pytest.skip("no Vulkan here")
    proc = _run(OOM_PRELUDE + """
runtime.check_allocation = lambda nbytes, what: None  # only the element count is left
expect_memory_error(lambda: arrays.empty_buffer((32768, 1024, 1024), np.dtype(np.float32)),
                    "128.0 GiB", "2**31 - 1 elements")
print("alive")
""", "vulkan")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "alive" in proc.stdout
