"""k-fold cross-validation: folds, fold sources, out-of-fold and ensemble outputs, resume."""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np
import pytest

from mixjax import data
from mixjax.data import base
from mixjax.data import stats
from mixjax.training import cross_validation as cv
from tests.training import helpers


def _source(num_train=60, num_test=12, num_classes=3, label_noise_at=()):
  """A tiny image source whose every pixel of example i in the training split is i."""
  info = base.DatasetInfo(
    name="toy",
    num_classes=num_classes,
    input_shape=(2, 2, 1),
    num_train=num_train,
    num_test=num_test,
  )
  train = np.broadcast_to(
    np.arange(num_train, dtype=np.float32)[:, None, None, None], (num_train, 2, 2, 1)
  )
  return data.ArraySource(
    info=info,
    train_inputs=np.ascontiguousarray(train),
    train_labels=np.arange(num_train) % num_classes,
    test_inputs=np.full((num_test, 2, 2, 1), -1.0, np.float32),
    test_labels=np.arange(num_test) % num_classes,
    seed=0,
    corrupted_indices=np.asarray(label_noise_at, np.int64),
    class_names=tuple(f"c{i}" for i in range(num_classes)),
  )


def _small_config(**overrides):
  config = helpers.load_config("digits")
  config.model = "mlp"  # Compiles fastest; the point here is the bookkeeping.
  config.num_epochs = 1
  config.lr_milestones = ()
  config.batch_size = 128
  config.cv_folds = 2
  for key, value in overrides.items():
    config[key] = value
  return config


@pytest.mark.parametrize("num_folds", [2, 5])
def test_folds_are_disjoint_cover_the_split_and_are_stratified(num_folds):
  labels = np.repeat([0, 1, 2], [50, 30, 20])
  folds = cv.fold_indices(labels, num_folds, seed=1)
  assert len(folds) == num_folds
  held = np.concatenate([h for _, h in folds])
  np.testing.assert_array_equal(np.sort(held), np.arange(100))  # each index exactly once
  for train, held_out in folds:
    assert not set(train) & set(held_out)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, held_out])), np.arange(100))
    # Every held-out fold keeps the class proportions (to within one example per class).
    counts = np.bincount(labels[held_out], minlength=3)
    assert np.all(np.abs(counts - np.array([50, 30, 20]) / num_folds) < 1)
  again = cv.fold_indices(labels, num_folds, seed=1)
  other = cv.fold_indices(labels, num_folds, seed=2)
  np.testing.assert_array_equal(folds[0][1], again[0][1])
  assert not np.array_equal(folds[0][1], other[0][1])


def test_too_many_folds_for_a_class_is_refused():
  with pytest.raises(ValueError, match="class 1 has 2"):
    cv.fold_indices(np.array([0, 0, 0, 1, 1]), 3, seed=0)
  with pytest.raises(ValueError, match="num_folds"):
    cv.fold_indices(np.array([0, 1]), 1, seed=0)


@pytest.mark.parametrize(
  ("overrides", "key", "message"),
  [
    ({"cv_folds": 21}, "cv_folds", "21-fold stratified .* class 0 has 20"),
    ({"batch_size": 31}, "batch_size", "every cross-validation fold, 30 .*60 training.* got 31"),
    ({"cv_folds": 1}, "cv_folds", "at least 2"),
  ],
)
def test_a_config_that_does_not_fit_the_folds_writes_nothing(tmp_path, overrides, key, message):
  # Refused before the workdir exists, so the corrected rerun is not a "different config".
  workdir = tmp_path / "cv"
  config = _small_config(**overrides)
  with pytest.raises(cv.config_lib.ConfigError, match=message) as error:
    cv.cross_validate(config, str(workdir), source=_source())
  assert error.value.key == key
  assert not workdir.exists()


def test_compare_mixes_refuses_fewer_than_two_folds(tmp_path):
  with pytest.raises(cv.config_lib.ConfigError, match=r"--folds must be an int >= 2, got 0\."):
    cv.compare_mixes(_small_config(), str(tmp_path / "w"), ["none"], folds=0)
  assert not (tmp_path / "w").exists()


