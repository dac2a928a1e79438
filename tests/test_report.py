"""fmnist.course.report: recorded results, notebook execution, HTML export and the index page."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from fmnist.course import report
from fmnist.atomic import atomic_write_text

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout these tests belong to


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
    assert json.loads((results / "05_cnn__cnn_medium__quick.json").read_text())["profile"] == "quick"
    assert not list(results.glob("*.part"))


def test_a_quick_run_never_replaces_a_full_record(results, monkeypatch):
    monkeypatch.setenv("FMNIST_PROFILE", "full")
    report.record_result("07_regression", "single model", test_mse=0.08)
    monkeypatch.setenv("FMNIST_PROFILE", "quick")
    report.record_result("07_regression", "single model", test_mse=0.35)
    report.record_result("07_regression", "single model", test_mse=0.30)  # a quick rerun replaces
    frame = report.load_results().set_index("profile")
    assert sorted(frame.index) == ["full", "quick"]
    assert frame.loc["full", "test_mse"] == 0.08 and frame.loc["quick", "test_mse"] == 0.30


def test_load_results_of_one_profile(results):
    report.record_result("05_cnn", "cnn_small", test_accuracy=0.5, profile="quick")
    report.record_result("05_cnn", "cnn_small", test_accuracy=0.9, profile="full")
    report.record_result("03_mlp", "mlp_deep", test_accuracy=0.8, profile="full")
    full = report.load_results(profile="full")
    assert list(full["model"]) == ["mlp_deep", "cnn_small"] and set(full["profile"]) == {"full"}
    assert list(full.index) == [0, 1]
    assert list(report.load_results(profile="quick")["test_accuracy"]) == [0.5]
    assert len(report.load_results()) == 3
    assert report.load_results(results / "none", profile="full").empty
    with pytest.raises(ValueError, match="unknown profile 'fast'.*valid profiles: full, quick"):
        report.load_results(profile="fast")


def test_load_results_keeps_the_latest_of_duplicate_records(results):
    # A file named before the profile was part of the name, and a newer one of the same model.
    results.mkdir()
    old = {"notebook": "05_cnn", "model": "cnn_best", "profile": "full", "test_accuracy": 0.93,
           "recorded_at": "2026-11-01T00:00:00+00:00"}  # fmt: skip
    (results / "05_cnn__cnn_best.json").write_text(json.dumps(old))
    (results / "05_cnn__cnn_best__full.json").write_text(
        json.dumps({**old, "test_accuracy": 0.94, "recorded_at": "2026-11-02T00:00:00+00:00"}))
    frame = report.load_results()
    assert len(frame) == 1 and frame.loc[0, "test_accuracy"] == 0.94


def test_results_markdown_names_the_machine_and_formats_numbers(results):
    report.record_result("05_cnn", "cnn_medium", params=50186, epochs=10, train_time=201.4,
                         test_accuracy=0.91234, test_loss=0.25)  # fmt: skip
    report.record_result("07_regression", "single model", params=1153, epochs=1000, test_mse=0.0431)
    text = report.results_markdown(report.load_results())
    assert text.startswith(f"Machine: {report.machine_summary()}.\n")
    assert "| 05_cnn | cnn_medium | quick | 50,186 | 10 | 201 | 0.9123 | 0.2500 |  |" in text
    assert "| 07_regression | single model | quick | 1,153 | 1000 |  |  |  | 0.0431 |" in text
    assert report.results_markdown(report.load_results(results / "none")) == "No results recorded yet.\n"



def test_record_under_an_explicit_profile(results, monkeypatch):
    monkeypatch.setenv("FMNIST_PROFILE", "quick")
    report.record_result("fmnist train", "cnn_large (default recipe)", profile="full", test_accuracy=0.9)
    record = json.loads((results / "fmnist_train__cnn_large_default_recipe__full.json").read_text())
    assert record["profile"] == "full" and record["notebook"] == "fmnist train"
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        report.record_result("fmnist train", "x", profile="huge")
    assert not list(results.glob("*huge*"))

def test_update_readme_replaces_only_the_results_block(results, tmp_path):
    report.record_result("03_mlp", "mlp_deep", params=134794, test_accuracy=0.88)
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n{report.README_BEGIN}\nold table\n{report.README_END}\n\ntail\n")
    report.update_readme(readme, report.load_results())
    text = readme.read_text()
    assert text.startswith(f"# title\n\n{report.README_BEGIN}\nMachine: ")
    assert "old table" not in text and "| 03_mlp | mlp_deep |" in text
    assert text.endswith(f"{report.README_END}\n\ntail\n")
    readme.write_text("no markers\n")
    with pytest.raises(report.ReportError, match="has no results block"):
        report.update_readme(readme, report.load_results())
    assert readme.read_text() == "no markers\n"


def test_the_readme_table_is_generated_from_the_committed_full_records():
    # The README's numbers must come from records in the repository, not from a lost checkout.
    root = REPO_ROOT
    records = report.load_results(root / "reports" / "results")
    records = records[records["profile"] == "full"]
    assert len(records), "no full-profile records in reports/results/"
    readme = (root / "README.md").read_text(encoding="utf-8")
    start = readme.index(report.README_BEGIN) + len(report.README_BEGIN)
    block = readme[start:readme.index(report.README_END)]
    assert block == "\n" + report.results_markdown(records), (
        "README results table differs from the records: "
        "run `fmnist results --profile full --readme README.md`")


def _git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True, timeout=60)  # fmt: skip


def test_a_record_names_commit_backend_and_time(results, tmp_path, monkeypatch):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    _git(checkout, "init", "-q")
    _git(checkout, "commit", "-q", "--allow-empty", "-m", "x")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=checkout, capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    monkeypatch.setenv(report.HOME_ENV, str(checkout))
    fake_keras = types.SimpleNamespace(backend=types.SimpleNamespace(backend=lambda: "jax"))
    monkeypatch.setitem(sys.modules, "keras", fake_keras)
    record = json.loads(report.record_result("05_cnn", "m", test_accuracy=0.9).read_text())
    assert record["commit"] == head and record["backend"] == "jax"
    assert record["machine"] == report.machine_summary()
    assert record["recorded_at"].endswith("+00:00")  # UTC


def test_unknown_provenance_is_left_out_not_guessed(results, tmp_path, monkeypatch):
    monkeypatch.setenv(report.HOME_ENV, str(tmp_path))  # not a git checkout
    monkeypatch.delitem(sys.modules, "keras", raising=False)  # Keras not loaded: nothing trained
    record = json.loads(report.record_result("05_cnn", "m", test_accuracy=0.9).read_text())
    assert "commit" not in record and "backend" not in record
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert report.git_commit(REPO_ROOT) is None
    assert report.keras_backend() is None


def test_record_needs_names(results):
    with pytest.raises(ValueError, match="non-empty"):
        report.record_result("", "x")


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


@pytest.mark.slow
def test_build_reports_and_failure(tmp_path):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    _notebook(
        nbdir / "01_ok.ipynb",
        "import os\nprint(os.environ['FMNIST_PROFILE'])",
        "from fmnist.course.report import record_result\nrecord_result('01_ok', 'm', test_accuracy=0.5)",
    )
    _notebook(nbdir / "02_bad.ipynb", "x = 1", "raise ValueError('boom')")
    out = tmp_path / "reports"
    with pytest.raises(report.ReportError, match=r"02_bad.ipynb: cell 1 .*boom"):
        report.build_reports("quick", out_dir=out, notebooks_dir=nbdir, log=lambda *_: None)
    assert (out / "01_ok.html").exists()  # the report written before the failure is kept
    assert not (out / "02_bad.html").exists()
    # The executed notebook's wall time is recorded; the failed one has none.
    assert list(report.load_timings(out, profile="quick")["notebook"]) == ["01_ok"]
    index = report.build_reports(
        "quick", notebooks=["01_ok"], out_dir=out, notebooks_dir=nbdir, log=lambda *_: None
    )
    page = index.read_text()
    assert "01_ok.html" in page and "0.5" in page and "quick" in page
    with pytest.raises(report.ReportError, match="unknown notebook"):
        report.build_reports("quick", notebooks=["99_x"], out_dir=out, notebooks_dir=nbdir)


def test_a_cell_over_the_time_limit_is_named(tmp_path):
    _notebook(tmp_path / "03_slow.ipynb", "x = 1", "import time\ntime.sleep(30)")
    with pytest.raises(report.ReportError, match=r"03_slow.ipynb: cell 1 \('import time'\) ran longer than "
                       r"the per-cell limit of 2 s \(fmnist report --cell-timeout SECONDS\)"):  # fmt: skip
        report.execute_notebook(tmp_path / "03_slow.ipynb", timeout=2)


def test_export_without_executing_keeps_the_stored_outputs(tmp_path):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    nb = nbformat.v4.new_notebook()
    # Running this cell would fail: only its stored output may reach the report.
    cell = nbformat.v4.new_code_cell("raise SystemExit('must not run')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="stored full-profile output\n")]
    nb.cells = [cell]
    nbformat.write(nb, nbdir / "05_stored.ipynb")
    out = tmp_path / "reports"
    index = report.build_reports("full", out_dir=out, notebooks_dir=nbdir, execute=False, log=lambda *_: None)
    assert "stored full-profile output" in (out / "05_stored.html").read_text()
    assert "05_stored.html" in index.read_text() and "full" in index.read_text()
    with pytest.raises(report.ReportError, match="write_notebooks needs execute=True"):
        report.build_reports("full", out_dir=out, notebooks_dir=nbdir, execute=False, write_notebooks=True)


def test_an_exported_report_loads_nothing_from_the_network(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 05 · CNNs"), nbformat.v4.new_code_cell("1 + 1")]
    page = report.export_html(nb, tmp_path / "05_cnn.html").read_text()
    assert "<title>05_cnn</title>" in page and "05 · CNNs" in page
    assert not re.search(r"<script[^>]+src=", page)  # require.js, MathJax: CDN scripts
    assert 'rel="icon"' in page  # no request for /favicon.ico


def test_index_lists_only_the_results_of_its_profile(tmp_path, results):
    report.record_result("05_cnn", "quick model", test_accuracy=0.5, profile="quick")
    report.record_result("05_cnn", "full model", test_accuracy=0.9, profile="full")
    page = report.write_index(tmp_path, "full", results).read_text()
    assert "full model" in page and "quick model" not in page
    page = report.write_index(tmp_path, "quick", results).read_text()
    assert "quick model" in page and "full model" not in page


def test_corrupt_result_record_names_the_file(tmp_path):
    atomic_write_text(tmp_path / "good.json", '{"notebook": "03_mlp", "model": "m"}')
    assert list(report.load_results(tmp_path)["model"]) == ["m"]
    atomic_write_text(tmp_path / "bad.json", '{"notebook": "03_')  # e.g. a hand-edited record
    with pytest.raises(ValueError, match=r"bad\.json.*not a valid JSON record"):
        report.load_results(tmp_path)


def test_resume_skips_the_notebooks_whose_report_is_current(tmp_path):
    nbdir, out, ran = tmp_path / "nbs", tmp_path / "reports", tmp_path / "ran.txt"
    nbdir.mkdir()
    for name in ("01_a", "02_b"):  # each execution appends its name to ran.txt
        _notebook(nbdir / f"{name}.ipynb", f"open({str(ran)!r}, 'a').write('{name}\\n')")
    def build(**kw):
        return report.build_reports("quick", out_dir=out, notebooks_dir=nbdir, log=lambda *_: None, **kw)
    build(resume=True)  # nothing stamped yet: both run
    assert ran.read_text().split() == ["01_a", "02_b"]
    stamp = json.loads((out / ".stamps" / "02_b.json").read_text())
    assert stamp["profile"] == "quick" and stamp["code"] == report.code_fingerprint()
    build(resume=True)  # all current: nothing runs, the index is still written
    assert ran.read_text().split() == ["01_a", "02_b"] and (out / "index.html").is_file()
    _notebook(nbdir / "02_b.ipynb", "x = 1", f"open({str(ran)!r}, 'a').write('02_b\\n')")  # changed
    (out / "01_a.html").unlink()  # a missing report is not current either
    build(resume=True)
    assert ran.read_text().split() == ["01_a", "02_b", "01_a", "02_b"]
    with pytest.raises(report.ReportError, match="resume .* needs execute=True"):
        build(resume=True, execute=False)


def test_a_stamp_of_another_profile_or_code_is_not_current(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    (tmp_path / ".stamps").mkdir()
    (tmp_path / "01_a.html").write_text("<html></html>")
    stamp = report._stamp("quick", nb, "0.1.0+abc")
    (tmp_path / ".stamps" / "01_a.json").write_text(json.dumps(stamp))
    assert report._is_current(tmp_path, "01_a", stamp)
    assert not report._is_current(tmp_path, "01_a", report._stamp("full", nb, "0.1.0+abc"))
    assert not report._is_current(tmp_path, "01_a", report._stamp("quick", nb, "0.1.0+def"))
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="1")]  # outputs do not count
    assert report._is_current(tmp_path, "01_a", report._stamp("quick", nb, "0.1.0+abc"))


def test_trust_tables_and_the_results_table_split_the_records(results, tmp_path):
    report.record_result("10_trust", "cnn_best (calibration)", params=468778, test_accuracy=0.9391,
                         ece=0.0212, ece_scaled=0.0081, nll=0.19, nll_scaled=0.17, temperature=1.31234,
                         mean_corrupted_accuracy=0.71)  # fmt: skip
    report.record_result("10_trust", "deep ensemble (regression coverage)", coverage=0.81,
                         coverage_in_gaps=0.3, coverage_with_noise=0.97, coverage_with_noise_in_gaps=0.52)  # fmt: skip
    records = report.load_results()
    text = report.trust_markdown(records)
    assert "| cnn_best (calibration) | 0.9391 | 0.0212 | 0.0081 | 0.1900 | 0.1700 | 1.312 | 0.7100 |" in text
    assert "| deep ensemble (regression coverage) | 0.81 | 0.30 | 0.97 | 0.52 |" in text
    # The coverage record has no test metric: it is in the trust tables only.
    table = report.results_markdown(records)
    assert "cnn_best (calibration)" in table and "regression coverage" not in table
    assert report.trust_markdown(report.load_results(results / "none")) == "No trust records yet.\n"
    readme = tmp_path / "README.md"
    readme.write_text(f"{report.README_BEGIN}\nx\n{report.README_END}\n{report.TRUST_BEGIN}\ny\n{report.TRUST_END}\n")
    report.update_readme(readme, records)
    written = readme.read_text()
    assert f"{report.TRUST_BEGIN}\n{text}{report.TRUST_END}" in written and "\ny\n" not in written


def test_the_readme_trust_tables_are_generated_from_the_committed_full_records():
    records = report.load_results(REPO_ROOT / "reports" / "results", profile="full")
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(report.TRUST_BEGIN) + len(report.TRUST_BEGIN)
    assert readme[start:readme.index(report.TRUST_END)] == "\n" + report.trust_markdown(records), (
        "README trust tables differ from the records: run `fmnist results --profile full --readme README.md`")


def test_notebook_wall_times_are_recorded_and_summed(tmp_path):
    report.record_notebook_time(tmp_path, "03_mlp", "full", 600.04)
    report.record_notebook_time(tmp_path, "01_data", "full", 60)
    report.record_notebook_time(tmp_path, "01_data", "quick", 5)
    timings = report.load_timings(tmp_path, profile="full")
    assert list(timings["notebook"]) == ["01_data", "03_mlp"] and list(timings["wall_seconds"]) == [60.0, 600.0]
    assert set(timings["machine"]) == {report.machine_summary()}
    text = report.timings_markdown(timings)
    assert "| 03_mlp | 10.0 | " in text and "| **sum (2 notebooks)** | **11.0** | | | |" in text
    assert report.timings_markdown(report.load_timings(tmp_path / "none")) == "No notebook wall times recorded yet.\n"
    with pytest.raises(ValueError, match="unknown profile 'long'"):
        report.record_notebook_time(tmp_path, "01_data", "long", 1)
    readme = tmp_path / "README.md"
    readme.write_text(f"{report.README_BEGIN}\n{report.README_END}\n{report.TIMINGS_BEGIN}\nold\n{report.TIMINGS_END}\n")
    report.update_readme(readme, report.load_results(tmp_path / "none"), timings)
    assert f"{report.TIMINGS_BEGIN}\n{text}{report.TIMINGS_END}" in readme.read_text()


def test_the_readme_wall_times_are_generated_from_the_committed_records():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(report.TIMINGS_BEGIN) + len(report.TIMINGS_BEGIN)
    timings = report.load_timings(REPO_ROOT / "reports", profile="full")
    assert readme[start:readme.index(report.TIMINGS_END)] == "\n" + report.timings_markdown(timings), (
        "README wall times differ from reports/timings: run `fmnist results --profile full --readme README.md`")
