"""Tests for the speech experiment on mocked speech_commands; nothing is downloaded."""

from __future__ import annotations

import json
import os
import pathlib

import pytest

tfds = pytest.importorskip("tensorflow_datasets")

from mixjax import experiments  # noqa: E402
from tests.experiments import outputs  # noqa: E402

NUM_EXAMPLES = 24


@pytest.fixture
def mock_tfds():
  with tfds.testing.mock_data(num_examples=NUM_EXAMPLES):
    yield


def test_quick_experiment_writes_results(mock_tfds, tmp_path, monkeypatch):
  out = str(tmp_path / "speech")
  # The MLP compiles much faster than SmallCNN; the loop is the same.
  results = experiments.run("speech", out, quick=True, alphas=(0.2,), model="mlp")
  for name in ("results.json", "results.md", "test_error.png"):
    assert os.path.getsize(os.path.join(out, name)) > 0
  with open(os.path.join(out, "results.json")) as f:
    saved = json.load(f)
  assert [row["method"] for row in saved["summary"]] == ["erm", "mixup0.2"]
  assert [r["workdir"] for r in results["runs"]] == ["erm_seed0", "mixup0.2_seed0"]
  for row, run in zip(saved["summary"], results["runs"], strict=True):
    summary, records = outputs.read_run(pathlib.Path(out) / run["workdir"])
    assert len(records) == 1 and run["epochs"] == summary["epochs"] == 1
    assert row["test_error"] == [1 - records[-1]["test_accuracy"]] == [run["test_error"]]
    assert run["best_test_error"] == 1 - summary["best_test_accuracy"]
  assert os.path.exists(os.path.join(out, "mixup0.2_seed0", "summary.json"))
  with open(os.path.join(out, "results.md")) as f:
    assert "mixup (α=0.2)" in f.read()
  configs = {}
  for run_dir in ("erm_seed0", "mixup0.2_seed0"):
    with open(os.path.join(out, run_dir, "config.json")) as f:
      configs[run_dir] = json.load(f)
  assert configs["erm_seed0"]["mix"] == "none"
  assert (configs["mixup0.2_seed0"]["mix"], configs["mixup0.2_seed0"]["mixup_alpha"]) == (
    "mixup",
    0.2,
  )
  # A rerun reuses the finished runs.
  outputs.forbid_training(monkeypatch)
  again = experiments.run("speech", out, quick=True, alphas=(0.2,), model="mlp")
  assert [r["test_error"] for r in again["runs"]] == [r["test_error"] for r in results["runs"]]


def test_experiment_without_data_fails_clearly(tmp_path):
  with pytest.raises(FileNotFoundError, match="tfds build speech_commands"):
    experiments.run("speech", str(tmp_path / "out"), quick=True, data_dir=str(tmp_path))
