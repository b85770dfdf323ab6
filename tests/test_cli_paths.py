"""The command line on real folders and on every error path it reports: ``medkern info`` on
folders with unreadable files (a summary and exit code 3), library messages in the CLI's
terms (``--series UID``, ``--dicom PATH``, never ``series_uid=``), a bad ``MEDKERN_ARCH`` or
``MEDKERN_PLUGINS`` entry (one line, exit code 2). In-process through ``cli.main``; a
subprocess only where the console script itself is the point."""
import os
import re
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from medkern import cli, registry
from medkern.io import DicomWarning, list_series
from test_cli_info import stored_values, write_series

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host

TEST_FILES = os.path.dirname(get_testdata_file("CT_small.dcm"))
CT5N = os.path.join(TEST_FILES, "dicomdirtests", "98892001", "CT5N")
CT5N_UID = "1.3.6.1.4.1.5962.1.1.0.0.0.1194734704.16302.0.6"


def run(argv, capsys):
    rc = cli.main([*map(str, argv)])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def one_line_error(err, prog, *words):
    assert err.startswith(f"{prog}: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for w in words:
        assert w in err, err


def no_python_names(text):
    for name in ("series_uid", "list_series", "Pass resample=True", "read with rescale="):
        assert name not in text, text


# --------------------------------------------------------------------------- info on real folders

def test_info_on_pydicom_test_files(capsys):
    """pydicom's own test folder: deliberately broken files next to ~40 series."""
    rc, out, err = run(["info", TEST_FILES], capsys)
    assert rc == cli.EXIT_PARTIAL == 3, err
    assert "Traceback" not in out + err
    no_python_names(out + err)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DicomWarning)
        series = list_series(TEST_FILES)
    assert out.startswith(f"{len(series)} series in {TEST_FILES}:")
    table = out.split("\n\n")[0]
    for s in series:  # every readable series is listed
        assert str(s["uid"]) in table
    # the readable image series are described; CT5N's five CT slices among them
    assert f"series {CT5N_UID}" in out and "5x16x16 (z, y, x)" in out
    # the unreadable files: counted by reason, a few names each, not one line per file
    m = re.search(r"^(\d+) of (\d+) files could not be read and were skipped:$", out, re.M)
    assert m and 0 < int(m[1]) < int(m[2]), out
    summary = out[m.start():].splitlines()
    assert any(re.match(r"  +\d+  corrupt header +\S", line) for line in summary), summary
    assert any("badVR.dcm" in line and "invalid NumberOfFrames" in line for line in summary)
    assert len(summary) < 25 and all(len(line) < 400 for line in summary)
    # series that cannot form a volume (colour, no positions...) are listed and counted
    assert "image series could not be read as a volume:" in out
    assert "  not readable as a volume: " in out and "3 samples per pixel" in out
    # stderr: warnings only, one line each
    lines = err.splitlines()
    assert lines and all(line.startswith("medkern info: warning: ") for line in lines), err
    assert len(lines) == 2 and "skipped" in lines[0] and "badVR.dcm" in err


def test_info_summarises_hundreds_of_unreadable_files(tmp_path, capsys):
    shutil.copytree(CT5N, tmp_path / "ct")
    for k in range(150):
        (tmp_path / f"empty{k:03d}.dcm").write_bytes(b"")
    for k in range(60):
        (tmp_path / f"junk{k:03d}.dcm").write_bytes(b"\0" * 300)
    (tmp_path / "README.txt").write_text("not DICOM, skipped silently\n")
    rc, out, err = run(["info", tmp_path], capsys)
    assert rc == 3, err
    assert "1 series in" in out and "5x16x16 (z, y, x)" in out
    tail = out[out.index("210 of 216 files could not be read"):].splitlines()
    assert tail[0] == "210 of 216 files could not be read and were skipped:", tail
    assert tail[1].startswith("  150  empty file ") and "empty000.dcm, empty001.dcm, " \
        "empty002.dcm, ... (+147)" in tail[1], tail
    assert tail[2].startswith("   60  not a DICOM file ") and tail[2].endswith("(+57)"), tail
    assert len(tail) == 3
    assert err.count("\n") == 1 and "210 unreadable DICOM file(s)" in err and "and 207 more" in err
    assert len(out.splitlines()) < 30


def test_info_all_readable_is_exit_0(tmp_path, capsys):
    write_series(tmp_path / "a", stored_values((3, 4, 5), 1), description="first")
    rc, out, err = run(["info", tmp_path], capsys)
    assert rc == 0 and err == ""
    assert "could not be read" not in out


