"""Adding an area is adding one module under ``medkern/algorithms/``.

A throw-away area module is dropped into a copy of the package (the checkout is never
touched); with no other edit it must show up as ``medkern.<area>``, in the registry, in the
parity tests, in the asv suite and in ``medkern compare --area``.
"""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The throw-away area: one function (a medkern kernel through Job) and its registration.
AREA_MODULE = textwrap.dedent('''
    """Throw-away area for tests/test_new_area.py."""
    import numpy as np
    import taichi as ti

    from ..kernels import dsl
    from ..registry import Algorithm, register
    from .job import Job

    __all__ = ["twice"]


    @ti.func
    def _twice(v):
        return v + v


    def twice(input, output=None):
        """Twice the input.

        Examples
        --------
        >>> twice(np.array([1.0, 2.0]))
        array([2., 4.])
        """
        job = Job(input, output)
        out = job.buffer()
        job.launch(dsl.pointwise(_twice, (job.in_dtype,), job.out_dtype, job.compute()),
                   job.src, out)
        return job.finish(out)


    register(Algorithm(name="twice", area="scratch_area", func=twice,
                       reference=lambda x: x + x, reference_name="x + x",
                       bench_kwargs={}, cases=({},), dtypes=("float32", "float64")))
''')


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A copy of the checkout's package, tests and benchmarks with the area module added."""
    root = tmp_path_factory.mktemp("tree")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("medkern", "tests", "bench"):
        shutil.copytree(os.path.join(ROOT, part), root / part, ignore=ignore)
    for part in ("pyproject.toml",):
        shutil.copy(os.path.join(ROOT, part), root / part)
    (root / "medkern" / "algorithms" / "scratch_area.py").write_text(AREA_MODULE)
    return root


def run(tree, *args, timeout=600):
    env = dict(os.environ, PYTHONPATH=str(tree), MEDKERN_ARCH=os.environ.get("MEDKERN_ARCH", "cpu"))
    env.pop("MEDKERN_PLUGINS", None)
    proc = subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_the_area_is_public_and_registered(tree):
    out = run(tree, "-c", textwrap.dedent("""
        import sys
        import medkern
        import medkern.scratch_area as sa      # the public path, with no file for it
        assert "taichi" in sys.modules          # the area module itself imported Taichi
        from medkern import registry
        assert registry.get("twice").area == "scratch_area"
        assert "scratch_area" in registry.areas()
        assert medkern.scratch_area.twice is sa.twice
        print(sa.twice([1.0, 2.0]))
    """))
    assert "[2. 4.]" in out


def test_the_area_is_in_the_parity_tests(tree):
    out = run(tree, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
              "tests/test_parity.py", "-k", "twice")
    assert "passed" in out and "failed" not in out
    ids = run(tree, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "--collect-only",
              "tests/test_parity.py", "tests/test_docs.py", "tests/test_volume.py",
              "tests/test_bad_input.py")
    for expected in ("test_matches_reference[twice-0-2d-float32]",
                     "test_docstring_examples[medkern.algorithms.scratch_area]",
                     "test_volume_in_volume_out[twice]", "test_bad_input_array[twice-str]"):
        assert expected in ids, expected


def test_the_area_is_in_the_asv_suite(tree):
    out = run(tree, "-c", textwrap.dedent("""
        import sys
        sys.path.insert(0, "bench")
        import benchmarks
        print(sorted(n for n in vars(benchmarks) if "twice" in n))
    """))
    assert "Time_twice" in out


def test_the_area_is_in_compare(tree):
    out = run(tree, "-m", "medkern.cli", "compare", "--area", "scratch_area", "--size", "16x16",
              "--repeat", "1", "-q", "--out", "cmp")
    assert "twice" in out and "1/1 agree" in out
