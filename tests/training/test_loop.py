"""The whole training loop on digits: outputs, resume, refusals, image size, SIGKILL."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import time

import jax
import numpy as np
import pytest
import tensorflow as tf

from mixjax import data as data_lib
from mixjax.training import checkpoint as checkpoint_lib
from mixjax.training import config as config_lib
from mixjax.training import loop
from mixjax.training import parallel as parallel_lib
from mixjax.training import progress as progress_lib
from mixjax.training import reporting
from mixjax.training import stopping
from mixjax.training import workdir as workdir_lib
from tests.training import helpers


@pytest.fixture()
def train_calls(monkeypatch):
  """The image shapes of every train step `Parallel.train` runs, in order."""
  shapes = []
  train = parallel_lib.Parallel.train

  def recorded(self, state, batch, hparams):
    shapes.append(batch["image"].shape)
    return train(self, state, batch, hparams)

  monkeypatch.setattr(parallel_lib.Parallel, "train", recorded)
  return shapes


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
  """A finished 3-epoch run (the last without mixing, 20% label noise) and its train steps."""
  workdir = tmp_path_factory.mktemp("run")
  config = helpers.small_digits_config(mix_off_epochs=1, label_noise=0.2)
  steps = []
  train = parallel_lib.Parallel.train

  def counted(self, *args):
    steps.append(1)
    return train(self, *args)

  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(parallel_lib.Parallel, "train", counted)
    state, summary = loop.train(config, str(workdir))
  return workdir, config, state, summary, len(steps)


def test_one_run_leaves_everything_in_the_workdir(finished):
  tmp_path, _, _, summary, _ = finished
  for name in ("config.json", "metrics.jsonl", "curves.png", "summary.json"):
    assert (tmp_path / name).stat().st_size > 0, name
  assert any((tmp_path / "tensorboard").iterdir())
  assert sorted(os.listdir(tmp_path / "checkpoints"))  # at least one step directory
  records = helpers.read_records(tmp_path)
  assert [r["epoch"] for r in records] == [1, 2, 3]
  for key in (
    "epoch",
    "step",
    "train_loss",
    "test_loss",
    "test_accuracy",
    "learning_rate",
    "images_per_sec",
    "mixing",
  ):
    assert key in records[0]
  assert [r["mixing"] for r in records] == [True, True, False]
  assert all(r["test_count"] == 450 for r in records)  # the whole test split, nothing dropped
  assert all(r["test_nll"] == r["test_loss"] and r["test_ece"] > 0 for r in records)
  assert records[-1]["learning_rate"] == pytest.approx(0.005)
  saved = (tmp_path / "summary.json").read_text()
  assert json.loads(saved) == pytest.approx(summary)
  assert summary["last_test_accuracy"] > 0.5  # 3 short epochs already beat chance (10%).
  assert summary["epochs"] == 3


def test_label_noise_saves_the_corrupted_indices(finished):
  corrupted = np.load(finished[0] / "corrupted_indices.npy")
  assert len(corrupted) == round(0.2 * 1347)


def test_a_different_config_is_refused(finished):
  workdir, config, _, _, _ = finished
  changed = config.copy_and_resolve_references()
  changed.mixup_alpha = 0.7
  with pytest.raises(ValueError, match="mixup_alpha"):
    loop.train_and_evaluate(changed, str(workdir))


def test_rerun_of_a_finished_run_resumes_without_training(finished, train_calls, capsys):
  workdir, config, first, summary, first_steps = finished
  steps_per_epoch = helpers.read_records(workdir)[0]["step"]
  assert first_steps == 3 * steps_per_epoch  # the counter sees every step
  capsys.readouterr()
  again, again_summary = loop.train(config, str(workdir))
  assert train_calls == []  # not one train step runs again
  out = capsys.readouterr().out
  assert f"from epoch 3 (step {3 * steps_per_epoch})" in out
  assert "epoch   1/3" not in out and "epoch   3/3" not in out
  assert "compiling" not in out
  # The same end-of-run summary as the run itself printed.
  summary_text = "\n".join(progress_lib.summary_lines(summary, str(workdir))) + "\n"
  assert out.endswith(summary_text), out
  assert "finished: 3 epochs" in summary_text and "tensorboard --logdir" in summary_text
  assert [r["epoch"] for r in helpers.read_records(workdir)] == [1, 2, 3]
  assert again_summary == pytest.approx(summary)
  np.testing.assert_array_equal(
    first.params["Dense_0"]["kernel"], again.params["Dense_0"]["kernel"]
  )


@pytest.mark.parametrize(
  "key,value",
  [
    ("mix", "mixdown"),
    ("batch_size", 0),
    ("mixup_alpha", -1.0),
    ("switch_prob", 1.5),
    ("parallel", "vmap"),
    ("lr_milestones", (5, 2)),
  ],
)
def test_invalid_values_fail_at_start_up(tmp_path, key, value):
  with pytest.raises(ValueError, match=f"config.{key}"):
    loop.train_and_evaluate(helpers.small_digits_config(**{key: value}), str(tmp_path))


@pytest.mark.parametrize(
  "overrides, match",
  [
    ({"batch_size": 60}, r"config.batch_size must be divisible by the number of devices \(8\)"),
    ({"eval_batch_size": 60}, "config.eval_batch_size must be divisible"),
    ({"batch_size": 4000}, "config.batch_size"),  # More than the training split.
    ({"dataset": "iris", "model": "mlp", "augment": "crop_flip"}, "config.augment"),
    ({"dataset": "iris", "model": "mlp", "random_erasing": 0.5}, "config.random_erasing"),
    ({"dataset": "iris", "model": "mlp", "gridmask": 0.5}, "config.gridmask"),
  ],
)
def test_data_the_config_does_not_fit_is_a_config_error_before_anything_is_written(
  tmp_path, overrides, match
):
  workdir = tmp_path / "run"
  with pytest.raises(config_lib.ConfigError, match=match):
    loop.train_and_evaluate(helpers.small_digits_config(**overrides), str(workdir))
  assert not workdir.exists() or not any(workdir.iterdir())


def test_mixing_and_checkpoint_epochs_follow_the_config():
  config = helpers.small_digits_config(num_epochs=5, mix_off_epochs=2, checkpoint_every_epochs=2)
  assert [loop.is_mixing(config, e) for e in range(5)] == [True, True, True, False, False]
  assert [loop.is_checkpoint_epoch(config, e) for e in range(5)] == [
    False,
    True,
    False,
    True,
    True,  # the last epoch always
  ]
  assert loop.mixing_hparams(config, 0) == {"mixup_alpha": 0.4, "cutmix_alpha": 1.0}
  assert loop.mixing_hparams(config, 4) == {"mixup_alpha": 0.0, "cutmix_alpha": 0.0}
  config.mix = "none"
  assert not any(loop.is_mixing(config, e) for e in range(5))


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
  """Two classes of eight 20×24 RGB PNGs each (one solid colour per class)."""
  root = tmp_path_factory.mktemp("images")
  for name, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200))):
    os.makedirs(root / name)
    pixels = tf.constant(np.broadcast_to(np.asarray(colour, np.uint8), (20, 24, 3)))
    for i in range(8):
      tf.io.write_file(str(root / name / f"{i}.png"), tf.io.encode_png(pixels))
  return str(root)


def test_folder_run_trains_at_the_configured_image_size(image_folder, tmp_path, train_calls):
  config = helpers.load_config(
    "digits",
    dataset="folder",
    data_dir=image_folder,
    image_size=16,
    model="mlp",
    num_epochs=1,
    lr_milestones=(),
    batch_size=8,
  )
  assert loop.load_source(config).info.input_shape == (16, 16, 3)
  summary = loop.train_and_evaluate(config, str(tmp_path))
  assert summary["epochs"] == 1
  assert train_calls and all(shape == (8, 16, 16, 3) for shape in train_calls)


def test_resume_after_sigkill_mid_epoch_is_exact(tmp_path):
  # All three processes share one compilation cache: the victim fills it, the other two hit.
  cache = {"JAX_COMPILATION_CACHE_DIR": str(tmp_path / "jax_cache")}
  run = tmp_path / "run"
  victim = helpers.start_worker(run, tmp_path / "run.npz", env_extra=cache)
  steps_per_epoch = helpers.wait_for_checkpoint(victim, run, epoch=2) // 2
  victim.send_signal(signal.SIGKILL)  # Epoch 3 has just started.
  victim.wait()
  victim.stdout.close()
  assert not (tmp_path / "run.npz").exists(), "the run finished before it was killed"
  reference = helpers.start_worker(tmp_path / "ref", tmp_path / "ref.npz", env_extra=cache)
  resumed = helpers.start_worker(run, tmp_path / "run.npz", env_extra=cache)
  out, ref_out = helpers.communicate([resumed, reference], timeout=600)
  assert resumed.returncode == 0, out
  assert "Resuming" in out
  assert reference.returncode == 0, ref_out
  ref, run_params = (
    helpers.read_params(tmp_path / "ref.npz"),
    helpers.read_params(tmp_path / "run.npz"),
  )
  assert ref.keys() == run_params.keys()
  for key in ref:
    np.testing.assert_array_equal(ref[key], run_params[key], err_msg=key)
  records = helpers.read_records(run)
  assert [r["epoch"] for r in records] == [1, 2, 3, 4]
  # No finished epoch runs again: the rerun starts after the newest checkpoint and runs
  # exactly the steps of the epochs after it.
  done = int(re.search(r"from epoch (\d+) \(step (\d+)\)", out).group(1))
  assert done in (2, 3)  # killed inside epoch 3 (at the latest inside epoch 4)
  assert re.findall(r"^epoch +(\d+)/4", out, re.MULTILINE) == [str(e) for e in range(done + 1, 5)]
  assert f"STEPS {(4 - done) * steps_per_epoch}\n" in out
  assert f"STEPS {4 * steps_per_epoch}\n" in ref_out


def _wait_for_step_checkpoint(victim, workdir, after: int, steps_per_epoch: int, timeout=240):
  """Waits for a complete mid-epoch checkpoint at a step > `after`; returns its step."""
  deadline = time.time() + timeout
  while time.time() < deadline:
    assert victim.poll() is None, victim.stdout.read()
    done = [
      int(p.name) for p in (workdir / "checkpoints").glob("*") if p.is_dir() and p.name.isdigit()
    ]
    mid = [s for s in done if s > after and s % steps_per_epoch]
    if mid:
      return max(mid)
    time.sleep(0.02)
  raise AssertionError(f"no mid-epoch checkpoint after step {after} in {timeout} s")


def test_step_checkpoints_resume_exactly_after_sigterm_sigint_and_sigkill(tmp_path):
  """One run stopped inside epochs 1, 2 and 3 by SIGTERM, SIGINT and SIGKILL, then finished."""
  cache = {"JAX_COMPILATION_CACHE_DIR": str(tmp_path / "jax_cache")}
  run, out = tmp_path / "run", tmp_path / "run.npz"
  flags = ("--config.checkpoint_every_steps=5", "--step_sleep=0.05")
  steps_per_epoch, after = 1347 // 64, 0
  for sig, epoch in ((signal.SIGTERM, 1), (signal.SIGINT, 2), (signal.SIGKILL, 3)):
    victim = helpers.start_worker(run, out, *flags, env_extra=cache)
    after = max(after, (epoch - 1) * steps_per_epoch)
    saved = _wait_for_step_checkpoint(victim, run, after, steps_per_epoch)
    assert saved // steps_per_epoch == epoch - 1, (saved, epoch)
    victim.send_signal(sig)
    (text,) = helpers.communicate([victim], timeout=120)
    assert not out.exists(), "the run finished before it was stopped"
    if sig == signal.SIGKILL:
      assert victim.returncode == -signal.SIGKILL
      break
    assert victim.returncode == 128 + sig, text
    assert "Traceback" not in text, text
    stopped = re.search(r"interrupted at epoch (\d+) step (\d+) \(global step (\d+)\)", text)
    assert stopped, text
    assert "rerun the same command to resume" in text
    assert int(stopped.group(1)) == epoch and 0 < int(stopped.group(2)) < steps_per_epoch, text
    after = int(stopped.group(3))
    assert (run / "checkpoints" / str(after)).is_dir()  # Saved at the step it stopped.
  reference = helpers.start_worker(tmp_path / "ref", tmp_path / "ref.npz", env_extra=cache)
  resumed = helpers.start_worker(run, out, env_extra=cache)
  text, ref_text = helpers.communicate([resumed, reference], timeout=600)
  assert resumed.returncode == 0, text
  assert re.search(r"Resuming .* \d+ steps into epoch 3\.", text), text
  assert reference.returncode == 0, ref_text
  ref, got = helpers.read_params(tmp_path / "ref.npz"), helpers.read_params(out)
  assert ref.keys() == got.keys()
  for key in ref:
    np.testing.assert_array_equal(ref[key], got[key], err_msg=key)
  records, ref_records = helpers.read_records(run), helpers.read_records(tmp_path / "ref")
  assert [r["epoch"] for r in records] == [1, 2, 3, 4]
  for record, ref_record in zip(records, ref_records, strict=True):  # Resumed epochs included.
    for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
      assert record[key] == ref_record[key], (key, record, ref_record)


def test_divergence_stops_at_the_first_non_finite_loss_and_keeps_the_last_good_checkpoint(
  tmp_path,
):
  config = helpers.small_digits_config(learning_rate=1e6, checkpoint_every_steps=1, num_epochs=2)
  with pytest.raises(stopping.Diverged, match=r"at epoch 1 step (\d+) \(global step (\d+)\)") as e:
    loop.train(config, str(tmp_path))
  bad_step = int(re.search(r"global step (\d+)", str(e.value)).group(1))
  assert "training diverged. The last good checkpoint is kept" in str(e.value)
  saved = sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit())
  assert saved and max(saved) < bad_step  # Nothing saved from the diverged steps on.
  assert not (tmp_path / "summary.json").exists()
  assert not (tmp_path / ".lock").read_text()  # Released.
  tx = loop.make_optimizer(config, 1347 // 128)[0]
  target = loop.create_state(config, loop.create_model(config, 10), tx, (8, 8, 1))
  restored = checkpoint_lib.Checkpointer(str(tmp_path)).restore_latest(target)
  assert restored is not None
  assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(restored[0].params))


def test_metrics_jsonl_is_strict_json_when_a_value_is_not_finite(tmp_path):
  log = reporting.MetricsLog(str(tmp_path))
  log.write(
    {
      "epoch": 1,
      "step": 3,
      "train_loss": 0.5,
      "test_loss": float("inf"),
      "test_accuracy": 0.5,
      "wall_seconds": 1.0,
      "images_per_sec": 1.0,
    }
  )
  log.close()
  text = (tmp_path / "metrics.jsonl").read_text()
  assert "Infinity" not in text and "NaN" not in text
  record = json.loads(text, parse_constant=lambda name: pytest.fail(f"bare {name}"))
  assert record["test_loss"] is None and record["train_loss"] == 0.5


def test_bad_names_are_refused_before_the_workdir_is_touched(tmp_path):
  workdir = tmp_path / "w"
  for key, value in (("model", "foo"), ("dataset", "no_such_dataset")):
    with pytest.raises(config_lib.ConfigError, match=f"config.{key}"):
      loop.train_and_evaluate(helpers.small_digits_config(**{key: value}), str(workdir))
    assert not workdir.exists()
  with pytest.raises(config_lib.ConfigError, match="--config.model=mlp"):
    loop.train_and_evaluate(helpers.small_digits_config(dataset="iris"), str(workdir))
  assert not workdir.exists()


def test_a_locked_workdir_is_refused_naming_the_holder(tmp_path):
  holder = workdir_lib.WorkdirLock(str(tmp_path))
  with holder:
    with pytest.raises(workdir_lib.WorkdirError, match=f"in use by pid {os.getpid()} on "):
      loop.train_and_evaluate(helpers.small_digits_config(), str(tmp_path))


def test_cross_validation_lines_say_held_out():
  record = {
    "epoch": 1,
    "train_loss": 1.0,
    "test_loss": 0.5,
    "test_accuracy": 0.25,
    "images_per_sec": 10.0,
    "learning_rate": 0.1,
    "mixing": True,
  }
  line = loop.format_record(record, 3, "held-out")
  assert "held-out acc 25.00%" in line and "test" not in line
  assert "test acc 25.00%" in loop.format_record(record, 3)


def test_a_non_finite_loss_stops_the_run_at_its_step(tmp_path, monkeypatch):
  config = helpers.small_digits_config(checkpoint_every_steps=2)
  calls = []
  train = parallel_lib.Parallel.train

  def nan_at_step_14(self, state, batch, hparams):  # The 4th step of epoch 2 (10 per epoch).
    state, metrics = train(self, state, batch, hparams)
    calls.append(1)
    return state, {**metrics, "loss": metrics["loss"] * np.nan} if len(calls) == 14 else metrics

  monkeypatch.setattr(parallel_lib.Parallel, "train", nan_at_step_14)
  with pytest.raises(
    stopping.Diverged, match=r"the train loss is nan at epoch 2 step 4 \(global step 14\)"
  ):
    loop.train(config, str(tmp_path))
  assert len(calls) <= 15  # Stopped at once (checked at most one step behind).
  assert [r["epoch"] for r in helpers.read_records(tmp_path)] == [1]
  saved = sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit())
  assert max(saved) == 12  # The last step checkpoint before the NaN; none from it on.


def test_box_mixing_needs_a_spatial_axis_but_not_an_image():
  iris = helpers.small_digits_config(dataset="iris", model="mlp", mix="cutmix")
  with pytest.raises(config_lib.ConfigError, match=r"config.mix='cutmix' needs inputs with"):
    loop.check_source(iris, data_lib.load_source("iris", seed=0))
  signals = data_lib.ArraySource.from_splits(
    "signals",
    num_classes=2,
    train_inputs=np.zeros((8, 40, 1), np.float32),
    train_labels=np.arange(8) % 2,
    test_inputs=np.zeros((4, 40, 1), np.float32),
    test_labels=np.arange(4) % 2,
    seed=0,
  )
  loop.check_source(helpers.small_digits_config(model="cnn1d", mix="cutmix"), signals)


def test_a_workdir_with_another_config_is_refused_naming_the_keys(tmp_path):
  config = helpers.small_digits_config()
  loop.check_workdir_config(config, str(tmp_path))
  loop.check_workdir_config(config, str(tmp_path))  # The same config resumes.
  changed = helpers.small_digits_config(mixup_alpha=0.7)
  with pytest.raises(config_lib.ConfigError, match=r"different config \(mixup_alpha: .* -> 0.7\)"):
    loop.check_workdir_config(changed, str(tmp_path))


def _signals(labels, num_classes=2):
  return data_lib.ArraySource.from_splits(
    "npz",
    num_classes=num_classes,
    train_inputs=np.zeros((len(labels), 4), np.float32),
    train_labels=np.asarray(labels),
    test_inputs=np.zeros((2, 4), np.float32),
    test_labels=np.arange(2) % 2,
    seed=0,
  )


def test_a_workdir_of_a_run_on_other_data_is_refused(tmp_path):
  # data_dir may change on resume (the data moved), so the data itself is compared.
  config = helpers.small_digits_config(dataset="npz", data_dir="a.npz")
  loop.check_workdir_data(config, str(tmp_path), _signals([0, 1, 0, 1]))
  loop.check_workdir_data(config, str(tmp_path), _signals([0, 1, 0, 1]))  # The same data.
  with pytest.raises(
    config_lib.ConfigError, match=r"other data \(labels_blake2b: '\w+' -> '\w+'\)"
  ):
    loop.check_workdir_data(config, str(tmp_path), _signals([1, 1, 0, 0]))
  with pytest.raises(
    config_lib.ConfigError, match=r"num_classes: 2 -> 3.*data_dir='a.npz'"
  ) as error:
    loop.check_workdir_data(config, str(tmp_path), _signals([0, 1, 2, 1], num_classes=3))
  assert error.value.key == "data_dir"


def test_resuming_on_another_npz_file_is_refused_before_anything_is_written(tmp_path):
  files = {}
  for name, labels in (("a", [0, 1] * 8), ("b", [1, 0] * 8)):
    files[name] = tmp_path / f"{name}.npz"
    inputs = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    np.savez(files[name], x_train=inputs, y_train=labels, x_test=inputs[:4], y_test=labels[:4])
  workdir = tmp_path / "w"
  run = dict(dataset="npz", model="mlp", num_epochs=1, batch_size=8, mix="none")
  loop.train_and_evaluate(
    helpers.small_digits_config(**run, data_dir=str(files["a"])), str(workdir)
  )
  before = sorted(p.name for p in workdir.iterdir())
  with pytest.raises(config_lib.ConfigError, match="other data"):
    loop.train_and_evaluate(
      helpers.small_digits_config(**run, data_dir=str(files["b"])), str(workdir)
    )
  assert sorted(p.name for p in workdir.iterdir()) == before


def test_a_key_the_saved_run_predates_counts_as_its_default(tmp_path):
  path = tmp_path / "config.json"
  loop.check_workdir_config(helpers.small_digits_config(), str(tmp_path))
  saved = json.loads(path.read_text())
  del saved["loss"], saved["manifold_layers"]  # As written before those keys existed.
  path.write_text(json.dumps(saved))
  loop.check_workdir_config(helpers.small_digits_config(), str(tmp_path))
  path.write_text(json.dumps({k: v for k, v in saved.items() if k != "loss"}))
  with pytest.raises(config_lib.ConfigError, match=r"loss: 'softmax' -> 'sigmoid'"):
    loop.check_workdir_config(helpers.small_digits_config(loss="sigmoid"), str(tmp_path))


def test_a_train_source_that_runs_short_stops_the_run_naming_the_counts(tmp_path, monkeypatch):
  config = helpers.small_digits_config()
  source = loop.load_source(config)
  batches = type(source).train_batches

  def seven_in_epoch_2(self, *, epoch, **kwargs):
    for step, batch in enumerate(batches(self, epoch=epoch, **kwargs)):
      if epoch == 1 and step == 7:
        return
      yield batch

  monkeypatch.setattr(type(source), "train_batches", seven_in_epoch_2)
  with pytest.raises(
    stopping.ShortEpoch,
    match=r"yielded 7 batches for epoch 2 from step 0, expected 10 \(steps_per_epoch = 10\)",
  ):
    loop.train(config, str(tmp_path), source=source)
  assert [r["epoch"] for r in helpers.read_records(tmp_path)] == [1]


def test_a_non_finite_last_loss_of_a_short_epoch_is_a_divergence(tmp_path, monkeypatch):
  config = helpers.small_digits_config()
  source = loop.load_source(config)
  batches = type(source).train_batches
  train = parallel_lib.Parallel.train
  calls = []

  def three_batches(self, **kwargs):
    yield from itertools.islice(batches(self, **kwargs), 3)

  def nan_at_the_third(self, state, batch, hparams):
    state, metrics = train(self, state, batch, hparams)
    calls.append(1)
    return state, {**metrics, "loss": metrics["loss"] * np.nan} if len(calls) == 3 else metrics

  monkeypatch.setattr(type(source), "train_batches", three_batches)
  monkeypatch.setattr(parallel_lib.Parallel, "train", nan_at_the_third)
  with pytest.raises(stopping.Diverged, match=r"at epoch 1 step 3"):
    loop.train(config, str(tmp_path), source=source)
