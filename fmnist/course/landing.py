"""The landing page ``reports/index.html``: what a reader opens first.

Built from the exported notebook reports, the notebooks and the result records, never retyped:

* one card per notebook report: its title (the notebook's first heading), one line on what it
  teaches (:func:`notebook_summary`), its key figure as a thumbnail (:func:`write_thumbnail`,
  called by ``build_reports`` for each notebook it exports) and its best recorded model;
* one chart, test accuracy against parameters (:func:`write_chart`);
* the results table, one group per notebook, the best model of each group marked, numbers
  formatted, sortable in the browser by a click on a column header (inline JavaScript, no
  server), and the provenance of every record: machine, commit, date, backend ("not
  recorded" where an older record lacks it).

Every file is written atomically, next to ``index.html`` and referenced by a relative path, so
the directory can be opened from disk, served or copied as it is. The chart is drawn with
matplotlib here rather than in :mod:`fmnist.visualization`: records are the course layer's
(the layers below know none), and that package's import loads Keras, which a page does not need.

Example (``fmnist.course.report.write_index`` loads the records and calls this)::

    from fmnist.course.landing import write_index
    write_index("reports", "full", records, notebooks_dir="notebooks", built_on="my laptop")
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import html
import io
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from fmnist.atomic import atomic_write_bytes, atomic_write_text
from fmnist.course.paths import notebooks_dir as default_notebooks_dir
from fmnist.course.profiles import get_profile

__all__ = [
    "CHART_FILE", "KEY_FIGURE_TAG", "NOT_RECORDED", "THUMBS_DIR", "best_models", "key_figure",
    "notebook_summary", "notebook_title", "read_notebook", "render_index", "write_chart",
    "write_index", "write_thumbnail",
]  # fmt: skip

#: Directory (in the reports directory) of the cards' thumbnails, ``<stem>.png``.
THUMBS_DIR = "thumbs"
#: The chart's file, next to ``index.html``.
CHART_FILE = "accuracy_vs_params.png"
#: Cell tag choosing a notebook's key figure: the first PNG output of the tagged cell.
KEY_FIGURE_TAG = "key-figure"
#: What a record's missing provenance (machine, commit, date, backend) reads as.
NOT_RECORDED = "not recorded"
#: Longest card summary (characters) taken from a notebook's introduction.
SUMMARY_CHARS = 160

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: The table's columns: (record field, header, format). An int is the number of decimals;
#: numbers also go into ``data-value`` unformatted, which the sort compares.
COLUMNS = [
    ("model", "Model", "text"), ("params", "Params", "int"), ("epochs", "Epochs", "int"),
    ("train_time", "Train time (s)", 1), ("test_accuracy", "Test accuracy", 4),
    ("test_loss", "Test loss", 4), ("test_mse", "Test MSE", 4), ("machine", "Machine", "text"),
    ("backend", "Backend", "text"), ("commit", "Commit", "text"), ("recorded_at", "Recorded (UTC)", "date"),
]  # fmt: skip
_PROVENANCE = ("machine", "backend", "commit", "recorded_at")


# --- the notebooks: title, summary, key figure ------------------------------------------------


def read_notebook(path: str | Path) -> dict:
    """A notebook file as plain JSON (the cards need no nbformat), naming the file if it is bad."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"{path} is not a notebook (invalid JSON: {exc})") from exc
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path} is not a notebook (no list of cells)")
    return nb


def _text(value) -> str:
    """A cell source or output: a string, or (as stored on disk) a list of lines."""
    return "".join(value) if isinstance(value, list) else str(value or "")


def _markdown(nb: Mapping) -> list[str]:
    return [_text(c.get("source")) for c in nb.get("cells", []) if c.get("cell_type") == "markdown"]


def notebook_title(nb: Mapping) -> str | None:
    """The first markdown heading of the notebook (``# 05 · CNNs`` -> ``05 · CNNs``), or None."""
    for source in _markdown(nb):
        for line in source.splitlines():
            if re.match(r"#+\s", line):
                return _plain_markdown(line.lstrip("#").strip())
    return None


