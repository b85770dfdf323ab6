"""Runtime semantics: lazy start, arch selection, no silent fallback, threads.

Taichi starts once per process and cannot switch arch, so every scenario runs
in a fresh interpreter. Each script prints ``OK`` as its only output, which
also checks that nothing (no Taichi banner) reaches stdout.
"""
import os
import subprocess
import sys
import textwrap

import pytest


def run_script(code: str, arch: str | None = "cpu") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("MEDKERN_ARCH", None)
    if arch is not None:
        env["MEDKERN_ARCH"] = arch
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout == "OK\n", f"unexpected stdout: {proc.stdout!r}"
    assert "[Taichi]" not in proc.stderr
    return proc


def test_import_does_not_start_taichi_and_prints_nothing():
    run_script("""
        import sys
        import medkern
        assert "taichi" not in sys.modules  # import medkern is Taichi-free
        import medkern.runtime as rt
        assert not rt.is_initialized()
        import medkern.filters, medkern.measurements, medkern.registry
        assert not rt.is_initialized()
        import medkern.filters as mf
        assert callable(mf.gaussian_filter) and not rt.is_initialized()
        d = medkern.DeviceArray  # attribute access does not start it either
        assert not rt.is_initialized()
        print("OK")
    """)


def test_first_call_initialises_on_env_arch():
    run_script("""
        import numpy as np, scipy.ndimage as ndi
        import medkern.filters as mf, medkern.runtime as rt
        x = np.arange(30, dtype=np.float32).reshape(5, 6)
        assert not rt.is_initialized()
        out = mf.gaussian_filter(x, 1.5)
        assert rt.is_initialized() and rt.arch() == "cpu"
        np.testing.assert_allclose(out, ndi.gaussian_filter(x, 1.5), rtol=1e-5)
        print("OK")
    """, arch=" CPU ")  # MEDKERN_ARCH is case- and space-insensitive


def test_init_cpu_is_idempotent_and_info():
    run_script("""
        import medkern, medkern.runtime as rt
        assert not rt.is_initialized()
        assert medkern.init("cpu") == "cpu"
        assert rt.is_initialized()
        assert medkern.init("cpu") == "cpu"
        assert medkern.init("CPU") == "cpu"
        assert medkern.init() == "cpu"
        assert medkern.init("auto") == "cpu"
        info = rt.info()
        assert set(info) >= {"arch", "device", "taichi", "medkern"}, info
        assert info["arch"] == "cpu" and info["medkern"] == medkern.__version__
        assert isinstance(info["device"], str) and info["device"]
        assert info["taichi"].count(".") == 2
        print("OK")
    """, arch=None)


def test_cannot_switch_arch_after_start():
    run_script("""
        import medkern, medkern.runtime as rt
        assert medkern.init("cpu") == "cpu"
        for other in ("vulkan", "cuda"):
            try:
                medkern.init(other)
            except rt.BackendUnavailableError:
                raise AssertionError("switching must raise a plain RuntimeError")
            except RuntimeError as e:
                assert "cpu" in str(e) and other in str(e) and "switch" in str(e), e
            else:
                raise AssertionError("init(%r) after init('cpu') did not raise" % other)
        assert rt.arch() == "cpu"
        print("OK")
    """, arch=None)


def test_unavailable_cuda_raises_without_fallback():
    run_script("""
        import numpy as np
        import medkern, medkern.runtime as rt, medkern.filters as mf
        try:
            got = medkern.init("cuda")
        except rt.BackendUnavailableError as e:
            assert isinstance(e, RuntimeError)
            msg = str(e)
            assert "cuda" in msg and "not available" in msg, msg
            assert not rt.is_initialized()  # nothing started in its place
            # the process can still choose another arch explicitly
            assert medkern.init("cpu") == "cpu"
        else:  # a machine with a CUDA GPU: it must really be CUDA
            assert got == "cuda" and rt.arch() == "cuda"
        x = np.ones((4, 5), np.float32)
        np.testing.assert_allclose(mf.uniform_filter(x, 3), x)
        print("OK")
    """)


def test_bad_arch_names():
    run_script("""
        import medkern, medkern.runtime as rt
        for bad, exc in (("bogus", ValueError), ("", ValueError), ("gpu", ValueError),
                         (3, TypeError), (["cpu"], TypeError)):
            try:
                medkern.init(bad)
            except exc as e:
                assert "arch" in str(e), e
            else:
                raise AssertionError(f"init({bad!r}) did not raise {exc.__name__}")
        assert not rt.is_initialized()
        print("OK")
    """, arch=None)


def test_bad_env_arch_names_the_variable():
    run_script("""
        import numpy as np
        import medkern.filters as mf, medkern.runtime as rt
        try:
            mf.gaussian_filter(np.ones((4, 4), np.float32), 1.0)
        except ValueError as e:
            assert "MEDKERN_ARCH" in str(e) and "bogus" in str(e), e
        else:
            raise AssertionError("MEDKERN_ARCH=bogus did not raise")
        assert not rt.is_initialized()
        print("OK")
    """, arch="bogus")


@pytest.mark.parametrize("explicit_init", [False, True], ids=["lazy", "init-first"])
def test_kernel_calls_from_threads(explicit_init):
    run_script(f"""
        import threading
        from concurrent.futures import ThreadPoolExecutor
        import numpy as np, scipy.ndimage as ndi
        import medkern, medkern.filters as mf, medkern.runtime as rt
        if {explicit_init}:
            medkern.init("cpu")
        rng = np.random.default_rng(0)
        xs = [rng.uniform(0, 100, (13 + i % 3, 17)).astype(np.float32) for i in range(16)]
        start = threading.Barrier(4)

        def work(i):
            if i < 4:
                start.wait()  # the first launches (and, lazily, the start-up) race
            x = xs[i]
            g = mf.gaussian_filter(x, 1.5)
            m = mf.median_filter(x, size=3)
            d = medkern.asnumpy(mf.uniform_filter(medkern.asarray(x), 3))
            np.testing.assert_allclose(g, ndi.gaussian_filter(x, 1.5), rtol=1e-5, atol=1e-4)
            np.testing.assert_array_equal(m, ndi.median_filter(x, size=3))
            np.testing.assert_allclose(d, ndi.uniform_filter(x, 3), rtol=1e-5, atol=1e-4)
            return threading.get_ident()

        with ThreadPoolExecutor(4) as ex:
            idents = list(ex.map(work, range(16)))
        assert len(set(idents)) > 1
        assert rt.is_initialized() and rt.arch() == "cpu"
        print("OK")
    """)
