"""Type hints of the public API: the ``py.typed`` marker ships, every annotation resolves, and
(``-m slow``, with mypy installed) a type checker sees a filter's result as its input's kind."""
import importlib.util
import inspect
import os
import sys
import typing

import numpy as np
import pytest

import medkern
import medkern.filters as mf
import medkern.interpolation as mi
import medkern.measurements as mm
from medkern.algorithms import custom, filters as algorithm_filters

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_py_typed_marker_is_packaged():
    assert os.path.isfile(os.path.join(os.path.dirname(medkern.__file__), "py.typed"))
    tomllib = pytest.importorskip("tomllib")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        config = tomllib.load(fh)
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["medkern"]


@pytest.mark.parametrize("module", [mf, mm, mi])
def test_public_annotations_resolve(module):
    for name in module.__all__:
        func = getattr(module, name)
        hints = typing.get_type_hints(func)  # every string annotation names something real
        params = inspect.signature(func).parameters
        assert set(params) <= set(hints) | {"self"}, (name, set(params) - set(hints))
        assert "return" in hints, name
        assert hints.get("input", None) is not typing.Any, name


def test_like_input_leaves_the_function_alone():
    assert mf.gaussian_filter is algorithm_filters.gaussian_filter
    assert list(inspect.signature(mf.gaussian_filter).parameters)[:3] == ["input", "sigma", "order"]
    assert mf.gaussian_filter.__doc__.startswith("Multidimensional Gaussian filter")
    x = np.arange(12.0).reshape(3, 4)
    assert isinstance(mf.uniform_filter(x, 3), np.ndarray)
    assert isinstance(mf.uniform_filter(input=x, size=3), np.ndarray)  # keyword input works
    assert typing.get_type_hints(custom.elementwise)["return"] is medkern.typing.ElementwiseFilter


@pytest.mark.slow
def test_mypy_sees_the_input_kind(tmp_path):
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "use_medkern.py"
    snippet.write_text(
        "import numpy as np\n"
        "import medkern\n"
        "import medkern.filters as mf\n"
        "import medkern.measurements as mm\n"
        "x = np.zeros((4, 4), np.float32)\n"
        "reveal_type(mf.gaussian_filter(x, 2.0))\n"
        "reveal_type(mf.median_filter([[1, 2], [3, 4]], size=3))\n"
        "reveal_type(mf.sobel(medkern.asarray(x), axis=0))\n"
        "reveal_type(mf.uniform_filter(medkern.Volume(x), 3))\n"
        "reveal_type(mm.mean(x))\n"
        "mf.gaussian_filter(x, sigma='wide')\n")
    out, err, _ = api.run([str(snippet), "--follow-imports=silent", "--no-incremental",
                           "--python-executable", sys.executable])
    lines = [line for line in out.splitlines() if line.startswith(str(snippet))]
    revealed = [line.split("Revealed type is ")[1] for line in lines if "Revealed type" in line]
    assert revealed[0].startswith('"numpy.ndarray') and revealed[1].startswith('"numpy.ndarray')
    assert revealed[2] == '"medkern.arrays.DeviceArray"'
    assert revealed[3] == '"medkern.volume.Volume"'
    assert revealed[4] in ('"float"', '"builtins.float"')
    errors = [line for line in lines if ": error:" in line]
    assert len(errors) == 1 and ":11:" in errors[0] and "sigma" in errors[0], out + err


@pytest.mark.slow
def test_mypy_sees_a_dlpack_producer_kind(tmp_path):
    """Another library's array in -> that library's array out (any ``__dlpack__`` producer),
    not numpy.ndarray; numpy input keeps numpy.ndarray."""
    api = pytest.importorskip("mypy.api")
    has_torch = importlib.util.find_spec("torch") is not None
    snippet = tmp_path / "use_dlpack.py"
    snippet.write_text(
        "from typing import Any\n"
        "import numpy as np\n"
        "import medkern.filters as mf\n"
        "from medkern.algorithms import custom\n"
        "class Tensor:\n"
        "    def __dlpack__(self, *, stream: Any = None) -> Any: return None\n"
        "    def __dlpack_device__(self) -> tuple[int, int]: return (1, 0)\n"
        "t = Tensor()\n"
        "reveal_type(mf.gaussian_filter(t, 2.0))\n"
        "reveal_type(mf.median_filter(t, size=3))\n"
        "reveal_type(custom.elementwise(lambda v: v)(t))\n"
        "reveal_type(mf.gaussian_filter(np.zeros((4, 4), np.float32), 2.0))\n"
        "mf.gaussian_filter(t, sigma='wide')\n"
        + ("import torch\n"
           "reveal_type(mf.gaussian_filter(torch.zeros(4, 4), 2.0))\n" if has_torch else ""))
    out, err, _ = api.run([str(snippet), "--follow-imports=silent", "--no-incremental",
                           "--python-executable", sys.executable])
    lines = [line for line in out.splitlines() if line.startswith(str(snippet))]
    revealed = [line.split("Revealed type is ")[1] for line in lines if "Revealed type" in line]
    assert revealed[:3] == ['"use_dlpack.Tensor"'] * 3, out + err
    assert revealed[3].startswith('"numpy.ndarray'), out + err
    if has_torch:
        assert revealed[4] == '"torch._tensor.Tensor"', out + err
    errors = [line for line in lines if ": error:" in line]
    assert len(errors) == 1 and ":13:" in errors[0] and "sigma" in errors[0], out + err