def notebook_summary(nb: Mapping) -> str | None:
    """One line on what the notebook teaches, or None.

    The notebook's own ``metadata.fmnist.summary`` when set (the course notebooks set one: an
    introduction's first sentence tends to set the scene rather than say what is taught), else
    the first sentence of the first paragraph after the title, markdown removed, at most
    :data:`SUMMARY_CHARS` characters.
    """
    summary = nb.get("metadata", {}).get("fmnist", {}).get("summary")
    if isinstance(summary, str) and summary.strip():
        return summary.strip()
    markdown = _markdown(nb)
    paragraphs = re.split(r"\n\s*\n", markdown[0]) if markdown else []
    for paragraph in paragraphs:
        if paragraph.strip() and not paragraph.lstrip().startswith(("#", "|", "<", "```")):
            text = _plain_markdown(" ".join(paragraph.split()))
            sentence = re.match(r"(.+?[.!?])(\s|$)", text)
            text = sentence.group(1) if sentence else text
            return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"
    return None


def _plain_markdown(text: str) -> str:
    """``text`` without markdown's links, code spans and emphasis (their words kept)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    text = re.sub(r"`([^`]+)`", r"\1", text)
    text = re.sub(r"(\*\*?)(\S.*?)\1", r"\2", text)
    # Underscores only around words: cnn_best is a name, not emphasis.
    text = re.sub(r"(?<!\w)(__?)(\S.*?)\1(?!\w)", r"\2", text)
    return text.strip()


def key_figure(nb: Mapping) -> bytes | None:
    """The PNG a card shows: the first image output of the cell tagged :data:`KEY_FIGURE_TAG`,
    else the notebook's first image output; None when it has no (valid) PNG output."""
    images = []  # (tagged, png bytes), in notebook order
    for cell in nb.get("cells", []):
        tagged = KEY_FIGURE_TAG in cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            encoded = output.get("data", {}).get("image/png")
            if encoded:
                png = base64.b64decode(_text(encoded))
                if png.startswith(_PNG_SIGNATURE):  # a damaged output would be a broken image
                    images.append((tagged, png))
    chosen = next((png for tagged, png in images if tagged), None)
    return chosen or (images[0][1] if images else None)


def write_thumbnail(nb: Mapping, out_dir: str | Path, stem: str) -> Path | None:
    """Write the key figure of ``nb`` to ``out_dir/thumbs/<stem>.png`` (atomically) and return
    the path; without one, remove a stale thumbnail and return None. The figure is copied at
    its full resolution: the browser scales it, and it stays sharp on a high-density screen."""
    path = Path(out_dir) / THUMBS_DIR / f"{stem}.png"
    png = key_figure(nb)
    if png is None:
        path.unlink(missing_ok=True)
        return None
    return atomic_write_bytes(path, png)


# --- the records: numbers, best models, the chart ---------------------------------------------


