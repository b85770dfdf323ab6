"""Run reference packages' own test suites with medkern's functions swapped in.

    python tests/reference_suites/run.py                 # SciPy's ndimage suites, CPU arch
    python tests/reference_suites/run.py --arch vulkan
    python tests/reference_suites/run.py --suite scipy.ndimage/test_filters -n 2
    python tests/reference_suites/run.py --list

Prints per suite: tests counted, passed, expected deviations (listed in
``deviations.py`` with their reasons), other skips/xfails, and every unexpected
failure. Exit status 1 when a counted test fails unexpectedly.

scikit-image's tests are not in its wheel: the suites under ``skimage/`` run from
the source distribution of the *installed* version, fetched once from the package
registry (pip's index) into ``~/.cache/medkern/reference-suites``.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from deviations import DEVIATIONS  # noqa: E402
from swaps import DEFAULT, SUITES, Suite  # noqa: E402

CACHE = Path(os.environ.get("MEDKERN_REFSUITE_CACHE", Path.home() / ".cache/medkern/reference-suites"))


def _skimage_tests() -> Path:
    """The ``tests`` folder of the installed scikit-image's sdist (fetched once)."""
    import skimage

    version = skimage.__version__
    root = CACHE / f"scikit_image-{version}"
    if (root / "tests").is_dir():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                        ":all:", "--no-build-isolation", f"scikit-image=={version}", "-d", tmp],
                       capture_output=True)  # fails when building metadata; the tarball stays
        tarballs = list(Path(tmp).glob("scikit_image-*.tar.gz"))
        if not tarballs:
            tarballs = [_fetch_sdist("scikit-image", version, Path(tmp))]
        with tarfile.open(tarballs[0]) as tar:
            members = [m for m in tar.getmembers()
                       if m.name.split("/", 2)[1:2] in (["tests"], ["pyproject.toml"])]
            tar.extractall(CACHE, members=members, filter="data")
    return root


def _fetch_sdist(project: str, version: str, dest: Path) -> Path:
    """Download the sdist through the simple index pip uses."""
    import re
    import urllib.request

    index = "https://pypi.org/simple"
    html = urllib.request.urlopen(f"{index}/{project}/", timeout=60).read().decode()
    name = f"{project.replace('-', '_')}-{version}.tar.gz"
    url = next(u for u in re.findall(r'href="([^"]+)"', html) if name in u)
    path = dest / name
    path.write_bytes(urllib.request.urlopen(url, timeout=300).read())
    return path


def _pytest_command(suite: Suite, workers: str) -> tuple[list[str], Path]:
    args = [sys.executable, "-m", "pytest", "-p", "refsuite_plugin", "-q", "-rN",
            "-p", "no:cacheprovider", "--tb=short", "-o", "addopts=",
            "-W", "ignore::DeprecationWarning"]
    if workers != "0":
        args += ["-n", workers]
    if suite.name.startswith("skimage/"):
        root = _skimage_tests()
        rel = suite.test_module.replace(".", "/")  # skimage.filters.tests.test_gaussian
        parts = rel.split("/")
        path = root / "tests" / "skimage" / "/".join(p for p in parts[1:] if p != "tests")
        # tests/conftest.py above only installs a terminal reporter (pytest-pretty): not loaded
        args += ["-c", str(root / "pyproject.toml"), "--rootdir", str(root),
                 "--confcutdir", str(root / "tests" / "skimage"), f"{path}.py"]
        return args, root
    # SciPy's tests ship inside the wheel and run by module name
    args += ["-c", os.devnull, "--pyargs", suite.test_module]
    return args, Path(tempfile.gettempdir())


def run_suite(suite: Suite, arch: str, workers: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.json"
        args, cwd = _pytest_command(suite, workers)
        env = dict(os.environ, MEDKERN_ARCH=arch, MEDKERN_REFSUITE=suite.name,
                   MEDKERN_REFSUITE_OUT=str(out),
                   PYTHONPATH=os.pathsep.join([str(HERE), str(HERE.parents[1]),
                                               os.environ.get("PYTHONPATH", "")]))
        start = time.perf_counter()
        proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if not out.exists():
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"{suite.name}: pytest wrote no results (rc={proc.returncode})")
        results = json.loads(out.read_text())
    return {"results": results, "seconds": seconds}


