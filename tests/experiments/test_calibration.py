"""The calibration experiment, in its --quick form, and its held-out split."""

from __future__ import annotations

import numpy as np
import pytest

from mixjax import data
from mixjax import experiments
from mixjax.experiments import calibration
from tests.experiments import outputs


def test_quick_run_measures_before_and_after_temperature_scaling(tmp_path):
  experiments.run("calibration", str(tmp_path), quick=True)
  results = outputs.check_outputs(tmp_path)
  assert [r["method"] for r in results["runs"]] == ["ERM", "mixup (α=0.4)"]
  for run in results["runs"]:
    name = f"mnist1d_noise0_{run['method'].replace(' ', '_')}_seed0"
    summary, records = outputs.read_run(tmp_path / "runs" / name)
    # Trained on 90% of the training split; tested on the whole test split.
    assert records[-1]["test_count"] == 1000
    assert run["accuracy"] == pytest.approx(summary["last_test_accuracy"], abs=1e-6)
    assert run["ece"] == pytest.approx(records[-1]["test_ece"], abs=1e-5)
    assert run["nll"] == pytest.approx(records[-1]["test_nll"], rel=1e-4)
    assert run["nll_scaled"] <= run["nll"] + 0.05  # T fitted elsewhere, close to optimal here.
    assert sum(run["reliability"]["count"]) == 1000
  rows = outputs.table_rows((tmp_path / "results.md").read_text())
  assert rows[0] == ["method", "test acc %", "ECE", "NLL", "T", "ECE after T", "NLL after T"]
  assert "Thulasidasan" in results["verdicts"][0] and "Wang" in results["verdicts"][0]


def test_held_out_split_is_part_of_the_training_split():
  source = data.load_source("mnist1d", seed=0, label_noise=0.5)
  train, held = calibration.held_out_split(source, 0.1, seed=3)
  assert (train.info.num_train, held.info.num_train) == (3600, 3600)
  assert held.info.num_test == 400 and train.info.num_test == 1000
  train_rows = {x.tobytes() for x in train.normalize(train._train_inputs)}
  held_rows = [x.tobytes() for x in held.normalize(held._test_inputs)]
  assert not train_rows & set(held_rows)  # Disjoint from what is trained on.
  np.testing.assert_array_equal(train.mean, held.mean)  # Same normalisation.


def test_each_verdict_reads_only_its_own_setting():
  def run(dataset, method, ece, ece_scaled):
    return {
      "dataset": dataset,
      "noise": 0.0,
      "method": method,
      "ece": ece,
      "ece_scaled": ece_scaled,
    }

  results = [
    run("a", "ERM", 0.2, 0.1),
    run("a", "mixup (α=1)", 0.1, 0.3),
    run("b", "ERM", 0.1, 0.3),
    run("b", "mixup (α=1)", 0.2, 0.1),
  ]
  first = calibration.verdict(results, "a", 0.0)
  second = calibration.verdict(results, "b", 0.0)
  assert "mixup's mean ECE 0.100 vs ERM 0.200: sides with Thulasidasan" in first
  assert "after scaling 0.300 vs 0.100: sides with Wang" in first
  assert "mixup's mean ECE 0.200 vs ERM 0.100: does not side with Thulasidasan" in second
  assert "after scaling 0.100 vs 0.300: does not side with Wang" in second
