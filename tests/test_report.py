"""fmnist.report: recorded results, notebook execution, HTML export and the index page."""

from __future__ import annotations

import json

import nbformat
import pytest

from fmnist import report


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv(report.RESULTS_ENV, str(tmp_path / "results"))
    return tmp_path / "results"


def test_record_and_load(results):
    import numpy as np

    report.record_result("05_cnn", "cnn_medium", params=np.int64(50186), test_accuracy=np.float32(0.9))
    report.record_result("03_mlp", "mlp_deep", params=134794, test_accuracy=0.88)
    frame = report.load_results()
    assert list(frame["model"]) == ["mlp_deep", "cnn_medium"]  # sorted by notebook
    assert frame.loc[1, "params"] == 50186
    assert json.loads((results / "05_cnn__cnn_medium.json").read_text())["profile"] == "quick"
    assert not list(results.glob("*.part"))


def test_record_needs_names(results):
    with pytest.raises(ValueError, match="non-empty"):
        report.record_result("", "x")


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


def test_build_reports_and_failure(tmp_path):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    _notebook(
        nbdir / "01_ok.ipynb",
        "import os\nprint(os.environ['FMNIST_PROFILE'])",
        "from fmnist.report import record_result\nrecord_result('01_ok', 'm', test_accuracy=0.5)",
    )
    _notebook(nbdir / "02_bad.ipynb", "x = 1", "raise ValueError('boom')")
    out = tmp_path / "reports"
    with pytest.raises(report.ReportError, match=r"02_bad.ipynb: cell 1 .*boom"):
        report.build_reports("quick", out_dir=out, notebooks_dir=nbdir, log=lambda *_: None)
    assert (out / "01_ok.html").exists()  # the report written before the failure is kept
    assert not (out / "02_bad.html").exists()
    index = report.build_reports(
        "quick", notebooks=["01_ok"], out_dir=out, notebooks_dir=nbdir, log=lambda *_: None
    )
    page = index.read_text()
    assert "01_ok.html" in page and "0.5" in page and "quick" in page
    with pytest.raises(report.ReportError, match="unknown notebook"):
        report.build_reports("quick", notebooks=["99_x"], out_dir=out, notebooks_dir=nbdir)