def test_info_series_without_uid_and_a_broken_series(tmp_path, capsys):
    """Several image series: one without SeriesInstanceUID (read through its own files, no
    'series_uid=' advice) and one that cannot form a volume (listed, counted, exit 3)."""
    good = write_series(tmp_path / "good", stored_values((3, 4, 5), 1), description="good")
    write_series(tmp_path / "nouid", stored_values((2, 4, 4), 2), description="no uid")
    for f in (tmp_path / "nouid").iterdir():
        ds = pydicom.dcmread(f)
        del ds.SeriesInstanceUID
        ds.save_as(f)
    bad = write_series(tmp_path / "bad", stored_values((3, 4, 4), 3), description="bad")
    victim = sorted((tmp_path / "bad").iterdir())[1]
    ds = pydicom.dcmread(victim)
    ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    ds.save_as(victim)

    rc, out, err = run(["info", tmp_path], capsys)
    assert rc == 3, err
    no_python_names(out + err)
    assert f"series {good}" in out and "3x4x5 (z, y, x)" in out
    assert "series None" in out and "2x4x4 (z, y, x)" in out
    section = out[out.index(f"series {bad}"):].splitlines()
    assert section[1].startswith("  not readable as a volume: slices have 2 different "
                                 "orientations"), section
    assert str(tmp_path) not in section[1]  # file names relative to PATH
    assert "1 of 3 image series could not be read as a volume:" in out
    assert re.search(rf"^  1  slices have N different orientations +{bad}$", out, re.M), out
    assert err.count("\n") == 1 and err.startswith("medkern info: warning: 1 of 3 image series")


def test_info_chosen_series_that_cannot_be_read_is_exit_2(tmp_path, capsys):
    uid = write_series(tmp_path, stored_values((3, 4, 4), 3))
    victim = sorted(tmp_path.iterdir())[1]
    ds = pydicom.dcmread(victim)
    ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    ds.save_as(victim)
    rc, out, err = run(["info", tmp_path, "--series", uid], capsys)
    one_line_error(err, "medkern info", "different orientations")
    assert rc == 2


def test_info_unknown_series_speaks_the_option(tmp_path, capsys):
    write_series(tmp_path, stored_values((2, 4, 4)))
    rc, out, err = run(["info", tmp_path, "--series", "1.2.3"], capsys)
    assert rc == 2 and out == ""
    one_line_error(err, "medkern info", "--series 1.2.3: no such series")


# --------------------------------------------------------------------------- library messages

@pytest.mark.parametrize("library, cli_words", [
    ("d: 2 image series found; choose one with series_uid= (see medkern.io.list_series):\n  a\n  b",
     "choose one with --series UID (see `medkern info PATH`): a b"),
    ("d: no series with SeriesInstanceUID 1.2.3; present:\n  x", "no series 1.2.3 (--series 1.2.3); present: x"),
    ("f: RescaleSlope 0 is 0 or below the normal float64 range, which maps every stored value "
     "to the intercept; read with rescale=False for the stored values",
     "the command line reads rescaled values only (in Python, medkern.io.read_dicom(PATH, "
     "rescale=False) gives the stored values)"),
    ("f: ... Modality LUT Sequence, which medkern does not apply; read with rescale=False",
     "does not apply; the command line reads rescaled values only"),
    ("d: slice spacing is not uniform ... Pass resample=True to interpolate linearly onto a "
     "uniform grid, or a larger spacing_tolerance",
     "The command line reads evenly spaced series only (in Python, medkern.io.read_dicom(PATH, "
     "resample=True)"),
])
def test_library_wording_becomes_cli_wording(library, cli_words):
    text = cli._cli_text(library)
    assert cli_words in text and "\n" not in text
    assert not re.search(r"(?<!\()\b(series_uid|rescale|resample)=(?!\S*\))", text), text


def _uneven_series(directory):
    uid = write_series(directory, stored_values((3, 4, 4)), spacing=2.5)
    last = sorted(directory.iterdir())[0]  # file names are in reverse slice order
    ds = pydicom.dcmread(last)
    ds.ImagePositionPatient = [-10.0, 20.0, 30.0 + 7.5]  # gaps 2.5, 5.0
    ds.save_as(last)
    return uid


def test_compare_dicom_errors_speak_cli_options(tmp_path, capsys):
    out = tmp_path / "out"
    common = ["--only", "sum", "--repeat", "1", "--out", out, "-q"]
    # a missing path: named once, after the option
    rc, _, err = run(["compare", "--dicom", tmp_path / "nope", *common], capsys)
    assert rc == 2
    one_line_error(err, "medkern compare", f"--dicom {tmp_path / 'nope'}: no such file")
    assert err.count(str(tmp_path / "nope")) == 1
    # several series: the option to choose one
    a = write_series(tmp_path / "two" / "a", stored_values((2, 4, 4), 1))
    write_series(tmp_path / "two" / "b", stored_values((2, 4, 4), 2))
    rc, _, err = run(["compare", "--dicom", tmp_path / "two", *common], capsys)
    assert rc == 2
    one_line_error(err, "medkern compare", "choose one with --series UID", a)
    no_python_names(err)
    # an unknown --series
    rc, _, err = run(["compare", "--dicom", tmp_path / "two", "--series", "1.2.3", *common],
                     capsys)
    assert rc == 2
    one_line_error(err, "medkern compare", "--series 1.2.3", a)
    no_python_names(err)
    # uneven slice gaps: no Python keyword as if it were an option
    _uneven_series(tmp_path / "uneven")
    rc, _, err = run(["compare", "--dicom", tmp_path / "uneven", *common], capsys)
    assert rc == 2
    one_line_error(err, "medkern compare", "not uniform", "evenly spaced series only")
    no_python_names(err)
    assert not out.exists()


