"""Checks shared by the small benchmarks' smoke tests (their markdown reports)."""

from __future__ import annotations


def check_copy_ratio_rows(text: str, names) -> None:
  """Every row in `names` is in the report with a positive `× copy`; the copy's is 1.00."""
  lines = text.splitlines()
  for name in ("jitted copy (reference)", *names):
    line = next(row for row in lines if row.startswith(f"| {name} |"))
    assert float(line.split("|")[-2]) > 0, line
  copy = next(row for row in lines if row.startswith("| jitted copy (reference) |"))
  assert copy.split("|")[-2].strip() == "1.00"