def _numeric(records: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as floats, NaN where missing (None, pd.NA, absent column, text)."""
    if column not in records:
        return pd.Series(np.nan, index=records.index, dtype=float)
    return pd.to_numeric(records[column], errors="coerce").astype(float)


def _best_row(group: pd.DataFrame):
    """Index of the best record of a group: highest test accuracy; for a group without
    accuracies (regression), lowest test MSE; None when it has neither."""
    accuracy, mse = _numeric(group, "test_accuracy"), _numeric(group, "test_mse")
    if accuracy.notna().any():
        return accuracy.idxmax()
    if mse.notna().any():
        return mse.idxmin()
    return None


def best_models(records: pd.DataFrame) -> dict[str, object]:
    """``{notebook: index of its best record}`` (see :func:`_best_row`; the first of a tie)."""
    if records.empty:
        return {}
    best = {name: _best_row(group) for name, group in records.groupby("notebook", sort=True)}
    return {name: index for name, index in best.items() if index is not None}


def _marker_area(seconds: pd.Series, longest: float) -> np.ndarray:
    """Marker area (points^2) proportional to training time; the smallest when not recorded."""
    share = seconds.fillna(0).to_numpy() / longest if longest > 0 else np.zeros(len(seconds))
    return 16 + 484 * share


def write_chart(records: pd.DataFrame, path: str | Path) -> Path | None:
    """Test accuracy against parameters (log x), one point per model with both numbers, marker
    area proportional to training time, one colour per notebook, the best of each labelled.

    Written as a PNG (atomically); returns None, and removes a stale chart, when no record
    has both a test accuracy and a parameter count (regression records have no accuracy).
    """
    path = Path(path)
    points = pd.DataFrame(
        {"notebook": records.get("notebook"), "model": records.get("model"),
         "params": _numeric(records, "params"), "accuracy": _numeric(records, "test_accuracy"),
         "seconds": _numeric(records, "train_time")}  # fmt: skip
    ).dropna(subset=["params", "accuracy"])
    points = points[points["params"] > 0]  # a log axis
    if points.empty:
        path.unlink(missing_ok=True)
        return None
    longest = float(points["seconds"].max()) if points["seconds"].notna().any() else 0.0
    fig = Figure(figsize=(9, 4.6), layout="constrained")
    ax = fig.add_subplot()
    for i, (notebook, group) in enumerate(points.groupby("notebook", sort=True)):
        area = _marker_area(group["seconds"], longest)
        ax.scatter(group["params"], group["accuracy"], s=area, color=f"C{i % 10}", alpha=0.7,
                   edgecolors="white", linewidths=0.8, label=notebook)  # fmt: skip
        best = int(np.argmax(group["accuracy"].to_numpy()))
        radius = math.sqrt(area[best]) / 2  # points: the label starts beside the marker
        ax.annotate(group["model"].iloc[best], (group["params"].iloc[best], group["accuracy"].iloc[best]),
                    xytext=(radius + 3, 0), textcoords="offset points", va="center", fontsize=7,
                    color=f"C{i % 10}", zorder=3,  # over the markers, readable on a white patch
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                          "alpha": 0.8})  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Every recorded model: test accuracy against size")
    ax.grid(True, which="both", alpha=0.3)
    legend = fig.legend(loc="outside right upper", fontsize=8, title="notebook", title_fontsize=8, frameon=False)
    for handle in legend.legend_handles:  # one marker size in the key; the areas are time
        handle.set_sizes([30])
    if longest > 0:  # a key to the marker areas: up to three round training times
        times = [t for t in (10, 60, 300, 1200) if t <= longest][-3:] or [longest]
        keys = [Line2D([], [], linestyle="", marker="o", color="grey", alpha=0.5,  # size: diameter
                       markersize=math.sqrt(_marker_area(pd.Series([t]), longest)[0])) for t in times]  # fmt: skip
        fig.legend(keys, [f"{t:g} s" for t in times], loc="outside right lower", fontsize=8, labelspacing=1.3,
                   title="marker area:\ntraining time", title_fontsize=8, frameon=False)  # fmt: skip
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    return atomic_write_bytes(path, buffer.getvalue())


# --- the page -----------------------------------------------------------------------------------


def _is_missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _cell(value, fmt, field: str) -> str:
    """One ``<td>`` (class ``f-<field>``): the formatted text, and the raw value in
    ``data-value`` for the sort: the number unformatted, the date in ISO 8601, "" if missing."""
    if fmt == "int" or isinstance(fmt, int):
        number = float(pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0])
        if math.isnan(number):
            return f'<td class="num f-{field}" data-value=""></td>'
        text = f"{round(number):,}" if fmt == "int" else f"{number:,.{fmt}f}"
        return f'<td class="num f-{field}" data-value="{number!r}">{text}</td>'
    if _is_missing(value) or value == "":
        return f'<td class="missing f-{field}" data-value="">{NOT_RECORDED}</td>'
    raw = text = str(value)
    if fmt == "date":
        with contextlib.suppress(ValueError):  # not ISO 8601: shown as written
            moment = _dt.datetime.fromisoformat(raw).astimezone(_dt.timezone.utc)
            raw, text = moment.isoformat(), f"{moment:%Y-%m-%d %H:%M}"
    return f'<td class="f-{field}" data-value="{html.escape(raw)}">{html.escape(text)}</td>'


def _criterion(group: pd.DataFrame) -> str:
    """What made the best record of ``group`` the best (as :func:`_best_row` chose it)."""
    return "highest test accuracy" if _numeric(group, "test_accuracy").notna().any() else "lowest test MSE"


def _model_cell(row: pd.Series, best: str | None) -> str:
    """The model's name, marked ``best`` (``best`` says why) and ``recovered`` as applicable."""
    name = html.escape(str(row["model"]))
    badges = ""
    if best:
        badges += f' <span class="badge best" title="{html.escape(best)}">best</span>'
    recovered = row.get("recovered_from")
    if not _is_missing(recovered):
        badges += f' <span class="badge recovered" title="{html.escape(str(recovered))}">recovered</span>'
    return f'<td class="f-model" data-value="{name}">{name}{badges}</td>'


def _headline(group: pd.DataFrame | None, best) -> str:
    if group is None or best is None:
        return "No model recorded."
    row = group.loc[best]
    accuracy, mse = _numeric(group, "test_accuracy").loc[best], _numeric(group, "test_mse").loc[best]
    if math.isnan(accuracy):
        what = f"Lowest test MSE <b>{mse:.4f}</b>"
    else:
        what = f"Best test accuracy <b>{accuracy:.4f}</b>"
    params = _numeric(group, "params").loc[best]
    size = f", {round(params):,} parameters" if not math.isnan(params) else ""
    models = f"{len(group)} model{'s' if len(group) != 1 else ''} recorded"
    return f"{what}: {html.escape(str(row['model']))}{size}. <span class=\"muted\">{models}.</span>"


def _card(stem: str, title: str, out_dir: Path, nb: Mapping | None, group: pd.DataFrame | None, best) -> str:
    summary = notebook_summary(nb) if nb is not None else None
    href = html.escape(f"{stem}.html")
    thumb = out_dir / THUMBS_DIR / f"{stem}.png"
    image = (
        f'<a href="{href}" tabindex="-1"><img src="{THUMBS_DIR}/{html.escape(stem)}.png" '
        f'alt="Key figure of {html.escape(stem)}"></a>'
        if thumb.is_file()
        else '<div class="nothumb">no figure</div>'
    )
    lines = [f'<article class="card" id="card-{html.escape(stem)}">', image,
             f'<h3><a href="{href}">{html.escape(title)}</a></h3>']  # fmt: skip
    if summary:
        lines.append(f'<p class="summary">{html.escape(summary)}</p>')
    lines += [f'<p class="headline">{_headline(group, best)}</p>', "</article>"]
    return "\n".join(lines)


def _table(records: pd.DataFrame, best: Mapping[str, object], titles: Mapping[str, str]) -> str:
    """One ``<tbody>`` per notebook: a heading row (linked to the report when there is one),
    then its records. ``titles``: ``{stem: title}`` of the notebook reports."""
    columns = [c for c in COLUMNS if c[0] in _PROVENANCE or c[0] == "model" or _numeric(records, c[0]).notna().any()]
    head = "".join(
        f'<th scope="col" data-type="{"text" if fmt in ("text", "date") else "number"}">'
        f'<button type="button">{html.escape(label)}</button></th>'
        for _, label, fmt in columns
    )
    bodies = []
    for notebook, group in records.groupby("notebook", sort=True):
        name = html.escape(str(notebook))
        label = name
        if notebook in titles:
            label = f'<a href="{name}.html">{name}</a> <span class="muted">{html.escape(titles[notebook])}</span>'

        rows = [f'<tr class="group"><th colspan="{len(columns)}" scope="colgroup">{label}</th></tr>']
        why = f"{_criterion(group)} of {notebook}"
        for index, row in group.iterrows():
            is_best = best.get(notebook) == index
            cells = [_model_cell(row, why if is_best else None) if field == "model"
                     else _cell(row.get(field), fmt, field)
                     for field, _, fmt in columns]  # fmt: skip
            rows.append(f'<tr class="result{" best" if is_best else ""}">{"".join(cells)}</tr>')
        bodies.append(f'<tbody data-notebook="{name}">\n' + "\n".join(rows) + "\n</tbody>")
    return (f'<table class="results sortable">\n<thead><tr>{head}</tr></thead>\n' + "\n".join(bodies)
            + "\n</table>")  # fmt: skip


#: Click a header to sort the rows of every notebook's group by that column (again: reversed).
#: Numbers compare by their ``data-value``; empty cells stay last in both directions.
_SORT_SCRIPT = """
document.querySelectorAll("table.sortable th[data-type]").forEach((th) => {
  th.addEventListener("click", () => {
    const table = th.closest("table");
    const column = Array.from(th.parentNode.children).indexOf(th);
    const ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach((other) => other.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const key = (row) => row.children[column].dataset.value;
    const order = (a, b) => {
      if (a === "" || b === "") return (a === "") - (b === "");
      const d = th.dataset.type === "number" ? Number(a) - Number(b) : a.localeCompare(b);
      return ascending ? d : -d;
    };
    table.querySelectorAll("tbody").forEach((body) => {
      Array.from(body.querySelectorAll("tr.result"))
        .sort((a, b) => order(key(a), key(b)))
        .forEach((row) => body.appendChild(row));
    });
  });
});
"""

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:78em;margin:1.5em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em} .muted,.provenance{color:#666} .provenance{font-size:.9em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(17em,1fr));gap:1em}
.card{border:1px solid #ddd;border-radius:6px;padding:.6em .8em;background:#fafafa}
.card img,.nothumb{width:100%;height:9.5em;object-fit:contain;background:#fff;border:1px solid #eee}
.nothumb{display:flex;align-items:center;justify-content:center;color:#999}
.card h3{font-size:1.02em;margin:.5em 0 .3em} .card p{margin:.3em 0;font-size:.92em}
.chart img{max-width:100%;height:auto}
table.results{border-collapse:collapse;font-size:.88em;width:100%}
.results td,.results th{border-bottom:1px solid #ddd;padding:.25em .5em;text-align:left}
.results td{white-space:nowrap} .results td.f-model,.results td.f-machine{white-space:normal}
.results td.num{text-align:right;font-variant-numeric:tabular-nums}
.results thead th{position:sticky;top:0;background:#fff}
.results th button{all:unset;cursor:pointer;font-weight:bold}
.results th[aria-sort=ascending] button::after{content:" \\25B2"}
.results th[aria-sort=descending] button::after{content:" \\25BC"}
.results tr.group th{background:#eef2f7;padding-top:.5em}
.results tr.best td{background:#fff7d6} td.missing{color:#999;font-style:italic}
.badge{font-size:.75em;padding:0 .4em;border-radius:3px;margin-left:.3em}
.badge.best{background:#e6a700;color:#fff} .badge.recovered{background:#ccc;color:#333}
"""


def render_index(
    profile: str, records: pd.DataFrame, cards: list[str], chart: str | None, built_on: str | None,
    titles: Mapping[str, str],
) -> str:
    """The page's HTML from its parts (see :func:`write_index`, which makes them): ``cards``'
    HTML, the chart's file name (or None), ``titles`` ``{stem: title}`` of the reports."""
    best = best_models(records)
    now = _dt.datetime.now(_dt.timezone.utc)
    machines = records["machine"].dropna().nunique() if "machine" in records else 0
    built = f"Page built on {html.escape(built_on)}, " if built_on else "Page built "
    provenance = (
        f"{built}{now:%Y-%m-%d %H:%M} UTC, from {len(records)} result record(s) made on "
        f"{machines} machine(s): each row of the table names its own machine, backend, commit and date."
    )
    figure = (
        f'<figure class="chart"><img src="{CHART_FILE}" alt="Test accuracy against parameters of '
        f'every recorded model"><figcaption class="muted">One point per model with a test accuracy '
        f"({int(_numeric(records, 'test_accuracy').notna().sum())} of {len(records)}; regression models "
        "have none); the best model of each notebook is labelled.</figcaption></figure>"
        if chart
        else ""
    )
    table = _table(records, best, titles) if not records.empty else "<p>No results recorded yet.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fmnist reports ({html.escape(profile)} profile)</title>
<link rel="icon" href="data:,">
<style>{_STYLE}</style>
</head><body>
<header>
<h1>fmnist: supervised deep learning on Fashion-MNIST</h1>
<p>Reports of the course notebooks and every model they trained, <b>{html.escape(profile)}</b> profile
(test set of the official split, models selected on the dev split).</p>
<p class="provenance">{provenance}</p>
</header>
<h2>Notebooks</h2>
<section class="cards">
{chr(10).join(cards) or "<p>No notebook reports yet.</p>"}
</section>
<h2>Accuracy against size</h2>
{figure or '<p class="muted">No model with a test accuracy recorded yet.</p>'}
<h2>Results</h2>
<p class="muted">Every trained model, as recorded by the notebooks and <code>fmnist train --record</code>, grouped
by notebook; the best of each group is marked. Click a column header to sort within the groups.</p>
{table}
<script>{_SORT_SCRIPT}</script>
</body></html>
"""


def _records_key(stem: str, groups: Mapping[str, object]) -> str:
    """The records of notebook ``stem``: its own, else those recorded under its name without
    the number, which a command doing the same job shares with it (``fmnist speedrun`` and
    notebook 11 both record as "speedrun")."""
    return stem if stem in groups else stem.partition("_")[2]


def write_index(
    out_dir: str | Path, profile: str, records: pd.DataFrame, notebooks_dir: str | Path | None = None,
    built_on: str | None = None,
) -> Path:
    """Write ``out_dir/index.html`` and its chart (atomically) from the notebook reports in
    ``out_dir`` and the ``records`` of ``profile``.

    Args:
        profile: the profile the page shows ("quick" or "full"); records of others are left out.
        records: the result records (``fmnist.course.report.load_results``).
        notebooks_dir: where the cards' titles and summaries are read (default
            ``<home>/notebooks``); a report without its notebook gets its file name as title.
        built_on: the machine building the page, labelled as such in the header.

    Raises:
        ValueError: an unknown profile, or a notebook file that is not a notebook.
    """
    profile = get_profile(profile).name
    out_dir = Path(out_dir)
    nb_dir = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    if not records.empty and "profile" in records:
        records = records[records["profile"] == profile]
    stems = [p.stem for p in sorted(out_dir.glob("[0-9][0-9]_*.html"))]
    best = best_models(records)
    groups = dict(tuple(records.groupby("notebook", sort=True))) if not records.empty else {}
    cards, titles = [], {}
    for stem in stems:
        source = nb_dir / f"{stem}.ipynb"
        nb = read_notebook(source) if source.is_file() else None
        titles[stem] = (notebook_title(nb) if nb is not None else None) or stem
        key = _records_key(stem, groups)
        cards.append(_card(stem, titles[stem], out_dir, nb, groups.get(key), best.get(key)))
    chart = write_chart(records, out_dir / CHART_FILE)
    page = render_index(profile, records, cards, chart and chart.name, built_on, titles)
    return atomic_write_text(out_dir / "index.html", page)