def classify(suite: Suite, results: dict) -> dict:
    deviations = [d for d in DEVIATIONS if d.suite == suite.name]
    counted, passed, expected, other, unexpected, stale = 0, 0, [], [], [], []
    for nodeid, entry in sorted(results.items()):
        if suite.count == "touched" and not entry.get("touched"):
            continue
        counted += 1
        test_id = nodeid.split("::", 1)[-1]
        dev = next((d for d in deviations if fnmatch.fnmatchcase(test_id, d.pattern)), None)
        if entry["outcome"] == "passed":
            passed += 1
            if dev is not None:
                stale.append((test_id, dev.pattern))
        elif dev is not None:
            expected.append((test_id, entry["outcome"], dev.reason))
        elif entry["outcome"] in ("skipped", "xfailed"):
            other.append((test_id, entry["outcome"], entry.get("reason", "")))
        else:
            unexpected.append((test_id, entry["outcome"], entry.get("reason", "")))
    return {"counted": counted, "passed": passed, "expected": expected, "other": other,
            "unexpected": unexpected, "stale": stale}


def report(suite: Suite, arch: str, c: dict, seconds: float, verbose: bool) -> None:
    pct = 100.0 * c["passed"] / c["counted"] if c["counted"] else 0.0
    scope = "every collected test" if suite.count == "all" else "tests calling a medkern function"
    print(f"\n== {suite.name} [{arch}] ({scope}): {c['passed']}/{c['counted']} passed ({pct:.2f}%), "
          f"{len(c['expected'])} expected deviations, {len(c['other'])} skipped/xfailed by the "
          f"reference, {len(c['unexpected'])} unexpected failures; {seconds:.0f} s")
    if c["expected"]:
        reasons: dict[str, list[str]] = {}
        for test_id, _, reason in c["expected"]:
            reasons.setdefault(reason, []).append(test_id)
        print("  expected deviations:")
        for reason, ids in reasons.items():
            shown = ", ".join(ids[:3]) + (f" (+{len(ids) - 3})" if len(ids) > 3 else "")
            print(f"    - {len(ids)} x {reason}\n        {shown}")
    for title, key in (("skipped/xfailed by the reference", "other"),
                       ("UNEXPECTED failures", "unexpected")):
        rows = c[key]
        if rows:
            print(f"  {title}:")
            for test_id, outcome, reason in rows[: None if verbose else 40]:
                print(f"    {outcome:14s} {test_id}  {reason[:160]}")
            if not verbose and len(rows) > 40:
                print(f"    ... {len(rows) - 40} more (--verbose)")
    for test_id, pattern in c["stale"]:
        print(f"  passes although listed as a deviation ({pattern}): {test_id}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="append", help="suite name (repeatable); default: SciPy's three")
    parser.add_argument("--arch", default=os.environ.get("MEDKERN_ARCH", "cpu"))
    parser.add_argument("-n", dest="workers", default="auto", help="pytest-xdist workers (0: none)")
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--json", help="write the classified counts here")
    parser.add_argument("--raw", help="write every test's outcome and reason here (JSON)")
    opts = parser.parse_args(argv)
    if opts.list:
        for name, suite in SUITES.items():
            print(f"{name:40s} {suite.test_module} ({len(suite.swaps)} swaps, counts {suite.count})")
        return 0
    failed = False
    summary, raw = {}, {}
    for name in opts.suite or DEFAULT:
        suite = SUITES[name]
        run = run_suite(suite, opts.arch, opts.workers)
        c = classify(suite, run["results"])
        report(suite, opts.arch, c, run["seconds"], opts.verbose)
        summary[name] = {k: (len(v) if isinstance(v, list) else v) for k, v in c.items()}
        summary[name]["seconds"] = round(run["seconds"])
        raw[name] = run["results"]
        failed |= bool(c["unexpected"])
    if opts.raw:
        Path(opts.raw).write_text(json.dumps(raw, indent=0))
    if opts.json:
        Path(opts.json).write_text(json.dumps({"arch": opts.arch, "suites": summary}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
