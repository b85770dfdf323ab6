"""``medkern compare`` / ``medkern info`` on hostile arguments and inputs: sizes that cannot
fit in memory, unwritable ``--out``, MemoryError mid-run, directories with unreadable files.
Every failure is exit code 2 with one line on stderr, never a traceback or exit 1; ``info``
on a directory with unreadable files lists what it can and exits 3."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from medkern import cli, compare, registry
from medkern.registry import Algorithm

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host

CT5N = os.path.join(os.path.dirname(get_testdata_file("CT_small.dcm")), "dicomdirtests",
                    "98892001", "CT5N")


def one_line_error(err: str, *words: str, prog: str = "medkern compare") -> None:
    assert err.startswith(f"{prog}: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for w in words:
        assert w in err, err


# --------------------------------------------------------------------------- compare --size

def test_size_beyond_memory_is_refused_before_allocating(tmp_path, capsys, monkeypatch):
    def no_input(*args, **kwargs):  # nothing may be built for a refused size
        raise AssertionError("the input was generated")
    monkeypatch.setattr(compare, "make_input", no_input)
    rc = cli.main(["compare", "--size", "100000x100000", "--only", "sum", "--out", tmp_path])
    captured = capsys.readouterr()
    assert rc == 2
    one_line_error(captured.err, "--size 100000x100000", "10,000,000,000 voxels of float32",
                   "GiB", "available")
    assert captured.out == "" and not (tmp_path / "compare.json").exists()


def test_size_check_uses_available_memory(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(compare, "available_memory", lambda: 1 << 20)  # 1 MiB left
    assert cli.main(["compare", "--size", "64", "--only", "sum", "--out", tmp_path]) == 2
    one_line_error(capsys.readouterr().err, "--size 64x64x64", "1.0 MiB available")
    need = compare.memory_estimate((64, 64, 64), "float32")
    assert 64 ** 3 * 4 * 3 < need < 64 ** 3 * 64
    assert compare.memory_estimate((8, 8), "float64", "phantom") > compare.memory_estimate(
        (8, 8), "float64", "ct")


def test_console_script_huge_size_exit_2():
    res = subprocess.run([sys.executable, "-m", "medkern.cli", "compare", "--size",
                          "100000x100000", "--only", "sum"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 2, res.stderr
    one_line_error(res.stderr, "--size 100000x100000", "memory")


def test_memory_error_during_the_run_is_exit_2(tmp_path, capsys, monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 74.5 GiB for an array")
    monkeypatch.setattr(compare, "run_all", exhausted)
    rc = cli.main(["compare", "--size", "8x8", "--only", "sum", "--out", tmp_path, "-q"])
    captured = capsys.readouterr()
    assert rc == 2
    one_line_error(captured.err, "out of memory", "8x8 float32", "Unable to allocate")
    assert not (tmp_path / "compare.json").exists()


def test_memory_error_in_an_algorithm_is_not_a_disagreement():
    def greedy(x):
        raise MemoryError("Unable to allocate")
    alg = Algorithm(name="_greedy", area="filters", func=greedy, reference=lambda x: x,
                    reference_name="test.greedy", bench_kwargs={})
    with pytest.raises(MemoryError):
        compare.compare_one(alg, np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32), 1)


def test_memory_error_from_an_algorithm_exits_2(tmp_path, capsys, monkeypatch):
    def greedy(x):
        raise MemoryError("Unable to allocate")
    alg = Algorithm(name="_greedy", area="filters", func=greedy, reference=lambda x: x,
                    reference_name="test.greedy", bench_kwargs={})
    monkeypatch.setitem(registry._REGISTRY, alg.name, alg)
    rc = cli.main(["compare", "--size", "4x5", "--only", "_greedy", "--repeat", "1",
                   "--out", tmp_path, "-q"])
    captured = capsys.readouterr()
    assert rc == 2  # not 1: nothing disagreed
    assert captured.err.count("\n") == 1 and "out of memory" in captured.err


# --------------------------------------------------------------------------- compare --out

def _no_run(monkeypatch):
    from medkern import runtime

    def fail(*args, **kwargs):
        raise AssertionError("the comparison started")
    monkeypatch.setattr(compare, "run_all", fail)
    monkeypatch.setattr(runtime, "init", fail)


def test_out_that_is_a_file_is_refused_before_the_run(tmp_path, capsys, monkeypatch):
    _no_run(monkeypatch)
    target = tmp_path / "report"
    target.write_text("not a directory")
    assert cli.main(["compare", "--size", "8", "--only", "sum", "--out", target]) == 2
    captured = capsys.readouterr()
    one_line_error(captured.err, f"--out {target}: exists and is not a directory")
    assert captured.out == ""
    assert cli.main(["compare", "--size", "8", "--only", "sum", "--out", target / "sub"]) == 2
    one_line_error(capsys.readouterr().err, f"{target} is not a directory")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write in read-only directories")
def test_out_not_writable_is_refused_before_the_run(tmp_path, capsys, monkeypatch):
    _no_run(monkeypatch)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert cli.main(["compare", "--size", "8", "--only", "sum", "--out", locked]) == 2
        one_line_error(capsys.readouterr().err, "--out", "cannot write")
        assert cli.main(["compare", "--size", "8", "--only", "sum", "--out", locked / "new"]) == 2
        one_line_error(capsys.readouterr().err, "--out", "not writable")
    finally:
        locked.chmod(0o700)


def test_check_out_dir():
    assert compare.check_out_dir(os.getcwd()) is None


def test_out_is_checked_for_dicom_input_too(tmp_path, capsys, monkeypatch):
    _no_run(monkeypatch)
    target = tmp_path / "file"
    target.write_text("x")
    assert cli.main(["compare", "--dicom", CT5N, "--only", "sum", "--out", target]) == 2
    one_line_error(capsys.readouterr().err, "is not a directory")


# --------------------------------------------------------------------------- unreadable files

@pytest.fixture()
def folder_with_bad_file(tmp_path):
    shutil.copytree(CT5N, tmp_path / "ct")
    shutil.copy(get_testdata_file("badVR.dcm"), tmp_path / "badVR.dcm")
    return tmp_path


def test_info_prints_the_skipped_files_as_one_line(folder_with_bad_file, capsys):
    rc = cli.main(["info", folder_with_bad_file])
    captured = capsys.readouterr()
    assert rc == cli.EXIT_PARTIAL == 3, captured.err  # listed, but a file was unreadable
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err  # one summary for list_series and read_dicom together
    assert lines[0].startswith(f"medkern info: warning: {folder_with_bad_file}: skipped 1 "
                               "unreadable DICOM file(s): badVR.dcm (invalid NumberOfFrames")
    assert "Warning" not in captured.err and "warn(" not in captured.err
    assert "1 series in" in captured.out and "5x16x16 (z, y, x)" in captured.out
    assert "1 of 6 files could not be read and were skipped:" in captured.out
    assert "  1  invalid NumberOfFrames  badVR.dcm" in captured.out.splitlines()


def test_info_with_series_option_and_bad_file(folder_with_bad_file, capsys):
    uid = pydicom.dcmread(os.path.join(CT5N, sorted(os.listdir(CT5N))[0])).SeriesInstanceUID
    rc = cli.main(["info", folder_with_bad_file, "--series", uid])
    captured = capsys.readouterr()
    assert rc == 3 and captured.err.count("\n") == 1 and f"series {uid}" in captured.out


def test_info_on_the_bad_file_itself_is_an_error(capsys):
    rc = cli.main(["info", get_testdata_file("badVR.dcm")])
    captured = capsys.readouterr()
    assert rc == 2
    one_line_error(captured.err, "badVR.dcm", "NumberOfFrames", prog="medkern info")


def test_info_on_a_broken_slice_of_the_series(tmp_path, capsys):
    shutil.copytree(CT5N, tmp_path / "ct")
    victim = sorted((tmp_path / "ct").iterdir())[0]
    raw = victim.read_bytes()
    victim.write_bytes(raw[: len(raw) - 100])  # pixel data cut short
    rc = cli.main(["info", tmp_path])
    captured = capsys.readouterr()
    assert rc == 2
    assert captured.err.count("\n") == 1 and "truncated file" in captured.err
    assert victim.name in captured.err and "Traceback" not in captured.err


def test_console_script_info_no_warning_trace(folder_with_bad_file):
    res = subprocess.run([sys.executable, "-m", "medkern.cli", "info", str(folder_with_bad_file)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 3, res.stderr
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("medkern info: warning: ")
    assert "UserWarning" not in res.stderr and "DicomWarning" not in res.stderr


def test_compare_dicom_with_a_bad_file_warns_in_one_line(folder_with_bad_file, tmp_path, capsys):
    rc = cli.main(["compare", "--dicom", folder_with_bad_file, "--only", "sum", "--repeat", "1",
                   "--out", tmp_path / "out", "-q"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    warned = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warned) == 1 and "badVR.dcm" in warned[0]
    assert warned[0].startswith("medkern compare: warning: ")
