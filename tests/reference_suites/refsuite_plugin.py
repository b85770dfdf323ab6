"""pytest plugin: swap medkern's functions into a reference package, record outcomes.

Loaded by ``run.py`` with ``-p refsuite_plugin`` into a pytest run of one
reference test module. ``MEDKERN_REFSUITE`` names the suite (see ``swaps.py``),
``MEDKERN_REFSUITE_OUT`` the JSON file the main (or xdist controller) process
writes every test's outcome to.
"""
from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import warnings

_touched: set[str] = set()      # swapped names called during the current test
_results: dict[str, dict] = {}


def _wrap(name: str, func):
    @functools.wraps(func)
    def swapped(*args, **kwargs):
        _touched.add(name)
        caller = sys._getframe(1)
        caught: list = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                return func(*args, **kwargs)
        finally:
            # a warning medkern raises for its caller (stacklevel) lands on this frame, one
            # more than a direct call has: hand it on to the caller, where a test checking
            # the stacklevel looks for it; the others go on unchanged
            for w in caught:
                filename, lineno = w.filename, w.lineno
                if filename == __file__:
                    filename, lineno = caller.f_code.co_filename, caller.f_lineno
                warnings.warn_explicit(w.message, w.category, filename, lineno, source=w.source)
    swapped.__medkern_swap__ = True
    return swapped


def _resolve(spec: str):
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def _capabilities_table() -> dict:
    # SciPy's tests look their array-API marks up by function object
    # (make_xp_test_case(ndimage.correlate)): the swapped function gets the entry
    # of the function it replaces
    try:
        from scipy._lib._array_api import xp_capabilities_table
    except ImportError:
        return {}
    return xp_capabilities_table


def install(suite) -> list[str]:
    """Swap the suite's functions into its target modules; return the names swapped."""
    done = []
    table = _capabilities_table()
    for target in suite.targets:
        mod = importlib.import_module(target)
        for name, spec in suite.swaps.items():
            if hasattr(mod, name):
                original = getattr(mod, name)
                swapped = _wrap(name, _resolve(spec))
                if original in table:
                    table[swapped] = table[original]
                setattr(mod, name, swapped)
                done.append(f"{target}.{name}")
    return done


def _is_xdist_controller(config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_configure(config):
    if _is_xdist_controller(config):
        return              # the workers run the tests; the controller only collects reports
    from swaps import SUITES

    suite = SUITES[os.environ["MEDKERN_REFSUITE"]]
    import medkern
    medkern.init()          # first launch on this (the ti.init) thread
    config._medkern_swapped = install(suite)


def pytest_runtest_setup(item):
    _touched.clear()


def pytest_runtest_teardown(item):
    # user_properties travel with the reports from xdist workers to the controller
    item.user_properties.append(("medkern_touched", sorted(_touched)))


def pytest_runtest_logreport(report):
    entry = _results.setdefault(report.nodeid, {"outcome": "passed", "touched": []})
    for key, value in report.user_properties:
        if key == "medkern_touched":
            entry["touched"] = sorted(set(entry["touched"]) | set(value))
    if report.skipped:
        xfail = hasattr(report, "wasxfail")
        if entry["outcome"] == "passed":
            entry["outcome"] = "xfailed" if xfail else "skipped"
        entry["reason"] = (report.wasxfail if xfail
                           else str(report.longrepr[-1]) if isinstance(report.longrepr, tuple)
                           else str(report.longrepr))[:300]
    elif report.failed:
        entry["outcome"] = "failed" if report.when == "call" else f"error-{report.when}"
        text = getattr(report, "longreprtext", "") or ""
        lines = [ln for ln in text.splitlines() if ln.startswith("E ")]
        entry["reason"] = (" | ".join(lines[:3]) or text[-300:])[:400]
    elif report.passed and report.when == "call" and hasattr(report, "wasxfail"):
        entry["outcome"] = "xpassed"


def pytest_collectreport(report):
    if report.failed:
        _results[report.nodeid or "<collection>"] = {
            "outcome": "error-collect", "touched": [],
            "reason": str(report.longrepr)[-400:]}


def pytest_sessionfinish(session):
    out = os.environ.get("MEDKERN_REFSUITE_OUT")
    if out and not hasattr(session.config, "workerinput"):
        with open(out, "w") as fh:
            json.dump(_results, fh)
