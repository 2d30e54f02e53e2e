"""Shared by the training tests: shipped configs (loaded by path), the worker, a tiny model."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from mixjax.training import config as config_lib
from mixjax.training import manifold
from mixjax.training import parallel as parallel_lib
from mixjax.training import step as step_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = os.path.join(ROOT, "configs")
WORKER = os.path.join(ROOT, "tests", "training", "_worker.py")


def config_path(name: str) -> str:
  """The path of the shipped config `configs/<name>.py`."""
  return os.path.join(CONFIGS, f"{name}.py")


def load_config(name: str, **overrides):
  """The shipped config `configs/<name>.py`, loaded by path, with `overrides` set."""
  config = config_lib.load_config_file(config_path(name))
  for key, value in overrides.items():
    config[key] = value
  return config


def small_digits_config(**overrides):
  """configs/digits.py, 3 epochs of batch 128 (lr ÷10 after epoch 2), with `overrides`."""
  return load_config(
    "digits", **{"num_epochs": 3, "lr_milestones": (2,), "batch_size": 128, **overrides}
  )


def read_records(workdir) -> list[dict]:
  """The records of `workdir/metrics.jsonl`."""
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    return [json.loads(line) for line in f if line.strip()]


def start_worker(
  workdir, out, *args, devices: int = 2, env_extra: dict[str, str] | None = None
) -> subprocess.Popen:
  """tests/training/_worker.py on digits, 4 epochs of batch 64, on `devices` fake CPU devices.

  Args:
    workdir: the run's directory.
    out: where the worker saves its final parameters.
    *args: more flags (e.g. `--config.parallel=shard_map`, `--distributed ...`).
    devices: fake CPU devices of the process.
    env_extra: more environment variables; a `JAX_COMPILATION_CACHE_DIR` there is used
      for every compilation (no minimum compile time or size).
  """
  env = {
    **os.environ,
    "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    **(env_extra or {}),
  }
  cmd = [
    sys.executable,
    WORKER,
    f"--config={config_path('digits')}",
    f"--workdir={workdir}",
    f"--out={out}",
    "--config.num_epochs=4",
    "--config.lr_milestones=(3,)",
    "--config.batch_size=64",
    *args,
  ]
  return subprocess.Popen(
    cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
  )


def communicate(procs: list[subprocess.Popen], timeout: float) -> list[str]:
  """The outputs of `procs`, waited for at most `timeout` s in all.

  Raises:
    AssertionError: some process was still running at the deadline. Every such process is
      killed (a hung multi-process test leaves none behind), every pipe is read to its end
      and closed, and the message holds each process's whole output.
  """
  deadline = time.monotonic() + timeout
  outs: list[str] = []
  try:
    for p in procs:
      outs.append(p.communicate(timeout=max(deadline - time.monotonic(), 0.0))[0])
  except subprocess.TimeoutExpired:
    for p in procs:
      if p.poll() is None:
        p.kill()
    outs += [p.communicate()[0] for p in procs[len(outs) :]]
    texts = "".join(
      f"\n--- process {i} (status {p.returncode}) ---\n{out}"
      for i, (p, out) in enumerate(zip(procs, outs, strict=True))
    )
    raise AssertionError(f"still running after {timeout:.0f} s, killed:{texts}") from None
  return outs


def wait_for_checkpoint(victim, workdir, epoch, timeout=240):
  """Waits until the checkpoint of `epoch` is complete; returns its step."""
  deadline = time.time() + timeout
  while time.time() < deadline:
    assert victim.poll() is None, victim.stdout.read()
    try:
      records = read_records(workdir)
    except (OSError, ValueError):  # Not written yet, or a line half-written.
      records = []
    if len(records) >= epoch:
      step = records[epoch - 1]["step"]
      if (workdir / "checkpoints" / str(step)).is_dir():  # Orbax renames it when complete.
        return step
    time.sleep(0.02)
  raise AssertionError(f"no checkpoint of epoch {epoch} after {timeout} s")


def read_params(path) -> dict[str, np.ndarray]:
  """The parameters a worker saved."""
  with np.load(path) as f:
    return {k: f[k] for k in f.files}


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


# --- a tiny model and batch for the step and driver tests (8 fake CPU devices) ---

NUM_DEVICES = 8
NUM_CLASSES = 3


class TinyNet(nn.Module):
  """Dense-BN-ReLU-dropout-Dense; manifold mixup boundaries 0 (the input) and 1 (hidden)."""

  @nn.compact
  def __call__(self, x, *, train: bool, mix=None):
    x = manifold.mix_hidden(x.reshape((x.shape[0], -1)), 0, mix)
    x = nn.Dense(8)(x)
    x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
    x = nn.Dropout(0.2, deterministic=not train)(nn.relu(x))
    return nn.Dense(NUM_CLASSES)(manifold.mix_hidden(x, 1, mix))


def step_config(**overrides) -> step_lib.StepConfig:
  """The step settings of the default config with `overrides`, for NUM_CLASSES classes."""
  config = config_lib.default_config()
  for key, value in overrides.items():
    config[key] = value
  return step_lib.StepConfig.from_config(config, num_classes=NUM_CLASSES)


def make_state(seed=0):
  model = TinyNet()
  variables = model.init(jax.random.key(seed), jnp.zeros((1, 4, 4, 1)), train=False)
  return step_lib.TrainState.create(
    apply_fn=model.apply,
    params=variables["params"],
    tx=optax.sgd(0.1, momentum=0.9),
    batch_stats=variables["batch_stats"],
    rng=jax.random.key_data(jax.random.key(seed + 1)),
  )


def make_batch(size=16, seed=0):
  rng = np.random.default_rng(seed)
  return {
    "image": rng.normal(size=(size, 4, 4, 1)).astype(np.float32),
    "label": rng.integers(0, NUM_CLASSES, size).astype(np.int32),
  }


def run_steps(kind, cfg, hparams, num_steps=3):
  assert jax.device_count() == NUM_DEVICES
  parallel = parallel_lib.Parallel(kind, cfg)
  state = parallel.put_state(jax.tree.map(np.asarray, make_state()))
  losses = []
  for i in range(num_steps):
    state, metrics = parallel.train(state, make_batch(seed=i), hparams)
    losses.append(float(metrics["loss"]))
  return parallel.get_state(state), losses
