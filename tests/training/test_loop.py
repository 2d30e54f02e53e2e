"""The whole training loop on digits: outputs, resume, refusals, faults, two processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from configs import digits
from mixjax.training import checkpoint as checkpoint_lib
from mixjax.training import loop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "_worker.py")


def small_config(**overrides):
  config = digits.get_config()
  config.num_epochs = 3
  config.lr_milestones = (2,)
  config.batch_size = 128
  for key, value in overrides.items():
    config[key] = value
  return config


def test_one_run_leaves_everything_in_the_workdir(tmp_path):
  summary = loop.train_and_evaluate(small_config(mix_off_epochs=1), str(tmp_path))
  for name in ("config.json", "metrics.jsonl", "curves.png", "summary.json"):
    assert (tmp_path / name).stat().st_size > 0, name
  assert any((tmp_path / "tensorboard").iterdir())
  assert sorted(os.listdir(tmp_path / "checkpoints"))  # at least one step directory
  records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
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
  assert records[-1]["learning_rate"] == pytest.approx(0.005)
  saved = json.loads((tmp_path / "summary.json").read_text())
  assert saved == pytest.approx(summary)
  assert summary["last_test_accuracy"] > 0.5  # 3 short epochs already beat chance (10%).
  assert summary["epochs"] == 3


def test_label_noise_saves_the_corrupted_indices(tmp_path):
  loop.train_and_evaluate(
    small_config(num_epochs=1, lr_milestones=(), label_noise=0.2), str(tmp_path)
  )
  corrupted = np.load(tmp_path / "corrupted_indices.npy")
  assert len(corrupted) == round(0.2 * 1347)


def test_a_different_config_is_refused(tmp_path):
  loop.train_and_evaluate(small_config(num_epochs=1, lr_milestones=()), str(tmp_path))
  with pytest.raises(ValueError, match="mixup_alpha"):
    loop.train_and_evaluate(
      small_config(num_epochs=1, lr_milestones=(), mixup_alpha=0.7), str(tmp_path)
    )


def test_rerun_of_a_finished_run_resumes_without_training(tmp_path):
  config = small_config(num_epochs=1, lr_milestones=())
  first = loop.train(config, str(tmp_path))[0]
  again = loop.train(config, str(tmp_path))[0]
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
    loop.train_and_evaluate(small_config(**{key: value}), str(tmp_path))


def test_batch_size_not_divisible_by_devices(tmp_path):
  with pytest.raises(ValueError, match="batch_size"):
    loop.train_and_evaluate(small_config(batch_size=60), str(tmp_path))  # 8 devices


def test_corrupt_checkpoint_falls_back_to_the_previous_one(tmp_path):
  checkpointer = checkpoint_lib.Checkpointer(str(tmp_path))
  states = {step: {"w": np.full((64, 64), step, np.float32)} for step in (1, 2)}
  for step, state in states.items():
    checkpointer.save(step, state, {"epoch": step})
  # Corrupt every data file of the newest checkpoint in place (same size, other bytes).
  newest = tmp_path / "checkpoints" / "2"
  for path in newest.rglob("*"):
    if path.is_file() and path.stat().st_size > 0 and "d" in path.parts[-2:-1][0]:
      data = bytearray(path.read_bytes())
      path.write_bytes(bytes(b ^ 0xFF for b in data))
  restored = checkpointer.restore_latest({"w": np.zeros((64, 64), np.float32)})
  assert restored is not None
  state, meta = restored
  assert meta["epoch"] == 1
  np.testing.assert_array_equal(state["w"], states[1]["w"])


def test_checksum_mismatch_is_detected(tmp_path):
  checkpointer = checkpoint_lib.Checkpointer(str(tmp_path))
  checkpointer.save(1, {"w": np.ones(3, np.float32)}, {"epoch": 1})
  checkpointer.save(2, {"w": np.full(3, 2.0, np.float32)}, {"epoch": 2})
  meta_dir = next((tmp_path / "checkpoints" / "2" / "meta").rglob("*"))
  record = json.loads(meta_dir.read_text())
  record["fingerprint"] = "0" * 64
  meta_dir.write_text(json.dumps(record))
  _, meta = checkpointer.restore_latest({"w": np.zeros(3, np.float32)})
  assert meta["epoch"] == 1


def _worker(workdir, out, *args, env_extra=None):
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", **(env_extra or {})}
  cmd = [
    sys.executable,
    WORKER,
    str(workdir),
    str(out),
    "--config.num_epochs=4",
    "--config.lr_milestones=(3,)",
    "--config.batch_size=64",
    *args,
  ]
  return subprocess.Popen(
    cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
  )


def _params(path):
  with np.load(path) as f:
    return {k: f[k] for k in f.files}


def test_resume_after_sigkill_mid_epoch_is_exact(tmp_path):
  reference = _worker(tmp_path / "ref", tmp_path / "ref.npz")
  victim = _worker(tmp_path / "run", tmp_path / "run.npz")
  metrics = tmp_path / "run" / "metrics.jsonl"
  deadline = time.time() + 240
  while time.time() < deadline:  # Wait until epoch 2 is logged, then kill inside epoch 3.
    if metrics.exists() and len(metrics.read_text().splitlines()) >= 2:
      break
    assert victim.poll() is None, victim.stdout.read()
    time.sleep(0.05)
  time.sleep(0.3)
  victim.send_signal(signal.SIGKILL)
  victim.wait()
  victim.stdout.close()
  assert not (tmp_path / "run.npz").exists(), "the run finished before it was killed"
  resumed = _worker(tmp_path / "run", tmp_path / "run.npz")
  out, _ = resumed.communicate(timeout=300)
  assert resumed.returncode == 0, out
  assert "Resuming" in out
  ref_out, _ = reference.communicate(timeout=300)
  assert reference.returncode == 0, ref_out
  ref, run = _params(tmp_path / "ref.npz"), _params(tmp_path / "run.npz")
  assert ref.keys() == run.keys()
  for key in ref:
    np.testing.assert_array_equal(ref[key], run[key], err_msg=key)
  records = [json.loads(x) for x in metrics.read_text().splitlines()]
  assert [r["epoch"] for r in records] == [1, 2, 3, 4]


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


@pytest.mark.parametrize("parallel", ["pmap", "shard_map"])
def test_two_processes_end_with_identical_parameters(tmp_path, parallel):
  port = _free_port()
  env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=1"}
  procs = [
    _worker(
      tmp_path / "run",
      tmp_path / f"p{i}.npz",
      "--distributed",
      f"--coordinator_address=127.0.0.1:{port}",
      f"--process_id={i}",
      "--num_processes=2",
      f"--config.parallel={parallel}",
      "--config.num_epochs=2",
      "--config.lr_milestones=()",
      env_extra=env,
    )
    for i in range(2)
  ]
  outs = [p.communicate(timeout=300)[0] for p in procs]
  for p, out in zip(procs, outs, strict=True):
    assert p.returncode == 0, out
    assert "SUMMARY" in out and out.strip().endswith("2")  # jax.process_count() == 2
  a, b = _params(tmp_path / "p0.npz"), _params(tmp_path / "p1.npz")
  for key in a:
    np.testing.assert_array_equal(a[key], b[key], err_msg=key)
  records = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
  assert len(records) == 2 and json.loads(records[-1])["test_count"] == 450
