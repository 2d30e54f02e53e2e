"""The adversarial experiment, in its --quick form, against its runs' own files."""

from __future__ import annotations

import numpy as np
import pytest

from mixjax import experiments
from mixjax.experiments import common
from mixjax.experiments.adversarial import experiment
from mixjax.training import loop
from tests.experiments import outputs


def test_quick_run(tmp_path):
  experiments.run("adversarial", str(tmp_path), quick=True)
  results = outputs.check_outputs(tmp_path)["results"]
  clean = {}
  for method, name in (("ERM", "ERM_target_seed0"), ("mixup (α=1)", "mixup_target_seed0")):
    summary, records = outputs.read_run(tmp_path / "runs" / name)
    assert len(records) == 2 and summary["last_test_accuracy"] == records[-1]["test_accuracy"]
    clean[method] = 1 - summary["last_test_accuracy"]
  source, _ = outputs.read_run(tmp_path / "runs" / "black-box_source_seed1000")
  assert {r["method"] for r in results} == set(clean)
  for method in clean:
    for attack in ("FGSM", "I-FGSM"):
      rows = sorted(
        (r for r in results if r["method"] == method and r["attack"] == attack),
        key=lambda r: r["epsilon"],
      )
      assert [r["epsilon"] for r in rows] == [0.0, 0.1, 0.3]
      errors = [r["white_box_error"] for r in rows]
      assert errors == sorted(errors), (method, attack, errors)  # non-decreasing in ε
      assert errors[-1] > errors[0]
      # ε = 0 changes nothing, white- or black-box: the error is the clean test error.
      assert rows[0]["white_box_error"] == pytest.approx(clean[method])
      assert rows[0]["black_box_error"] == pytest.approx(clean[method])
      # The source is another model: its examples hurt less than the target's own.
      assert rows[-1]["black_box_error"] <= rows[-1]["white_box_error"]
  erm_fgsm0 = next(
    r for r in results if r["method"] == "ERM" and r["attack"] == "FGSM" and r["epsilon"] == 0
  )
  assert erm_fgsm0["white_box_error"] < 0.5  # well below chance (90%)
  assert source["last_test_accuracy"] > 0.5
  # The table shows the recorded numbers.
  rows = outputs.table_rows((tmp_path / "results.md").read_text())
  assert rows[0] == ["attack", "box", "method", "ε=0", "ε=0.1", "ε=0.3"]
  for r in results:
    for box in ("white", "black"):
      row = next(row for row in rows if row[:3] == [r["attack"], box, r["method"]])
      cell = row[3 + [0.0, 0.1, 0.3].index(r["epsilon"])]
      assert cell == common.format_mean_std([r[f"{box}_box_error"]], 1, scale=100)


def test_grid_names_the_runs():
  specs = experiment.grid(3, [experiment.runs.erm()], experiment.RECIPE)
  assert [s.workdir for s in specs] == ["runs/ERM_target_seed3", "runs/black-box_source_seed1003"]
  assert [s.config.seed for s in specs] == [3, 1003]
  # The source is another init on the targets' data: the same split, the same statistics.
  target, source = (loop.load_source(s.config) for s in specs)
  np.testing.assert_array_equal(source._train_inputs, target._train_inputs)
  np.testing.assert_array_equal(source.mean, target.mean)
  assert all(s.config.mix == "none" and s.config.model == "small_cnn" for s in specs)


def test_every_process_attacks_the_whole_test_split(monkeypatch):
  alone = experiment.raw_test_set(experiment.test_source(experiment.RECIPE, 0))
  monkeypatch.setattr(experiment.jax, "process_count", lambda: 2)
  monkeypatch.setattr(experiment.jax, "process_index", lambda: 1)
  second = experiment.raw_test_set(experiment.test_source(experiment.RECIPE, 0))
  for a, b in zip(alone, second, strict=True):
    np.testing.assert_array_equal(a, b)
  # The digits test split, all of it (a per-process share would hold about half).
  assert len(alone[1]) == len(experiment.test_source(experiment.RECIPE, 0).test_labels)
