"""The generalization experiment, in its --quick form, against its runs' own files."""

from __future__ import annotations

import pytest

from mixjax import experiments
from mixjax.experiments import common
from mixjax.experiments import generalization
from mixjax.experiments import recipes
from tests.experiments import outputs


def test_quick_run_reports_its_runs(tmp_path):
  experiments.run("generalization", str(tmp_path), quick=True)
  results = outputs.check_outputs(tmp_path)
  assert [(r["dataset"], r["method"], r["alpha"]) for r in results["runs"]] == [
    ("mnist1d", "ERM", 0.0),
    ("mnist1d", "mixup (α=0.4)", 0.4),
  ]
  accuracies = {}
  for run in results["runs"]:
    name = f"mnist1d_{run['method'].replace(' ', '_')}_seed0"
    summary, records = outputs.read_run(tmp_path / "runs" / name)
    assert len(records) == 2 and summary["last_test_accuracy"] == run["last_accuracy"]
    assert (run["test_ece"], run["test_nll"]) == (records[-1]["test_ece"], records[-1]["test_nll"])
    accuracies[run["method"]] = run["last_accuracy"]
  rows = outputs.table_rows((tmp_path / "results.md").read_text())
  assert rows[0] == ["method", "mnist1d"]
  erm = common.format_mean_std([accuracies["ERM"]], 2, scale=100)
  gain = 100 * (accuracies["mixup (α=0.4)"] - accuracies["ERM"])
  mixup = common.format_mean_std([accuracies["mixup (α=0.4)"]], 2, scale=100)
  assert rows[1:] == [["ERM", erm], ["mixup (α=0.4)", f"{mixup} ({gain:+.2f})"]]
  assert len(results["verdicts"]) == 1 and results["verdicts"][0].startswith("- mnist1d: best ")


def test_full_grid_methods_and_recipes():
  labels = [m.label for m in generalization.methods(generalization.ALPHAS)]
  assert labels == [
    "ERM",
    "mixup (α=0.1)",
    "mixup (α=0.2)",
    "mixup (α=0.4)",
    "mixup (α=1)",
    "mixup (α=2)",
    "label smoothing 0.1",
    "mixup (α=0.4) + label smoothing 0.1",
    "CutMix (α=1)",
  ]
  specs = generalization.grid(generalization.DATASETS, generalization.methods((1.0,)), (0, 1))
  assert len(specs) == 3 * 5 * 2
  smoothed = specs[-3].config
  assert (smoothed.dataset, smoothed.mix, smoothed.mixup_alpha, smoothed.label_smoothing) == (
    "digits",
    "mixup",
    1.0,
    0.1,
  )
  last = specs[-1].config
  assert (last.dataset, last.mix, last.cutmix_alpha, last.seed) == ("digits", "cutmix", 1.0, 1)
  first = specs[0].config
  assert (first.model, first.optimizer, first.num_epochs) == ("mnist1d_cnn", "adam", 30)


def test_verdict_says_when_mixup_does_not_help():
  results = [{"dataset": "d", "method": "ERM", "last_accuracy": a} for a in (0.90, 0.92)] + [
    {"dataset": "d", "method": "mixup (α=1)", "last_accuracy": a} for a in (0.905, 0.915)
  ]
  (line,) = generalization.verdicts(results, ["d"], ["ERM", "mixup (α=1)"])
  assert "does NOT beat ERM" in line
  results[-1]["last_accuracy"] = 0.96
  (line,) = generalization.verdicts(results, ["d"], ["ERM", "mixup (α=1)"])
  assert "beats ERM by more than ERM's std with mixup (α=1)" in line


def test_unknown_dataset_fails_by_name():
  with pytest.raises(ValueError, match="dataset.*'cifar10'"):
    recipes.get("cifar10")
