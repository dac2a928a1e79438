"""The built reports in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium, the pages served over HTTP on 127.0.0.1.

Built from the committed notebooks and full-profile records, as ``fmnist report --profile full
--no-execute`` builds ``reports/``. Skipped, with what to install, when the browser is missing;
under ``CI=true`` a missing browser fails instead (``.ci/run`` installs it), as the real-data
tests do.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from fmnist.course import browser, landing
from fmnist.course.report import build_reports, load_results

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout these tests belong to

# One worker for the module: its module fixtures (the built site, the browser) are built once.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

#: Every image's natural width and every link and image source, as the browser resolved them.
IMAGES = "return Array.from(document.images, (img) => [img.currentSrc, img.complete, img.naturalWidth]);"
LINKS = "return Array.from(document.querySelectorAll('a[href]'), (a) => a.href);"


def _column(driver, header: str) -> dict[str, list[str]]:
    """``{notebook: data-values of the column headed header, in row order}``."""
    return driver.execute_script(
        """const th = Array.from(document.querySelectorAll("table.results thead th"))
             .find((cell) => cell.textContent.trim() === arguments[0]);
           const column = Array.from(th.parentNode.children).indexOf(th);
           const groups = {};
           document.querySelectorAll("table.results tbody").forEach((body) => {
             groups[body.dataset.notebook] = Array.from(body.querySelectorAll("tr.result"),
               (row) => row.children[column].dataset.value);
           });
           return groups;""",
        header,
    )


def _severe(driver) -> list[dict]:
    """The console entries at level SEVERE since the last call (get_log empties the buffer)."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    reason = browser.missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI=true but the browser test cannot run: {reason}")
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("reports")
    shutil.copytree(REPO_ROOT / "reports" / "results", out / "results")
    build_reports("full", execute=False, out_dir=out, notebooks_dir=REPO_ROOT / "notebooks", log=lambda *_: None)
    return out


@pytest.fixture(scope="module")
def page(site, tmp_path_factory):
    """``(driver, base URL)``: the browser, and the server of the built reports."""
    with browser.serve(site) as url, browser.chromium(tmp_path_factory.mktemp("chromium")) as driver:
        yield driver, url


def test_the_index_loads_every_image_and_link_without_console_errors(site, page):
    driver, url = page
    driver.get(url + "index.html")
    images = driver.execute_script(IMAGES)
    stems = [p.stem for p in sorted(site.glob("[0-9][0-9]_*.html"))]
    notebooks = len(list((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    assert len(stems) == notebooks >= 11 and len(images) == len(stems) + 1  # a thumbnail per card, the chart
    assert {src.rsplit("/", 1)[-1] for src, _, _ in images} == {f"{s}.png" for s in stems} | {landing.CHART_FILE}
    assert all(complete and width > 0 for _, complete, width in images), images
    local = {href.split("#")[0] for href in driver.execute_script(LINKS) if href.startswith(url)}
    assert {urllib.parse.urlsplit(href).path.lstrip("/") for href in local} == {f"{s}.html" for s in stems}
    assert {href: _status(href) for href in local} == {href: 200 for href in local}
    assert _severe(driver) == []


def test_the_table_and_the_chart_are_there(site, page):
    driver, url = page
    driver.get(url + "index.html")
    records = load_results(site / "results", profile="full")
    rows = driver.find_elements("css selector", "table.results tbody tr.result")
    assert len(rows) == len(records) > 20
    best = driver.find_elements("css selector", "table.results tr.best")
    # every group with a test metric has its best marked (the speedrun's dev-split runs have none)
    tested = records[records[["test_accuracy", "test_mse"]].notna().any(axis=1)]
    assert len(best) == tested["notebook"].nunique() >= 10
    chart = driver.find_element("css selector", f'figure.chart img[src="{landing.CHART_FILE}"]')
    assert chart.get_property("naturalWidth") > 500 and chart.is_displayed()


def test_a_click_on_a_header_sorts_the_rows_within_each_group(page):
    driver, url = page
    driver.get(url + "index.html")
    before = _column(driver, "Test accuracy")
    assert before["05_cnn"] != sorted(before["05_cnn"], key=float)  # recorded order: by name
    header = driver.find_element("xpath", "//table[contains(@class,'results')]//th[normalize-space()='Test accuracy']")
    header.find_element("tag name", "button").click()
    ascending = _column(driver, "Test accuracy")
    assert header.get_attribute("aria-sort") == "ascending"
    for notebook, values in ascending.items():
        numbers = [v for v in values if v != ""]
        assert values == numbers + [""] * (len(values) - len(numbers)), notebook  # empty last
        assert [float(v) for v in numbers] == sorted(float(v) for v in numbers), notebook
        assert sorted(values) == sorted(before[notebook])  # the same rows, only reordered
    header.click()
    descending = _column(driver, "Test accuracy")
    assert header.get_attribute("aria-sort") == "descending"
    assert [float(v) for v in descending["05_cnn"]] == sorted((float(v) for v in before["05_cnn"]), reverse=True)
    groups = driver.execute_script(
        "return Array.from(document.querySelectorAll('table.results tbody'), (b) => b.rows[0].className);")
    assert set(groups) == {"group"}  # each group's heading row stays on top
    assert _severe(driver) == []


def test_a_notebook_report_loads_its_figures_without_console_errors(page):
    driver, url = page
    driver.get(url + "05_cnn.html")
    assert driver.title == "05_cnn"
    images = driver.execute_script(IMAGES)
    assert len(images) >= 5 and all(complete and width > 0 for _, complete, width in images)
    assert _severe(driver) == []  # no CDN script failing to load offline


def test_the_screenshot_is_a_png_of_the_whole_page(site, tmp_path):
    png = browser.screenshot(site / "index.html", tmp_path / "index.png", width=1000)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")  # IHDR
    assert width == 1000 and height > 2000  # cards, chart and table: the whole page
    with pytest.raises(FileNotFoundError, match="no page to take a screenshot of"):
        browser.screenshot(site / "missing.html", tmp_path / "x.png")
