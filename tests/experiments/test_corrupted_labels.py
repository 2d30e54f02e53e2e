"""The corrupted-labels experiment, in its --quick form, against its runs' own files."""

from __future__ import annotations

import pytest

from mixjax import experiments
from mixjax.experiments import common
from mixjax.experiments import corrupted_labels
from tests.experiments import outputs


def test_quick_run_reports_its_runs_and_reuses_them(tmp_path, monkeypatch):
  experiments.run("corrupted_labels", str(tmp_path), quick=True)
  results = outputs.check_outputs(tmp_path)
  assert len(results["runs"]) == 4  # ERM, ERM + dropout, mixup, mixup + dropout
  assert [r["method"] for r in results["runs"]] == [
    "ERM",
    "ERM + dropout 0.5",
    "mixup (α=8)",
    "mixup (α=8) + dropout 0.5",
  ]
  for run in results["runs"]:
    assert 0 <= run["best_error"] <= run["last_error"] <= 1
    assert len(run["test_error_curve"]) == 3
    # Every number is the one the run's own summary.json and metrics.jsonl hold.
    name = f"noise0.5_{run['method'].replace(' ', '_')}_seed0"
    summary, records = outputs.read_run(tmp_path / "runs" / name)
    curve = [1 - r["test_accuracy"] for r in records]
    assert run["test_error_curve"] == pytest.approx(curve, abs=1e-12)
    assert run["last_error"] == pytest.approx(curve[-1], abs=1e-12)
    assert run["best_error"] == pytest.approx(min(curve), abs=1e-12)
    assert run["final_train_accuracy"] == records[-1]["train_accuracy"]
    assert run["wall_seconds"] == summary["wall_seconds"]
  # The table shows those numbers, "best / last" in %, one row per method.
  rows = outputs.table_rows((tmp_path / "results.md").read_text())
  assert rows[0] == ["method", "50% noise"]
  for run in results["runs"]:
    best = common.format_mean_std([run["best_error"]], 1, scale=100)
    last = common.format_mean_std([run["last_error"]], 1, scale=100)
    assert [run["method"], f"{best} / {last}"] in rows
  # A rerun reuses the finished runs instead of training again.
  outputs.forbid_training(monkeypatch)
  again = experiments.run("corrupted_labels", str(tmp_path), quick=True)
  assert [r["last_error"] for r in again["runs"]] == [r["last_error"] for r in results["runs"]]


def test_methods_and_their_config_keys():
  methods = corrupted_labels.methods((1.0, 8.0), 0.3)
  assert [m.label for m in methods] == [
    "ERM",
    "ERM + dropout 0.3",
    "mixup (α=1)",
    "mixup (α=8)",
    "mixup (α=8) + dropout 0.3",
  ]
  assert methods[1].overrides == {"mix": "none", "dropout_rate": 0.3}
  assert methods[-1].overrides == {"mix": "mixup", "mixup_alpha": 8.0, "dropout_rate": 0.3}


def test_unknown_option_fails_by_name(tmp_path):
  with pytest.raises(TypeError, match="Unknown corrupted_labels option.*'epoch'"):
    corrupted_labels.run(str(tmp_path), quick=True, epoch=3)


def test_mnist1d_runs_use_the_benchmark_recipe_for_60_epochs():
  recipe = corrupted_labels.base_recipe("mnist1d").replace("corrupted_labels", batch_size=256)
  specs = corrupted_labels.grid((0.8,), [corrupted_labels.methods((32.0,), 0.5)[-1]], (1,), recipe)
  (spec,) = specs
  config = spec.config
  assert (config.dataset, config.model, config.optimizer, config.num_epochs) == (
    "mnist1d",
    "mnist1d_cnn",
    "adam",
    60,
  )
  assert (config.label_noise, config.mixup_alpha, config.dropout_rate, config.seed) == (
    0.8,
    32.0,
    0.5,
    1,
  )
  assert config.batch_size == 256 and tuple(config.lr_milestones) == (40,)
  assert corrupted_labels.base_recipe("digits").config().model == "mlp"
