"""Accuracy against training time: the Pareto front and the README's speedrun tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fmnist.course.report import update_readme
from fmnist.course.time_to_accuracy import (
    SPEEDRUN_BEGIN, SPEEDRUN_END, seed_runs, speedrun_markdown, time_to_accuracy,
)  # fmt: skip


def test_time_to_accuracy_is_the_pareto_front():
    runs = pd.DataFrame({"train_time": [50, 110, 290, 900], "test_accuracy": [0.90, 0.92, 0.94, 0.935],
                         "epochs": [2, 4, 12, 36]})  # fmt: skip
    table = time_to_accuracy(runs, minutes=(0.5, 1, 2, 5, 30))
    assert table["accuracy"].tolist()[1:] == [0.90, 0.92, 0.94, 0.94]
    assert np.isnan(table["accuracy"].iloc[0])
    assert table["epochs"].tolist()[1:] == [2, 4, 12, 12]
    with pytest.raises(ValueError, match="lack the column"):
        time_to_accuracy([{"train_time": 1}])
    with pytest.raises(ValueError, match="minutes"):
        time_to_accuracy(runs, minutes=(0,))


def _record(model, seed, acc, seconds, epochs=12, machine="CPU A", at="2026-12-02T06:00:00+00:00"):
    return {"notebook": "speedrun", "model": model, "recipe": "speedrun", "seed": seed, "test_accuracy": acc,
            "single_view_accuracy": acc - 0.002, "epochs": epochs, "train_time": seconds,
            "images_per_sec": 3000, "params": 279722, "precision": "bfloat16", "machine": machine,
            "recorded_at": at, "profile": "full", "test_loss": 0.2, "test_mse": np.nan}  # fmt: skip


RECORDS = pd.DataFrame(
    [_record(f"speedrun seed {s}", s, a, t) for s, a, t in [(0, 0.941, 290), (1, 0.939, 295), (2, 0.943, 288)]]
    + [_record("speedrun 4 epochs seed 0", 0, 0.925, 100, epochs=4),
       _record("speedrun seed 9", 9, 0.5, 10, machine="CPU B", at="2026-11-01T00:00:00+00:00"),
       _record("speedrun seed 0, float32", 0, 0.9405, 400),
       {"notebook": "05_cnn", "model": "cnn_best", "test_accuracy": 0.938, "machine": "CPU A",
        "recorded_at": "2026-12-01T00:00:00+00:00", "profile": "full", "test_loss": 0.18,
        "test_mse": np.nan}]
)  # fmt: skip


def test_speedrun_markdown_tables_one_machine():
    text = speedrun_markdown(RECORDS)
    assert "**speedrun** on CPU A:" in text
    assert "3 seeds: median test accuracy **0.9410**, lowest 0.9390, longest training 295.0 s." in text
    assert "| speedrun seed 2 | 2 | 0.9430 | 0.9410 | 12 | 288.0 | 3,000 | 279,722 | bfloat16 |" in text
    assert "seed 9" not in text  # another machine's run: its time does not compare
    assert "| 1 | no run this short | | |" in text
    assert "| 2 | 0.9250 | 100.0 | 4 |" in text and "| 5 | 0.9430 | 288.0 | 12 |" in text
    assert speedrun_markdown(RECORDS[RECORDS["notebook"] == "05_cnn"]) == "No speedrun records yet.\n"


def test_seed_runs_leave_out_other_budgets_and_precisions():
    assert seed_runs(RECORDS[RECORDS["notebook"] == "speedrun"])["model"].tolist() == [
        "speedrun seed 0", "speedrun seed 1", "speedrun seed 2", "speedrun seed 9"]  # fmt: skip
    assert seed_runs(RECORDS.iloc[:0]).empty


def test_update_readme_fills_the_speedrun_block(tmp_path):
    from fmnist.course.report import README_BEGIN, README_END

    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{README_BEGIN}\nold\n{README_END}\n\n{SPEEDRUN_BEGIN}\nold\n{SPEEDRUN_END}\ntail\n")
    update_readme(readme, RECORDS)
    text = readme.read_text()
    assert "median test accuracy **0.9410**" in text and text.endswith(f"{SPEEDRUN_END}\ntail\n")
