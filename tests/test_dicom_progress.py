"""Progress of long DICOM reads: ``read_dicom(progress=...)`` and the ``medkern.io.dicom``
logger (INFO: the scan and the series read; DEBUG: coarse decode steps); ``medkern info``
prints none of it by default."""
import logging
import subprocess
import sys

import pytest
from pydicom.data import get_testdata_file

from medkern.io import read_dicom
from test_cli_info import stored_values, write_series

# host-side code (no kernel of its own): the Vulkan run leaves it to the CPU run
pytestmark = pytest.mark.host

LOGGER = "medkern.io.dicom"


def test_progress_reports_every_slice(tmp_path):
    write_series(tmp_path, stored_values((12, 4, 5)))
    calls = []
    vol = read_dicom(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert vol.shape == (12, 4, 5)
    assert calls[0] == (0, 12) and calls[-1] == (12, 12)
    assert [d for d, _ in calls] == list(range(13))  # one file per slice: after each file
    assert {t for _, t in calls} == {12}


def test_progress_counts_frames_of_a_multiframe_file():
    calls = []
    vol = read_dicom(get_testdata_file("rtdose.dcm"), progress=lambda *a: calls.append(a))
    assert calls == [(0, vol.shape[0]), (vol.shape[0], vol.shape[0])]


def test_progress_must_be_callable(tmp_path):
    write_series(tmp_path, stored_values((2, 4, 4)))
    with pytest.raises(TypeError, match="progress must be a callable"):
        read_dicom(tmp_path, progress=42)


def test_an_exception_in_progress_stops_the_read(tmp_path):
    write_series(tmp_path, stored_values((3, 4, 4)))

    def stop(done, total):
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        read_dicom(tmp_path, progress=stop)


def test_logging_info_and_debug(tmp_path, caplog):
    uid = write_series(tmp_path, stored_values((40, 4, 4)))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        read_dicom(tmp_path)
    info = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == LOGGER)
    assert any("scanned 40 file(s): 40 DICOM object(s), 0 unreadable" in m for m in info), info
    assert any(f"series {uid}: decoding 40 slice(s) from 40 file(s)" in m for m in info), info
    assert any(f"read series {uid}: shape (40, 4, 4)" in m for m in info), info
    assert len(info) == 3

    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        read_dicom(tmp_path)
    steps = [r.getMessage() for r in caplog.records
             if r.name == LOGGER and r.levelno == logging.DEBUG and "decoded" in r.getMessage()]
    assert 5 <= len(steps) <= 11, steps  # coarse: about every 10 %, not every slice
    assert steps[-1].endswith("decoded 40/40 slices")


def test_medkern_info_prints_no_log_by_default(tmp_path):
    write_series(tmp_path, stored_values((3, 4, 4)))
    res = subprocess.run([sys.executable, "-m", "medkern.cli", "info", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert "scanned" not in res.stdout and "decod" not in res.stdout
