"""Recorded results and HTML reports.

Notebooks record every trained model with :func:`record_result` (one JSON file per model,
written atomically); :func:`build_reports` executes the notebooks in order, exports each to
HTML in ``reports/`` and writes the landing page ``reports/index.html``
(:mod:`fmnist.course.landing`: a card per notebook, a chart and the results table built from
those records — never retyped).

Example (not a doctest: it writes into ``reports/results/``, or ``$FMNIST_RESULTS_DIR``)::

    from fmnist.course.report import record_result, load_results
    record_result("03_mlp", "mlp_medium", params=118282, epochs=20,
                  test_accuracy=0.89, test_loss=0.31, train_time=41.0)
    load_results()[["notebook", "model", "test_accuracy"]]
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

import fmnist
from fmnist.atomic import atomic_write_text
from fmnist.backend import cpu_summary
from fmnist.checks import check_int
from fmnist.course import landing
from fmnist.course.markdown import markdown_rows
from fmnist.course.paths import HOME_ENV, RESULTS_ENV, home, notebooks_dir, reports_dir, results_dir
from fmnist.course.profiles import PROFILE_ENV, get_profile
from fmnist.course.time_to_accuracy import SPEEDRUN_BEGIN, SPEEDRUN_END, speedrun_markdown

RESULT_COLUMNS = [
    "notebook", "model", "profile", "params", "epochs", "train_time", "test_accuracy",
    "test_loss", "test_mse",
]  # fmt: skip


class ReportError(RuntimeError):
    """A notebook failed while building the reports."""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "result"


def record_result(notebook: str, model: str, *, profile: str | None = None, **fields) -> Path:
    """Record one trained model's numbers for the report index.

    Args:
        notebook: the notebook (or command) that produced the result, e.g. ``"05_cnn"``.
        model: a name unique within that notebook, e.g. ``"cnn_medium"``.
        profile: the profile the model was trained in; default: the active one
            (``fmnist.course.profiles.get_profile``), which is what a notebook uses.
        **fields: JSON-serializable numbers such as ``params``, ``epochs``, ``train_time``,
            ``test_accuracy``, ``test_loss`` or ``test_mse``.

    Recorded with them, so that each row of the report says where it came from: the
    profile, the machine (:func:`machine_summary`), the commit of the home checkout
    (:func:`git_commit`) and the Keras backend (:func:`keras_backend`) when known (absent
    otherwise, never guessed), and the time (``recorded_at``, UTC, ISO 8601). One file per
    (notebook, model, profile): a quick run never replaces a full run's record.
    """
    if not notebook or not model:
        raise ValueError("record_result needs a non-empty notebook and model name")
    profile = get_profile(profile).name
    record = {"notebook": notebook, "model": model, "profile": profile, "machine": machine_summary()}
    provenance = {"commit": git_commit(), "backend": keras_backend()}
    record.update({k: v for k, v in provenance.items() if v is not None})
    record.update({k: _plain(v) for k, v in fields.items()})
    record["recorded_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    path = results_dir() / f"{_slug(notebook)}__{_slug(model)}__{profile}.json"
    return atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True))


#: Seconds ``git`` may take to name the commit; a record is never held up by its provenance.
GIT_TIMEOUT = 10


def git_commit(directory: str | Path | None = None) -> str | None:
    """``git rev-parse --short HEAD`` in ``directory`` (default: the home), or ``None`` when
    that is no git checkout, git is missing or does not answer within :data:`GIT_TIMEOUT`."""
    command = ["git", "-C", str(directory or home()), "rev-parse", "--short", "HEAD"]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return (run.stdout.strip() or None) if run.returncode == 0 else None


def keras_backend() -> str | None:
    """The Keras backend of this process if Keras is loaded (it is once a model was trained),
    else ``None``: read from ``sys.modules`` so that recording never imports Keras itself."""
    keras = sys.modules.get("keras")
    return keras.backend.backend() if keras is not None else None


def record_training(
    notebook: str, model: str, train_result, test_metrics: dict, *, profile: str | None = None,
    **extra,
) -> Path:
    """:func:`record_result` from a ``fmnist.training.TrainResult`` and ``evaluate`` metrics."""
    fields = {
        "params": train_result.params,
        "epochs": train_result.epochs_run,
        "best_epoch": train_result.best_epoch,
        "train_time": round(float(train_result.wall_time), 1),
        "images_per_sec": round(float(train_result.images_per_sec), 1),
    }
    fields.update({f"test_{k}": v for k, v in test_metrics.items()})
    fields.update(extra)
    return record_result(notebook, model, profile=profile, **fields)


def _plain(value):
    """NumPy scalars -> Python numbers so ``json`` can write them."""
    if hasattr(value, "item") and callable(value.item):
        try:
            return value.item()
        except (ValueError, TypeError):
            pass
    return value


def load_results(directory: str | Path | None = None, profile: str | None = None) -> pd.DataFrame:
    """All recorded results as one DataFrame (sorted by notebook, then model).

    When a (notebook, model, profile) was recorded more than once (files written before the
    profile was part of the file name), the latest ``recorded_at`` wins. ``profile`` ("quick"
    or "full") keeps only the records of that profile.
    """
    if profile is not None:
        profile = get_profile(profile).name  # an unknown name is an error, not an empty table
    directory = Path(directory) if directory is not None else results_dir()
    rows = []
    for path in sorted(directory.glob("*.json")):
        try:
            rows.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError: name the bad file
            raise ValueError(f"{path} is not a valid JSON record ({exc})") from exc
    frame = pd.DataFrame(rows)
    for col in RESULT_COLUMNS:
        if col not in frame:
            frame[col] = pd.NA
    if profile is not None and not frame.empty:
        frame = frame[frame["profile"] == profile]
    if frame.empty:
        return frame[RESULT_COLUMNS]
    if "recorded_at" in frame:
        frame = frame.sort_values("recorded_at", kind="stable", na_position="first")
        frame = frame.drop_duplicates(["notebook", "model", "profile"], keep="last")
    extra = [c for c in frame.columns if c not in RESULT_COLUMNS]
    return frame[RESULT_COLUMNS + extra].sort_values(["notebook", "model"], ignore_index=True)


def list_notebooks(directory: str | Path | None = None) -> list[Path]:
    """The ordered notebooks ``NN_name.ipynb`` in ``directory`` (default ``<home>/notebooks``)."""
    directory = Path(directory) if directory is not None else notebooks_dir()
    found = sorted(directory.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise ReportError(f"no notebooks named NN_*.ipynb in {directory}")
    return found


@contextlib.contextmanager
def _environ(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def strip_volatile_metadata(nb) -> None:
    """Drop execution timestamps and kernel noise so committed notebooks diff cleanly."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            output.get("metadata", {}).pop("execution", None)


