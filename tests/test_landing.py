"""fmnist.course.landing: the index page's cards, table, chart and provenance, on small
synthetic notebooks and records (tests/test_browser.py opens the real page in Chromium)."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import matplotlib.image
import nbformat
import numpy as np
import pytest

from fmnist.course import landing, report

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout these tests belong to


def _png(rows: int, cols: int) -> bytes:
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, np.linspace(0, 1, rows * cols).reshape(rows, cols), format="png")
    return buffer.getvalue()


def _image_cell(*pngs: bytes, tags=()):
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(p).decode()})
                    for p in pngs]  # fmt: skip
    cell.metadata["tags"] = list(tags)
    return cell


def _notebook(path: Path, intro: str, *cells, summary: str | None = None) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(intro), *cells]
    if summary:
        nb.metadata["fmnist"] = {"summary": summary}
    nbformat.write(nb, path)
    return path


def _records(directory: Path, *records: dict):
    directory.mkdir(parents=True, exist_ok=True)
    for i, record in enumerate(records):
        (directory / f"r{i}.json").write_text(json.dumps({"profile": "full", **record}))
    return report.load_results(directory)


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="result[^"]*">.*?</tr>', page)


FIRST, TAGGED = _png(2, 3), _png(3, 2)
CNN = {"notebook": "05_cnn", "machine": "box A", "commit": "abc1234", "backend": "jax",
       "recorded_at": "2026-11-24T17:18:11+00:00"}  # fmt: skip


@pytest.fixture
def site(tmp_path):
    """Two notebook reports (05 with a tagged figure and a summary, 07 without either) and records."""
    nbs, out = tmp_path / "notebooks", tmp_path / "reports"
    nbs.mkdir()
    out.mkdir()
    _notebook(nbs / "05_cnn.ipynb", "# 05 · Convolutional networks\n\nConvolutions share filters.",
              _image_cell(FIRST), _image_cell(TAGGED, FIRST, tags=["key-figure"]),
              summary="CNNs, chosen on dev, tested once.")  # fmt: skip
    _notebook(nbs / "07_regression.ipynb",
              "# 07 · Regression\n\nA small [network](https://x.org) learns "
              "**a 1-D function**. More text.")  # fmt: skip
    for stem in ("05_cnn", "07_regression"):
        (out / f"{stem}.html").write_text("<html></html>")
        landing.write_thumbnail(landing.read_notebook(nbs / f"{stem}.ipynb"), out, stem)
    records = _records(
        tmp_path / "results",
        {**CNN, "model": "cnn_best", "params": 468778, "epochs": 24, "train_time": 1188.04,
         "test_accuracy": 0.93804, "test_loss": 0.1793},
        {"notebook": "05_cnn", "model": "cnn_small", "params": 63050, "test_accuracy": 0.9051,
         "machine": "box B", "recovered_from": "the README"},
        {"notebook": "05_cnn", "model": "cnn_failed", "params": 1000, "test_accuracy": None},
        {"notebook": "07_regression", "model": "single model", "params": 4353, "test_mse": 0.083},
        {"notebook": "07_regression", "model": "5-fold ensemble", "params": 4353, "test_mse": 0.0823},
        {"notebook": "fmnist train", "model": "mlp_medium (default recipe)", "params": 118282},
        {"notebook": "05_cnn", "model": "quick model", "test_accuracy": 0.99, "profile": "quick"},
    )  # fmt: skip
    page = landing.write_index(out, "full", records, notebooks_dir=nbs, built_on="the builder").read_text()
    return out, page


def test_cards_show_title_summary_key_figure_and_best_model(site):
    out, page = site
    assert (out / "thumbs" / "05_cnn.png").read_bytes() == TAGGED  # the tagged cell's first image
    assert not (out / "thumbs" / "07_regression.png").exists()  # no image output: no thumbnail
    cnn = page[page.index('id="card-05_cnn"'):page.index("</article>", page.index('id="card-05_cnn"'))]
    assert '<img src="thumbs/05_cnn.png"' in cnn and '<a href="05_cnn.html">05 · Convolutional networks</a>' in cnn
    assert "CNNs, chosen on dev, tested once." in cnn  # the notebook's metadata.fmnist.summary
    assert "Best test accuracy <b>0.9380</b>: cnn_best, 468,778 parameters." in cnn
    assert "3 models recorded" in cnn  # the quick record is not this page's
    regression = page[page.index('id="card-07_regression"'):]
    assert "A small network learns a 1-D function." in regression  # first sentence, markdown removed
    assert "no figure" in regression and "Lowest test MSE <b>0.0823</b>: 5-fold ensemble" in regression


def test_the_table_groups_by_notebook_and_marks_each_groups_best(site):
    _, page = site
    groups = re.findall(r'<tbody data-notebook="([^"]+)">', page)
    assert groups == ["05_cnn", "07_regression", "fmnist train"]
    best = [row for row in _rows(page) if 'class="result best"' in row]
    assert len(best) == 2  # fmnist train's one record has neither accuracy nor MSE: no best
    assert "cnn_best" in best[0] and 'title="highest test accuracy of 05_cnn"' in best[0]
    assert "5-fold ensemble" in best[1] and 'title="lowest test MSE of 07_regression"' in best[1]
    assert "quick model" not in page
    assert '<a href="05_cnn.html">05_cnn</a> <span class="muted">05 · Convolutional networks</span>' in page
    assert "<th colspan=\"11\" scope=\"colgroup\">fmnist train</th>" in page  # no report to link


def test_numbers_are_formatted_and_sortable_by_their_raw_value(site):
    _, page = site
    row = next(r for r in _rows(page) if "cnn_best" in r)
    assert '<td class="num f-params" data-value="468778.0">468,778</td>' in row
    assert '<td class="num f-train_time" data-value="1188.04">1,188.0</td>' in row
    assert '<td class="num f-test_accuracy" data-value="0.93804">0.9380</td>' in row
    assert '<td class="num f-test_loss" data-value="0.1793">0.1793</td>' in row
    failed = next(r for r in _rows(page) if "cnn_failed" in r)
    assert '<td class="num f-test_accuracy" data-value=""></td>' in failed  # None: empty, sorts last
    assert page.count('data-type="number"') == 6 and "<script>" in page  # every numeric column


def test_each_record_shows_its_provenance_or_not_recorded(site):
    _, page = site
    row = next(r for r in _rows(page) if "cnn_best" in r)
    assert '<td class="f-machine" data-value="box A">box A</td>' in row
    assert '<td class="f-commit" data-value="abc1234">abc1234</td>' in row
    assert '<td class="f-backend" data-value="jax">jax</td>' in row
    assert '<td class="f-recorded_at" data-value="2026-11-24T17:18:11+00:00">2026-11-24 17:18</td>' in row
    small = next(r for r in _rows(page) if "cnn_small" in r)
    for field in ("commit", "backend", "recorded_at"):
        assert f'<td class="missing f-{field}" data-value="">not recorded</td>' in small
    assert 'title="the README">recovered</span>' in small
    # The header names the machine that built the page as such, not as the records' machine.
    assert "Page built on the builder," in page and "made on 2 machine(s)" in page
    assert "Machine:" not in page


def test_the_chart_is_written_and_referenced(site):
    out, page = site
    chart = out / landing.CHART_FILE
    assert chart.read_bytes().startswith(b"\x89PNG") and f'<img src="{landing.CHART_FILE}"' in page
    assert "(2 of 6; regression models have none)" in page  # cnn_failed has no accuracy either


def test_no_chart_without_accuracies_and_a_stale_one_is_removed(site, tmp_path):
    out, _ = site
    records = _records(tmp_path / "regression",
                       {"notebook": "07_regression", "model": "m", "params": 9, "test_mse": 0.1})
    page = landing.write_index(out, "full", records, notebooks_dir=tmp_path / "notebooks").read_text()
    assert not (out / landing.CHART_FILE).exists() and landing.CHART_FILE not in page
    page = landing.write_index(out, "full", records.iloc[:0], notebooks_dir=tmp_path / "notebooks").read_text()
    assert "No results recorded yet." in page and "Page built " in page


def test_bad_input_gives_a_clear_error(site, tmp_path):
    out, _ = site
    records = _records(tmp_path / "r", {"notebook": "05_cnn", "model": "m", "test_accuracy": 0.5})
    with pytest.raises(ValueError, match="unknown profile 'fast'.*valid profiles: full, quick"):
        landing.write_index(out, "fast", records)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "05_cnn.ipynb").write_text('{"cells": [')
    with pytest.raises(ValueError, match=r"05_cnn\.ipynb is not a notebook \(invalid JSON"):
        landing.write_index(out, "full", records, notebooks_dir=broken)
    (broken / "05_cnn.ipynb").write_text("[]")
    with pytest.raises(ValueError, match=r"05_cnn\.ipynb is not a notebook \(no list of cells\)"):
        landing.write_index(out, "full", records, notebooks_dir=broken)


def test_summary_and_title_fallbacks():
    nb = {"cells": [{"cell_type": "markdown", "source": ["# 01 · *Data*\n", "\n", "`fmnist` loads " + "x" * 300]}]}
    assert landing.notebook_title(nb) == "01 · Data"
    summary = landing.notebook_summary(nb)
    assert summary.startswith("fmnist loads x") and summary.endswith("…") and len(summary) == landing.SUMMARY_CHARS
    nb = {"cells": [{"cell_type": "markdown",
                     "source": "# T\n\nWe train cnn_best and mlp_best, **twice**. Then _more_."}]}
    assert landing.notebook_summary(nb) == "We train cnn_best and mlp_best, twice."  # names keep their _
    assert landing.notebook_title({"cells": []}) is None and landing.notebook_summary({"cells": []}) is None
    nb = {"cells": [{"cell_type": "code", "outputs": [{"data": {"image/png": "bm90IGEgcG5n"}}]}]}
    assert landing.key_figure(nb) is None


def test_build_reports_extracts_the_exported_notebooks_key_figure(tmp_path):
    nbs, out = tmp_path / "nbs", tmp_path / "reports"
    nbs.mkdir()
    _notebook(nbs / "03_mlp.ipynb", "# 03 · MLPs\n\nDense layers.", _image_cell(FIRST))
    index = report.build_reports("full", out_dir=out, notebooks_dir=nbs, execute=False, log=lambda *_: None)
    assert (out / "thumbs" / "03_mlp.png").read_bytes() == FIRST
    assert '<img src="thumbs/03_mlp.png"' in index.read_text() and "03 · MLPs" in index.read_text()


def test_every_course_notebook_has_a_title_summary_and_key_figure():
    for path in report.list_notebooks(REPO_ROOT / "notebooks"):
        nb = landing.read_notebook(path)
        assert landing.notebook_title(nb), path.name
        assert nb["metadata"].get("fmnist", {}).get("summary"), f"{path.name}: no metadata.fmnist.summary"
        tagged = [c for c in nb["cells"] if landing.KEY_FIGURE_TAG in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: one cell tagged {landing.KEY_FIGURE_TAG!r}"
        assert landing.key_figure({"cells": tagged}), f"{path.name}: the tagged cell has no PNG output"


def test_a_card_shows_the_records_its_command_shares_under_the_name_without_the_number(tmp_path):
    nbs, out = tmp_path / "notebooks", tmp_path / "reports"
    nbs.mkdir()
    out.mkdir()
    _notebook(nbs / "11_speedrun.ipynb", "# 11 · Speedrun\n\nFast.")
    (out / "11_speedrun.html").write_text("<html></html>")
    records = _records(tmp_path / "results",
                       {"notebook": "speedrun", "model": "speedrun seed 0", "params": 10, "test_accuracy": 0.937},
                       {"notebook": "speedrun", "model": "speedrun seed 1", "params": 10, "test_accuracy": 0.938})
    page = landing.write_index(out, "full", records, notebooks_dir=nbs).read_text()
    card = page[page.index('id="card-11_speedrun"'):]
    assert "Best test accuracy <b>0.9380</b>: speedrun seed 1" in card and "2 models recorded" in card