def test_fold_source_takes_its_rows_and_its_own_statistics():
  source = _source(label_noise_at=(4, 10, 41))
  train_idx, held_idx = np.arange(0, 60, 2), np.arange(1, 60, 2)
  fold = source.subset(train_idx, held_idx)
  assert (fold.info.num_train, fold.info.num_test) == (30, 30)
  assert fold.class_names == source.class_names
  np.testing.assert_array_equal(fold.train_labels, source.train_labels[train_idx])
  np.testing.assert_array_equal(fold.test_labels, source.train_labels[held_idx])
  mean, std = stats.channel_stats(np.arange(0, 60, 2, dtype=np.float32)[:, None])
  np.testing.assert_allclose(fold.mean, mean)
  np.testing.assert_allclose(fold.std, std)
  # Held-out rows, normalised with the fold's training statistics.
  batch = next(fold.eval_batches(global_batch_size=30))
  np.testing.assert_allclose(batch["image"][:, 0, 0, 0], (held_idx - mean) / std, rtol=1e-5)
  np.testing.assert_array_equal(fold.corrupted_indices, [2, 5])  # 4 -> 2, 10 -> 5; 41 is held out
  with_test = source.subset(train_idx)
  assert with_test.info.num_test == 12
  np.testing.assert_array_equal(with_test.test_labels, source.test_labels)
  np.testing.assert_allclose(with_test.mean, fold.mean)
  with pytest.raises(ValueError, match="train_indices"):
    source.subset(np.array([0, 0, 1]))
  with pytest.raises(ValueError, match="test_indices"):
    source.subset(train_idx, np.array([60]))


def test_fold_sources_predict_every_example_on_each_process():
  source = _source()
  halves = [source.subset(np.arange(60), process_index=i, process_count=2) for i in range(2)]
  train, held_out_view, test_view = cv.fold_sources(halves[1], np.arange(40), np.arange(40, 60))
  assert train.process_index == 1 and train.process_count == 2
  assert held_out_view.process_count == test_view.process_count == 1
  assert (held_out_view.info.num_test, test_view.info.num_test) == (20, 12)


def test_tables_list_folds_and_settings():
  summary = {
    "folds": 2,
    "per_fold": [
      {"fold": 0, "held_out_accuracy": 0.9, "test_accuracy": 0.8},
      {"fold": 1, "held_out_accuracy": 0.7, "test_accuracy": 0.6},
    ],
    "held_out_accuracy_mean": 0.8,
    "held_out_accuracy_std": 0.1,
    "test_accuracy_mean": 0.7,
    "test_accuracy_std": 0.1,
    "oof_accuracy": 0.8,
    "ensemble_test_accuracy": 0.75,
    "wall_seconds": 3.0,
  }
  table = cv.format_folds(summary)
  assert "| 1 | 70.00% | 60.00% |" in table
  assert "| mean ± std | 80.00 ± 10.00% | 70.00 ± 10.00% |" in table
  assert "75.00%" in table.splitlines()[-1]
  assert "| ERM | 80.00 ± 10.00% | 70.00 ± 10.00% | 75.00% | 3.0 |" in cv.format_comparison(
    [("ERM", summary)]
  )


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
  """2-fold CV on digits, fold 0 run alone first (as if the run was killed after it)."""
  workdir = str(tmp_path_factory.mktemp("cv"))
  config = _small_config()
  source = data.load_source("digits", seed=config.seed)
  folds = cv.fold_indices(source.train_labels, 2, config.seed)
  cv.run_fold(config, workdir, source, folds, 0)
  metrics_0 = os.path.join(workdir, "fold_0", "metrics.jsonl")
  before = (os.stat(metrics_0).st_mtime_ns, pathlib.Path(metrics_0).read_text())
  summary = cv.cross_validate(config, workdir)
  return workdir, config, source, summary, before


def test_finished_fold_is_not_retrained(finished):
  workdir, _, _, _, before = finished
  metrics_0 = os.path.join(workdir, "fold_0", "metrics.jsonl")
  assert (os.stat(metrics_0).st_mtime_ns, pathlib.Path(metrics_0).read_text()) == before
  assert os.path.exists(os.path.join(workdir, "fold_1", "summary.json"))


def test_out_of_fold_probabilities_cover_the_training_split(finished):
  workdir, _, source, summary, _ = finished
  oof = np.load(os.path.join(workdir, "oof.npy"))
  indices = np.load(os.path.join(workdir, "oof_indices.npy"))
  assert oof.dtype == np.float32 and oof.shape == (1347, 10)
  np.testing.assert_allclose(oof.sum(axis=1), 1.0, atol=1e-5)
  np.testing.assert_array_equal(np.sort(indices), np.arange(1347))
  accuracy = np.mean(oof.argmax(axis=1) == source.train_labels[indices])
  assert summary["oof_accuracy"] == pytest.approx(accuracy)
  assert summary["oof_accuracy"] > 0.5  # one short epoch already beats chance (10%)


