"""Test configuration: the arch comes from MEDKERN_ARCH (default: cpu for tests)."""
import os

os.environ.setdefault("MEDKERN_ARCH", "cpu")


def vulkan_subset(values, keep):
    """Parametrize values: every one runs on the CPU arch; the second backend run (Vulkan,
    which leaves out ``exhaustive``) runs only those in ``keep`` -- a representative part
    of a sweep over data, so both backends are checked and CI stays in its time budget."""
    import pytest
    from _pytest.mark.structures import ParameterSet

    # a value that is already a pytest.param keeps its own marks (e.g. slow)
    return [v if v in keep or isinstance(v, ParameterSet)
            else pytest.param(v, marks=pytest.mark.exhaustive) for v in values]
