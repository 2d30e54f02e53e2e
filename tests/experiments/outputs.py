"""Helpers for the experiments' tests: their output files and their training runs."""

from __future__ import annotations

import json

from mixjax.training import loop


def check_outputs(out) -> dict:
  """Checks results.md (a table) and the PNGs (drawn) in `out`; returns results.json."""
  results = json.loads((out / "results.json").read_text())
  assert (out / "results.md").read_text().count("|") > 10
  assert all(p.stat().st_size > 5000 for p in out.glob("*.png")) and list(out.glob("*.png"))
  return results


def read_run(workdir) -> tuple[dict, list[dict]]:
  """A finished run's summary.json and metrics.jsonl records."""
  summary = json.loads((workdir / "summary.json").read_text())
  lines = (workdir / "metrics.jsonl").read_text().splitlines()
  return summary, [json.loads(line) for line in lines if line.strip()]


def forbid_training(monkeypatch) -> None:
  """Makes any later call of the training loop fail: what runs then must reuse finished runs."""

  def refuse(*args, **kwargs):
    raise AssertionError("a finished run was trained again")

  monkeypatch.setattr(loop, "train", refuse)


def table_rows(markdown: str) -> list[list[str]]:
  """The cells of every markdown table row in `markdown` (header rows included, rules not)."""
  rows = []
  for line in markdown.splitlines():
    if line.startswith("|") and not set(line) <= {"|", "-", " "}:
      rows.append([cell.strip() for cell in line.strip("|").split("|")])
  return rows
