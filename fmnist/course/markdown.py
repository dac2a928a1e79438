"""Markdown tables of records, for the README blocks ``fmnist results --readme`` writes.

Written by hand: pandas' ``to_markdown`` needs the optional ``tabulate`` package.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["markdown_rows"]


def markdown_rows(frame: pd.DataFrame, columns) -> list[str]:
    """A GitHub markdown table, as lines: the ``model`` column, then one column per
    ``(record field, heading, format)`` of ``columns``; a missing value is an empty cell."""
    header = ["Model"] + [name for _, name, _ in columns]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * len(columns)]
    for _, row in frame.iterrows():
        cells = [str(row["model"])] + [
            "" if field not in row or pd.isna(row[field]) else fmt.format(row[field]) for field, _, fmt in columns
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