def test_info_uneven_series_speaks_cli(tmp_path, capsys):
    _uneven_series(tmp_path)
    rc, _, err = run(["info", tmp_path], capsys)
    assert rc == 2
    one_line_error(err, "medkern info", "not uniform", "evenly spaced series only")
    no_python_names(err)


def test_bad_medkern_arch_names_the_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MEDKERN_ARCH", "tpu")
    rc, out, err = run(["compare", "--size", "8", "--only", "sum", "--out", tmp_path], capsys)
    assert rc == 2
    one_line_error(err, "medkern compare", "MEDKERN_ARCH=tpu: must be one of")
    assert "--arch" not in err


# --------------------------------------------------------------------------- MEDKERN_PLUGINS

@pytest.fixture()
def plugins(monkeypatch):
    """Set MEDKERN_PLUGINS for a fresh registry load; the registry is restored afterwards."""
    monkeypatch.setattr(registry, "_LOADED", False)
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    def use(value):
        monkeypatch.setenv("MEDKERN_PLUGINS", str(value))
    return use


@pytest.mark.parametrize("argv", [["compare", "--list"], ["compare", "--size", "8"]])
def test_plugin_file_that_does_not_exist(tmp_path, capsys, plugins, argv):
    plugins(tmp_path / "nope.py")
    rc, out, err = run(argv, capsys)
    assert rc == 2 and out == ""
    one_line_error(err, "medkern compare", "MEDKERN_PLUGINS", "nope.py", "no such file")


def test_plugin_that_raises_on_import(tmp_path, capsys, plugins):
    bad = tmp_path / "bad_plugin.py"
    bad.write_text("import numpy\n\nraise RuntimeError('boom: not ready')\n")
    plugins(bad)
    rc, out, err = run(["compare", "--list"], capsys)
    assert rc == 2 and out == ""
    one_line_error(err, "medkern compare", "MEDKERN_PLUGINS", "bad_plugin.py",
                   "RuntimeError: boom: not ready (line 3)")
    assert "medkern_plugin_bad_plugin" not in sys.modules


def test_plugin_with_a_syntax_error(tmp_path, capsys, plugins):
    bad = tmp_path / "typo.py"
    bad.write_text("x = 1\ndef f(:\n")
    plugins(bad)
    rc, out, err = run(["compare", "--list"], capsys)
    assert rc == 2
    one_line_error(err, "medkern compare", "typo.py", "SyntaxError", "(line 2)")


def test_plugin_module_that_cannot_be_found(capsys, plugins):
    plugins("no_such_medkern_plugin_module")
    rc, out, err = run(["compare", "--list"], capsys)
    assert rc == 2
    one_line_error(err, "medkern compare", "no module named 'no_such_medkern_plugin_module'")


def test_plugin_error_is_an_import_error(tmp_path, plugins):
    plugins(tmp_path / "nope.py")
    with pytest.raises(ImportError, match="no such file"):
        registry.algorithms()
    with pytest.raises(registry.PluginError):
        registry.algorithms()  # not marked loaded: still refused


def test_console_script_bad_plugin_no_traceback(tmp_path):
    env = dict(os.environ, MEDKERN_PLUGINS=str(tmp_path / "missing.py"))
    res = subprocess.run([sys.executable, "-m", "medkern.cli", "compare", "--list"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 2, res.stderr
    assert res.stdout == ""
    one_line_error(res.stderr, "medkern compare", "MEDKERN_PLUGINS", "missing.py")


def test_info_describes_nifti_and_npz_files(tmp_path, capsys):
    import numpy as np
    import medkern
    from medkern.io import write_nifti
    vol = medkern.Volume(np.arange(2 * 3 * 4 * 5, dtype=np.int16).reshape(2, 3, 4, 5),
                         spacing=(2.0, 1.0, 0.5))
    write_nifti(vol, tmp_path / "four.nii.gz")
    vol.save(tmp_path / "four.npz")
    for name, kind in (("four.nii.gz", "nifti"), ("four.npz", "npz")):
        assert cli.main(["info", str(tmp_path / name)]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"{kind} file ")
        assert "2x3x4x5 (c, z, y, x)" in out and "2 x 1 x 0.5 mm (z, y, x)" in out
        assert "LPS" in out and "rescale" not in out
    assert cli.main(["info", str(tmp_path / "four.nii.gz"), "--series", "1.2"]) == 2
    assert "not a DICOM folder" in capsys.readouterr().err
