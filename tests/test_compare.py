"""``medkern compare`` (medkern.cli / medkern.compare) on the test arch (MEDKERN_ARCH, cpu)."""
import io
import json

import numpy as np
import pytest

from medkern import cli, compare, registry
from medkern.registry import Algorithm

ONLY = ["gaussian_filter", "median_filter", "sum"]
ROW_FIELDS = {"algorithm", "area", "reference", "shape", "dtype", "kwargs", "medkern_ms",
              "reference_ms", "speedup", "compile_s", "max_error", "tolerance", "agrees",
              "skipped", "medkern_times_ms", "reference_times_ms", "note"}


def test_compare_writes_reports(tmp_path, capsys):
    out = tmp_path / "out"
    rc = cli.main(["compare", "--size", "32x40", "--only", ",".join(ONLY), "--repeat", "1",
                   "--out", out])
    captured = capsys.readouterr()
    assert rc == 0, captured.out + captured.err
    for name in ("compare.json", "compare.md", "compare.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    data = json.loads((out / "compare.json").read_text())
    assert data["arch"] == data["machine"]["arch"]
    assert {"device", "taichi", "medkern", "python", "numpy", "scipy"} <= set(data["machine"])
    assert data["args"]["size"] == [32, 40] and data["args"]["repeat"] == 1
    assert data["summary"]["all_agree"] and data["summary"]["compared"] == 3
    assert [r["algorithm"] for r in data["rows"]] == ONLY
    for row in data["rows"]:
        assert ROW_FIELDS <= set(row), row
        assert row["shape"] == [32, 40] and row["dtype"] == "float32"
        assert row["agrees"] is True and row["skipped"] is False
        assert row["medkern_ms"] > 0 and row["reference_ms"] > 0 and row["compile_s"] >= 0
        assert row["speedup"] == pytest.approx(row["reference_ms"] / row["medkern_ms"])
        assert 0 <= row["max_error"] <= row["tolerance"]
        assert len(row["medkern_times_ms"]) == len(row["reference_times_ms"]) == 1

    md = (out / "compare.md").read_text()
    assert "| algorithm |" in md and all(f"| {n} |" in md for n in ONLY)
    # stdout: header line with the backend, then the table
    lines = captured.out.splitlines()
    assert lines[0].startswith("medkern ") and data["arch"] in lines[0] and "taichi" in lines[0]
    assert any(line.startswith("median_filter") and "yes" in line for line in lines)
    # progress went to stderr (not a tty under pytest: one line per algorithm)
    assert "[3/3] sum" in captured.err


def test_unknown_only_name(tmp_path, capsys):
    rc = cli.main(["compare", "--only", "gaussian_filter,no_such_filter", "--out", tmp_path])
    err = capsys.readouterr().err
    assert rc == 2
    assert "no_such_filter" in err and "known:" in err and "median_filter" in err
    assert "Traceback" not in err
    assert not (tmp_path / "compare.json").exists()


def test_list(capsys):
    assert cli.main(["compare", "--list"]) == 0
    out = capsys.readouterr().out
    names = [line.split()[0] for line in out.splitlines()]
    assert names == [a.name for a in registry.algorithms()]
    assert "scipy.ndimage.median_filter" in out


def test_no_subcommand_prints_help(capsys):
    assert cli.main([]) == 0
    assert "compare" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["compare", "--size", "0x4"], ["compare", "--size", "2x3x4x5"],
                                  ["compare", "--repeat", "0"], ["compare", "--arch", "tpu"],
                                  ["nonsense"]])
def test_usage_errors_exit_2(argv, capsys):
    assert cli.main(argv) == 2
    assert "error" in capsys.readouterr().err


