"""Helpers shared by the experiments: seeds, tables, result files, progress."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mixjax.experiments import common


def test_common_helpers(capsys):
  assert common.parse_seeds("0,1,2") == [0, 1, 2]
  assert common.parse_seeds("3-5") == [3, 4, 5]
  assert common.parse_seeds(7) == [7]
  with pytest.raises(ValueError, match="`seeds`"):
    common.parse_seeds("a,b")
  with pytest.raises(ValueError, match="`seeds`"):
    common.parse_seeds("1,1")
  assert common.format_mean_std([1.0, 3.0]) == "2.00 ± 1.00"
  assert common.format_mean_std([0.5], 1, scale=100) == "50.0"
  table = common.markdown_table(["a", "bb"], [[1, "x"], [22, "yyy"]])
  assert table.splitlines() == ["| a  | bb  |", "| -- | --- |", "| 1  | x   |", "| 22 | yyy |"]
  progress = common.Progress("demo", 5)
  progress.start_run("first")
  progress.start_run("next three", count=3)
  lines = capsys.readouterr().out.splitlines()
  assert lines[0].startswith("[1/5 0:00] demo: first") and lines[1].startswith("[2-4/5")


def test_write_results_converts_arrays_and_non_finite_numbers(tmp_path):
  common.write_results(
    str(tmp_path / "out"), {"a": np.arange(3), "b": float("nan"), "c": (np.float32(0.5),)}, "# t"
  )
  saved = json.loads((tmp_path / "out" / "results.json").read_text())
  assert (saved["a"], saved["b"], saved["c"]) == ([0, 1, 2], None, [0.5])
  assert "python" in saved["environment"]
  assert (tmp_path / "out" / "results.md").read_text() == "# t\n"


def test_replace_options_names_unknown_fields():
  import dataclasses

  @dataclasses.dataclass(frozen=True)
  class Settings:
    steps: int = 1
    alpha: float = 0.5

  assert common.replace_options(Settings(), "demo", steps=3) == Settings(steps=3, alpha=0.5)
  with pytest.raises(
    TypeError, match=r"Unknown demo option\(s\) \['step'\]; .*\['alpha', 'steps'\]"
  ):
    common.replace_options(Settings(), "demo", step=3, alpha=1.0)


def test_quick_defaults_fill_only_the_options_not_passed():
  @common.quick_defaults({"seeds": (0,), "epochs": 2})
  def run(out_dir, *, quick=False, seeds=(0, 1, 2), epochs=100):
    return out_dir, seeds, epochs

  assert run("d", quick=True) == ("d", (0,), 2)
  assert run("d", quick=True, seeds=(4, 5)) == ("d", (4, 5), 2)
  assert run("d", quick=True, seeds=(0, 1, 2), epochs=7) == ("d", (0, 1, 2), 7)
  assert run("d") == ("d", (0, 1, 2), 100)
  assert run("d", seeds=(3,)) == ("d", (3,), 100)


def test_quick_defaults_fill_a_group_only_when_none_of_it_was_passed():
  @common.quick_defaults({"epochs": 3, "milestones": (2,)}, together=[("epochs", "milestones")])
  def run(out_dir, *, quick=False, **recipe):
    return recipe

  assert run("d", quick=True) == {"epochs": 3, "milestones": (2,)}
  assert run("d", quick=True, epochs=60) == {"epochs": 60}  # Not quick's milestone at 2.
  assert run("d", quick=True, milestones=(20,)) == {"milestones": (20,)}