#: Per-cell time limit of the report runs: a full-profile cell may train several CNNs.
CELL_TIMEOUT = 4 * 3600


def _cell_label(nb, index) -> str:
    first = nb.cells[index].source.splitlines()[0] if index is not None else "?"
    return f"cell {index} ({first!r})"


def execute_notebook(path: Path, timeout: int = CELL_TIMEOUT):
    """Execute one notebook in its own directory; return the executed ``NotebookNode``.

    Args:
        timeout: seconds one cell may run.

    Raises:
        ReportError: naming the notebook and the failing (or timed-out) cell: index and first
            source line.
    """
    # nbformat/nbclient/nbconvert come with the dev extra; only running reports needs them.
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        index = next(
            (i for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))),
            None,
        )  # fmt: skip
        summary = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ReportError(f"{path.name}: {_cell_label(nb, index)} failed: {summary}") from exc
    except CellTimeoutError as exc:
        started = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count")]
        index = started[-1] if started else None
        raise ReportError(
            f"{path.name}: {_cell_label(nb, index)} ran longer than the per-cell limit of {timeout} s "
            "(fmnist report --cell-timeout SECONDS)"
        ) from exc
    strip_volatile_metadata(nb)
    return nb


#: nbconvert's lab template without its CDN scripts, and with an empty favicon. The reports are
#: read offline (and tested so, tests/test_browser.py): the notebooks hold no math, widgets or
#: JavaScript outputs, so require.js and MathJax would only fail to load (mermaid.js loads only
#: for mermaid diagrams).
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}<link rel="icon" href="data:,">{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
"""


def export_html(nb, destination: Path) -> Path:
    """Export an executed notebook to a standalone HTML file (atomically) that loads nothing
    from the network (:data:`OFFLINE_TEMPLATE`)."""
    # Optional: the dev extra (as execute_notebook); jinja2 comes with nbconvert.
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"offline.html.j2": OFFLINE_TEMPLATE})], template_file="offline.html.j2"
    )
    # The name is the page's <title> (nbconvert's default: "Notebook").
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": destination.stem}})
    return atomic_write_text(destination, body)


#: Directory in ``out_dir`` holding one stamp per executed notebook (for ``resume``).
STAMP_DIR = ".stamps"


def notebook_fingerprint(nb) -> str:
    """SHA-256 of a notebook's cells (types and sources; not outputs or metadata).

    So writing the executed notebook back (``write_notebooks``) does not make it look changed.
    """
    cells = [[cell.cell_type, cell.source] for cell in nb.cells]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def code_fingerprint() -> str:
    """``fmnist``'s version and a SHA-256 of its Python sources: what the notebooks ran on.

    The sources rather than the git commit: a commit that touches only docs or tests leaves
    the executed reports current, and an uncommitted change to the package does not.
    """
    root = Path(fmnist.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{fmnist.__version__}+{digest.hexdigest()[:16]}"


def _stamp(profile: str, nb, code: str) -> dict[str, str]:
    return {"profile": profile, "notebook": notebook_fingerprint(nb), "code": code}


def _is_current(out_dir: Path, stem: str, stamp: dict[str, str]) -> bool:
    """True when ``out_dir`` holds the HTML of ``stem`` executed with exactly ``stamp``."""
    path = out_dir / STAMP_DIR / f"{stem}.json"
    if not path.is_file() or not (out_dir / f"{stem}.html").is_file():
        return False
    try:
        return json.loads(path.read_text(encoding="utf-8")) == stamp
    except json.JSONDecodeError:  # a damaged stamp only means: execute again
        return False


#: Directory in ``out_dir`` holding each executed notebook's wall time, per profile.
TIMINGS_DIR = "timings"


def record_notebook_time(out_dir: str | Path, notebook: str, profile: str, seconds: float) -> Path:
    """Record how long executing ``notebook`` took (``out_dir/timings/<notebook>__<profile>.json``,
    with the machine, commit and time, as :func:`record_result` records them)."""
    profile = get_profile(profile).name
    record = {"notebook": notebook, "profile": profile, "wall_seconds": round(float(seconds), 1),
              "machine": machine_summary()}
    commit = git_commit()
    if commit is not None:
        record["commit"] = commit
    record["recorded_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    path = Path(out_dir) / TIMINGS_DIR / f"{_slug(notebook)}__{profile}.json"
    return atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True))


def load_timings(out_dir: str | Path | None = None, profile: str = "full") -> pd.DataFrame:
    """The recorded notebook wall times of ``profile``, one row per notebook, in order."""
    profile = get_profile(profile).name
    directory = (Path(out_dir) if out_dir is not None else reports_dir()) / TIMINGS_DIR
    rows = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob(f"*__{profile}.json"))]
    columns = ["notebook", "profile", "wall_seconds", "machine", "commit", "recorded_at"]
    frame = pd.DataFrame(rows)
    for column in columns:
        if column not in frame:
            frame[column] = pd.NA
    return frame[columns].sort_values("notebook", ignore_index=True) if rows else frame[columns]


#: The README's notebook wall times go between these lines (optional block).
TIMINGS_BEGIN = "<!-- notebook wall times: generated by `fmnist results --readme README.md`, do not edit -->"
TIMINGS_END = "<!-- end of notebook wall times -->"


def timings_markdown(timings: pd.DataFrame) -> str:
    """Each notebook's last recorded wall time, the machine and commit, and their sum."""
    if timings.empty:
        return "No notebook wall times recorded yet.\n"
    lines = ["| Notebook | Wall time (min) | Machine | Commit | Recorded (UTC) |", "|---|---:|---|---|---|"]
    for _, row in timings.iterrows():
        commit = row["commit"] if isinstance(row["commit"], str) else "not recorded"
        lines.append(f"| {row['notebook']} | {row['wall_seconds'] / 60:.1f} | {row['machine']} | {commit} | "
                     f"{str(row['recorded_at'])[:16].replace('T', ' ')} |")
    total = timings["wall_seconds"].sum() / 60
    lines.append(f"| **sum ({len(timings)} notebooks)** | **{total:.1f}** | | | |")
    return "\n".join(lines) + "\n"


def build_reports(
    profile: str | None = None,
    notebooks: list[str | Path] | None = None,
    out_dir: str | Path | None = None,
    write_notebooks: bool = False,
    timeout: int = CELL_TIMEOUT,
    notebooks_dir: str | Path | None = None,
    log=print,
    execute: bool = True,
    resume: bool = False,
) -> Path:
    """Execute the notebooks in order, export each to HTML (and its key figure to
    ``thumbs/``), then write the landing page ``index.html`` (:func:`write_index`).

    Args:
        profile: ``"quick"`` or ``"full"`` (default: ``$FMNIST_PROFILE`` or quick).
        notebooks: a subset to run (paths or names); default all, in order.
        out_dir: where the HTML files go (default ``<home>/reports``).
        notebooks_dir: the notebooks (default ``<home>/notebooks``).
        write_notebooks: also save the executed notebooks back (how the committed outputs of a
            full-profile run are produced).
        timeout: seconds one cell may run (default :data:`CELL_TIMEOUT`).
        execute: ``False`` exports the notebooks as they are stored, outputs included, without
            running them: the committed notebooks hold the last full-profile run, so
            ``build_reports("full", execute=False)`` gives its reports in seconds.
        resume: skip the notebooks whose report in ``out_dir`` is current: executed under
            this profile, from the same cell sources (:func:`notebook_fingerprint`) and the
            same package code (:func:`code_fingerprint`), as the stamp each executed notebook
            leaves in ``out_dir/.stamps/`` says. So an interrupted run goes on where it stopped.

    A failing notebook raises :class:`ReportError` naming notebook and cell; reports already
    written are kept (each file is written atomically once its notebook succeeded).
    """
    import nbformat  # optional: the dev extra (as execute_notebook)

    prof = get_profile(profile)
    timeout = check_int(timeout, "timeout", note=" (seconds)")
    if write_notebooks and not execute:
        raise ReportError("write_notebooks needs execute=True (nothing new to write back)")
    if resume and not execute:
        raise ReportError("resume skips notebooks already executed; it needs execute=True")
    out_dir = Path(out_dir) if out_dir is not None else reports_dir()
    paths = list_notebooks(notebooks_dir)
    if notebooks:
        wanted = {Path(n).stem for n in notebooks}
        unknown = wanted - {p.stem for p in paths}
        if unknown:
            raise ReportError(
                f"unknown notebook(s) {sorted(unknown)}; valid: {[p.stem for p in paths]}"
            )
        paths = [p for p in paths if p.stem in wanted]
    results = out_dir / "results"
    # The kernels inherit the home, so their runs and records land where this call's do.
    code = code_fingerprint()
    with _environ(**{PROFILE_ENV: prof.name, RESULTS_ENV: str(results), HOME_ENV: str(home())}):
        for path in paths:
            start = time.perf_counter()
            stamp = _stamp(prof.name, nbformat.read(path, as_version=4), code) if execute else None
            if resume and _is_current(out_dir, path.stem, stamp):
                log(f"[{prof.name}] {path.name}: its report is current, skipped (resume)")
                continue
            if execute:
                log(f"[{prof.name}] executing {path.name} ...")
                nb = execute_notebook(path, timeout=timeout)
            else:
                nb = nbformat.read(path, as_version=4)
            export_html(nb, out_dir / f"{path.stem}.html")
            landing.write_thumbnail(nb, out_dir, path.stem)  # the figure of what was exported
            if write_notebooks:
                atomic_write_text(path, nbformat.writes(nb) + "\n")
            if execute:
                record_notebook_time(out_dir, path.stem, prof.name, time.perf_counter() - start)
            if stamp is not None:  # last: a stamp vouches for the files written before it
                atomic_write_text(out_dir / STAMP_DIR / f"{path.stem}.json", json.dumps(stamp, indent=1) + "\n")
            log(f"[{prof.name}] {path.name} -> {out_dir / (path.stem + '.html')} "
                f"({time.perf_counter() - start:.0f} s)")  # fmt: skip
    return write_index(out_dir, prof.name, results, notebooks_dir=notebooks_dir)


def machine_summary() -> str:
    """CPU (model, family/model numbers, widest vector instructions) and core count, for the
    records and the report and benchmark headers: ``"AMD EPYC (family 25 model 1, AVX2), 2
    cores, Python 3.11.7"``."""
    return f"{cpu_summary()}, {os.cpu_count()} cores, Python {platform.python_version()}"


#: Test metrics of the results table; a record with none of them (notebook 10's coverage
#: records) belongs to the trust tables only.
_TEST_METRICS = ("test_accuracy", "test_loss", "test_mse")


def results_table(results: pd.DataFrame) -> pd.DataFrame:
    """The index table: one row per recorded model with the columns users compare."""
    tested = [c for c in _TEST_METRICS if c in results]
    results = results.dropna(subset=tested, how="all") if tested else results.iloc[:0]
    table = results.rename(
        columns={
            "notebook": "Notebook", "model": "Model", "profile": "Profile", "params": "Params",
            "epochs": "Epochs", "train_time": "Train time (s)", "test_accuracy": "Test accuracy",
            "test_loss": "Test loss", "test_mse": "Test MSE",
        }
    )  # fmt: skip
    keep = ["Notebook", "Model", "Profile", "Params", "Epochs", "Train time (s)",
            "Test accuracy", "Test loss", "Test MSE"]  # fmt: skip
    return table[keep].dropna(axis=1, how="all")


#: The README's results table lives between these two lines (see :func:`update_readme`).
README_BEGIN = "<!-- results table: generated by `fmnist results --readme README.md`, do not edit -->"
README_END = "<!-- end of results table -->"


def results_markdown(results: pd.DataFrame) -> str:
    """The results table as GitHub markdown, preceded by the machine(s) that produced it.

    Written by hand: pandas' ``to_markdown`` needs the optional ``tabulate`` package.
    """
    if results.empty:
        return "No results recorded yet.\n"
    table = results_table(results)
    formats = {"Params": "{:,.0f}", "Epochs": "{:.0f}", "Train time (s)": "{:.0f}",
               "Test accuracy": "{:.4f}", "Test loss": "{:.4f}", "Test MSE": "{:.4f}"}  # fmt: skip
    lines = ["| " + " | ".join(table.columns) + " |",
             "|" + "|".join("---:" if c in formats else "---" for c in table.columns) + "|"]  # fmt: skip
    for _, row in table.iterrows():
        cells = ["" if pd.isna(v) else formats.get(c, "{}").format(v) for c, v in row.items()]
        lines.append("| " + " | ".join(cells) + " |")
    machines = results["machine"].dropna().unique() if "machine" in results else []
    missing = int(results["machine"].isna().sum()) if "machine" in results else len(results)
    where = "; ".join(machines) or "not recorded"
    if len(machines) and missing:
        where += f" (machine not recorded for {missing} result(s))"
    return f"Machine: {where}.\n\n" + "\n".join(lines) + "\n"


#: Notebook 10's calibration and coverage records go between these lines (optional block).
TRUST_BEGIN = "<!-- trust tables: generated by `fmnist results --readme README.md`, do not edit -->"
TRUST_END = "<!-- end of trust tables -->"

#: ``(record field, column, format)`` of the two trust tables.
_CALIBRATION_COLUMNS = (
    ("test_accuracy", "Test accuracy", "{:.4f}"), ("ece", "ECE", "{:.4f}"),
    ("ece_scaled", "ECE (T-scaled)", "{:.4f}"), ("nll", "NLL", "{:.4f}"),
    ("nll_scaled", "NLL (T-scaled)", "{:.4f}"), ("temperature", "T", "{:.3f}"),
    ("mean_corrupted_accuracy", "Mean corrupted accuracy", "{:.4f}"),
)  # fmt: skip
_COVERAGE_COLUMNS = (
    ("coverage", "Coverage (all)", "{:.2f}"), ("coverage_in_gaps", "Coverage (in gaps)", "{:.2f}"),
    ("coverage_with_noise", "With test noise (all)", "{:.2f}"),
    ("coverage_with_noise_in_gaps", "With test noise (in gaps)", "{:.2f}"),
)  # fmt: skip


def trust_markdown(results: pd.DataFrame) -> str:
    """Notebook 10's records as two markdown tables: calibration and robustness (records with
    an ``ece`` field), and the regression nets' coverage of ``mean +- 2 sigma`` (records with
    a ``coverage`` field)."""
    parts = []
    if "ece" in results:
        calibration = results[results["ece"].notna()]
        if not calibration.empty:
            parts.append("\n".join(markdown_rows(calibration, _CALIBRATION_COLUMNS)))
    if "coverage" in results:
        coverage = results[results["coverage"].notna()]
        if not coverage.empty:
            parts.append("\n".join(markdown_rows(coverage, _COVERAGE_COLUMNS)))
    return "\n\n".join(parts) + "\n" if parts else "No trust records yet.\n"


def _replace_block(text: str, begin_mark: str, end_mark: str, body: str) -> str | None:
    begin, end = text.find(begin_mark), text.find(end_mark)
    if begin < 0 or end < begin:
        return None
    return f"{text[: begin + len(begin_mark)]}\n{body}{text[end:]}"


def update_readme(path: str | Path, results: pd.DataFrame, timings: pd.DataFrame | None = None) -> Path:
    """Replace the text between :data:`README_BEGIN` and :data:`README_END` in ``path`` with
    :func:`results_markdown`, between :data:`TRUST_BEGIN` and :data:`TRUST_END` (if the file
    has them) with :func:`trust_markdown`, between :data:`SPEEDRUN_BEGIN` and
    :data:`SPEEDRUN_END` with :func:`speedrun_markdown`, and between :data:`TIMINGS_BEGIN` and
    :data:`TIMINGS_END` with :func:`timings_markdown` of ``timings`` when given (atomically;
    the rest of the file is untouched)."""
    path = Path(path)
    text = _replace_block(path.read_text(encoding="utf-8"), README_BEGIN, README_END, results_markdown(results))
    if text is None:
        raise ReportError(
            f"{path} has no results block: add a line {README_BEGIN!r} and, below it, a line "
            f"{README_END!r} where the table should go"
        )
    text = _replace_block(text, TRUST_BEGIN, TRUST_END, trust_markdown(results)) or text
    text = _replace_block(text, SPEEDRUN_BEGIN, SPEEDRUN_END, speedrun_markdown(results)) or text
    if timings is not None:
        text = _replace_block(text, TIMINGS_BEGIN, TIMINGS_END, timings_markdown(timings)) or text
    return atomic_write_text(path, text)


def write_index(
    out_dir: str | Path, profile: str, results: str | Path | None = None,
    notebooks_dir: str | Path | None = None,
) -> Path:
    """Write ``index.html``, the landing page (:mod:`fmnist.course.landing`): a card per notebook
    report in ``out_dir``, a chart and the results table of the records of ``profile``.

    Args:
        results: the records' directory (default ``out_dir/results``).
        notebooks_dir: the notebooks the cards' titles and summaries come from (default
            ``<home>/notebooks``).

    Records of the other profile are left out (as ``fmnist results --profile`` does), so a
    quick run's numbers never sit in a full-profile index.
    """
    frame = load_results(results if results is not None else Path(out_dir) / "results", profile=profile)
    return landing.write_index(out_dir, profile, frame, notebooks_dir=notebooks_dir, built_on=machine_summary())