def test_unavailable_arch_is_one_line_exit_2(monkeypatch, capsys):
    from medkern import runtime

    def unavailable(arch=None):
        raise runtime.BackendUnavailableError(
            f"requested arch {arch!r} is not available on this machine: cuda: no driver\nmore")
    monkeypatch.setattr(runtime, "init", unavailable)
    assert cli.main(["compare", "--arch", "cuda", "--only", "sum"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not available" in err and "Traceback" not in err


def test_disagreement_exits_1(tmp_path, monkeypatch, capsys):
    bad = Algorithm(name="_off_by_one", area="filters", func=lambda x: x,
                    reference=lambda x: np.asarray(x) + 1, reference_name="test.off_by_one",
                    bench_kwargs={})
    monkeypatch.setitem(registry._REGISTRY, bad.name, bad)
    rc = cli.main(["compare", "--size", "8x9", "--only", "_off_by_one,sum", "--repeat", "1",
                   "--out", tmp_path, "-q"])
    out = capsys.readouterr().out
    assert rc == 1
    rows = json.loads((tmp_path / "compare.json").read_text())["rows"]
    assert [r["agrees"] for r in rows] == [False, True]
    assert "NO" in out and "1 DISAGREE" in out


def test_parse_size():
    assert compare.parse_size("256") == (256, 256, 256)
    assert compare.parse_size("512x512") == (512, 512)
    assert compare.parse_size("128x256x256") == (128, 256, 256)
    for bad in ("", "x", "0", "4x-1", "1x2x3x4", "abc"):
        with pytest.raises(ValueError):
            compare.parse_size(bad)


def test_progress_streams():
    plain = io.StringIO()
    p = compare.Progress(2, plain)
    p.update("a"), p.update("a", "compile"), p.advance(), p.update("b"), p.advance(), p.close()
    assert plain.getvalue() == "[1/2] a\n[2/2] b\n"

    class Tty(io.StringIO):
        def isatty(self):
            return True
    tty = Tty()
    p = compare.Progress(2, tty)
    p.update("a"), p.update("a", "compile"), p.advance(), p.close()
    text = tty.getvalue()
    assert text.startswith("\r[") and "a (compile)" in text and "\n" not in text
    assert text.endswith("\r")


def test_skips_algorithms_without_a_case_for_the_ndim(monkeypatch):
    only3d = Algorithm(name="_only3d", area="filters", func=lambda x: x, reference=lambda x: x,
                       reference_name="test.only3d", bench_kwargs={"_ndim": 3})
    row = compare.compare_one(only3d, np.zeros((4, 5), np.float32), None, repeat=1)
    assert row.skipped and "2-D" in row.note


# --------------------------------------------------------------------------- --dicom
def _dicom_series(directory, shape=(3, 12, 14), spacing=(2.5, 0.7, 0.6), seed=0):
    """A small CT series written with medkern.io.write_dicom; returns (dir, volume)."""
    from medkern import Volume
    from medkern.io import write_dicom
    arr = np.random.default_rng(seed).integers(-1000, 2000, size=shape).astype(np.int16)
    vol = Volume(arr, spacing=spacing[-len(shape):], origin=(1.0, 2.0, 3.0), modality="CT")
    write_dicom(vol, directory)
    return directory, vol


def test_compare_dicom_series(tmp_path, capsys):
    series, vol = _dicom_series(tmp_path / "series")
    out_dir = tmp_path / "out"
    rc = cli.main(["compare", "--dicom", series, "--only", "gaussian_filter,sum", "--repeat", "1",
                   "--out", out_dir, "-q"])
    captured = capsys.readouterr()
    assert rc == 0, captured.out + captured.err
    header = captured.out.splitlines()[0]
    assert "DICOM CT series" in header and "(series/)" in header
    assert "3x12x14 float32 (3-D, read as int16)" in header and "spacing 2.5 x 0.7 x 0.6 mm" in header
    data = json.loads((out_dir / "compare.json").read_text())
    assert data["input"] in header
    assert data["args"]["data"] == "dicom" and data["args"]["size"] == [3, 12, 14]
    assert data["args"]["dicom"] == str(series) and data["args"]["dtype"] == "float32"
    assert [r["shape"] for r in data["rows"]] == [[3, 12, 14]] * 2
    assert data["summary"]["all_agree"] and data["summary"]["compared"] == 2


def test_compare_dicom_native_dtype_and_load(tmp_path):
    series, vol = _dicom_series(tmp_path, shape=(2, 5, 6))
    x, desc = compare.load_dicom(series, dtype="native")
    assert x.dtype == np.int16 and np.array_equal(x, vol.array)
    assert desc.endswith("2x5x6 int16 (3-D), spacing 2.5 x 0.7 x 0.6 mm")
    row = compare.run_on(compare.select(["sum"]), x, repeat=1)[0]
    assert row.agrees and row.dtype == "int16"


def test_compare_dicom_single_slice_is_2d(tmp_path, capsys):
    from pydicom.data import get_testdata_file
    rc = cli.main(["compare", "--dicom", get_testdata_file("CT_small.dcm"), "--only", "sum",
                   "--repeat", "1", "--out", tmp_path, "-q", "--dtype", "native"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "128x128 int16 (2-D), spacing 0.661468 x 0.661468 mm" in captured.out.splitlines()[0]
    rows = json.loads((tmp_path / "compare.json").read_text())["rows"]
    assert rows[0]["shape"] == [128, 128] and rows[0]["dtype"] == "int16"


@pytest.mark.parametrize("extra", [["--size", "16"], ["--data", "phantom"]])
def test_dicom_excludes_size_and_data(tmp_path, capsys, extra):
    series, _ = _dicom_series(tmp_path / "s", shape=(2, 4, 4))
    assert cli.main(["compare", "--dicom", series, *extra, "--out", tmp_path / "o"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--dicom" in err and extra[0] in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv", [["--series", "1.2.3"], ["--dtype", "native"]])
def test_dicom_only_options_need_dicom(argv, capsys):
    assert cli.main(["compare", *argv]) == 2
    assert "needs --dicom" in capsys.readouterr().err


def test_dicom_bad_input_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.dcm"
    bad.write_text("no DICOM here\n")
    assert cli.main(["compare", "--dicom", bad, "--out", tmp_path / "o"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.dcm" in err and "Traceback" not in err

    a, _ = _dicom_series(tmp_path / "two" / "a", shape=(2, 4, 4), seed=1)
    _dicom_series(tmp_path / "two" / "b", shape=(2, 4, 5), seed=2)
    assert cli.main(["compare", "--dicom", tmp_path / "two", "--out", tmp_path / "o"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--series UID" in err and "2x4x4" in err and "2x4x5" in err
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- compare.png legend

def _row(name, agrees, speedup=2.0):
    return compare.Row(name=name, area="filters", reference_name="ref", shape=(8, 8),
                       dtype="float32", kwargs={}, medkern_s=0.01 if speedup else None,
                       reference_s=0.01 * speedup if speedup else None, agrees=agrees)


def _legend_of(rows, tmp_path, monkeypatch):
    """The legend labels and bar colours compare.png is saved with."""
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_hex
    from matplotlib.figure import Figure

    seen = {}
    save = Figure.savefig

    def savefig(fig, *args, **kwargs):
        (ax,) = fig.axes
        legend = ax.get_legend()
        seen["labels"] = [t.get_text() for t in legend.get_texts()] if legend else []
        seen["bars"] = [to_hex(p.get_facecolor()) for p in ax.patches]
        return save(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    assert compare.plot_speedups(rows, str(tmp_path / "compare.png"))
    assert (tmp_path / "compare.png").stat().st_size > 0
    return seen["labels"], seen["bars"]


@pytest.mark.parametrize("agrees, labels", [
    ([True, True], ["agrees"]),
    ([False], ["disagrees"]),
    ([True, False, True], ["agrees", "disagrees"]),
    ([None, True], ["agrees", "not checked"]),
])
def test_chart_legend_shows_only_what_occurs(tmp_path, monkeypatch, agrees, labels):
    rows = [_row(f"f{i}", a) for i, a in enumerate(agrees)]
    got, bars = _legend_of(rows, tmp_path, monkeypatch)
    assert got == labels
    assert bars == [compare.BAR_COLOURS[compare._bar_kind(r)] for r in rows]


def test_chart_without_bars_has_no_legend(tmp_path, monkeypatch):
    # a row that was not timed (e.g. skipped) draws no bar, so nothing to explain
    got, bars = _legend_of([_row("f", None, speedup=None)], tmp_path, monkeypatch)
    assert got == [] and bars == []