def test_held_out_accuracy_is_the_fold_runs_own_evaluation(finished):
  workdir, _, _, summary, _ = finished
  for fold in summary["per_fold"]:
    with open(os.path.join(workdir, f"fold_{fold['fold']}", "summary.json")) as f:
      run = json.load(f)
    # The trainer evaluated the same model on the same held-out fold (ties aside).
    assert fold["held_out_accuracy"] == pytest.approx(
      run["last_test_accuracy"], abs=1.5 / fold["num_held_out"]
    )
  held_out = [f["held_out_accuracy"] for f in summary["per_fold"]]
  assert summary["held_out_accuracy_mean"] == pytest.approx(np.mean(held_out))
  assert summary["held_out_accuracy_std"] == pytest.approx(np.std(held_out))


def test_ensemble_averages_the_fold_models_probabilities(finished):
  workdir, _, source, summary, _ = finished
  probs = []
  for k in range(2):
    with np.load(os.path.join(workdir, f"fold_{k}", cv.PREDICTIONS)) as saved:
      probs.append(saved["test_probs"])
      accuracy = np.mean(saved["test_probs"].argmax(axis=1) == source.test_labels)
    assert summary["per_fold"][k]["test_accuracy"] == pytest.approx(accuracy)
  average = (probs[0] + probs[1]) / 2
  np.testing.assert_allclose(np.load(os.path.join(workdir, "ensemble_test_probs.npy")), average)
  expected = np.mean(average.argmax(axis=1) == source.test_labels)
  assert summary["ensemble_test_accuracy"] == pytest.approx(expected)
  with open(os.path.join(workdir, "cv_summary.json")) as f:
    assert json.load(f) == summary


def test_an_interrupted_fold_resumes_from_its_checkpoint(finished, capsys):
  workdir, config, _, summary, _ = finished
  for name in ("summary.json", cv.PREDICTIONS):  # Killed after the last checkpoint.
    os.remove(os.path.join(workdir, "fold_1", name))
  capsys.readouterr()
  again = cv.cross_validate(config, workdir)
  out = capsys.readouterr().out
  assert "fold 0: finished earlier" in out
  assert "Resuming" in out and "fold_1 from epoch 1" in out
  lines = pathlib.Path(workdir, "fold_1", "metrics.jsonl").read_text().splitlines()
  assert len(lines) == 1  # not trained again
  assert again["ensemble_test_accuracy"] == pytest.approx(summary["ensemble_test_accuracy"])
  assert again["per_fold"][1]["held_out_accuracy"] == pytest.approx(
    summary["per_fold"][1]["held_out_accuracy"]
  )


def test_another_config_in_the_same_workdir_is_refused(finished):
  workdir, config, _, _, _ = finished
  with pytest.raises(ValueError, match="mixup_alpha"):
    cv.cross_validate(_small_config(mixup_alpha=0.9), workdir)


def test_settings_are_cross_validated_each_in_its_own_workdir(tmp_path, monkeypatch, capsys):
  seen = []

  def fake_cross_validate(config, workdir):
    seen.append((config.mix, config.cv_folds, workdir))
    return {
      "held_out_accuracy_mean": 0.8,
      "held_out_accuracy_std": 0.1,
      "test_accuracy_mean": 0.7,
      "test_accuracy_std": 0.05,
      "ensemble_test_accuracy": 0.75,
      "wall_seconds": 3.0,
    }

  monkeypatch.setattr(cv, "cross_validate", fake_cross_validate)
  config = _small_config(cv_folds=0)
  rows = cv.compare_mixes(config, str(tmp_path), ["none", "mixup"])
  assert seen == [("none", 5, str(tmp_path / "none")), ("mixup", 5, str(tmp_path / "mixup"))]
  assert [name for name, _ in rows] == ["ERM", "mixup (α=0.4)"]
  table = (tmp_path / "cv_comparison.md").read_text()
  assert "| mixup (α=0.4) | 80.00 ± 10.00% | 70.00 ± 5.00% | 75.00% | 3.0 |" in table
  assert "=== ERM: 5-fold CV, digits, mlp" in capsys.readouterr().out
  cv.compare_mixes(config, str(tmp_path), ["cutmix"], folds=3)
  assert seen[-1][:2] == ("cutmix", 3)
