"""`train_and_evaluate(config, workdir)`: the training loop behind train.py.

:func:`train` is the loop; each part is a small top-level function of the :class:`Run`
that :func:`setup` builds: `setup` (config and workdir checks, data, model, optimizer,
compiled steps), `restore` (the newest good checkpoint), per epoch `run_epoch`
(`train_epoch`, then `evaluate`, giving one record), `log_record` (metrics.jsonl,
TensorBoard, one printed line) and `save_checkpoint`, then `finish` (summary.json).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from mixjax import data as data_lib
from mixjax.training import checkpoint as checkpoint_lib
from mixjax.training import config as config_lib
from mixjax.training import models
from mixjax.training import parallel as parallel_lib
from mixjax.training import reporting
from mixjax.training import step as step_lib

# --- building blocks of a run (also what benchmarks/bench_train_step.py runs) ---


def load_source(config: ml_collections.ConfigDict) -> data_lib.Source:
  """This process's data source for `config` (dataset, seed, label noise, split, image size)."""
  return data_lib.load_source(
    config.dataset,
    seed=config.seed,
    label_noise=config.label_noise,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
    data_dir=config.data_dir or None,
    test_fraction=config.test_fraction or None,
    image_size=config.image_size or None,
  )


def create_model(config: ml_collections.ConfigDict, num_classes: int) -> nn.Module:
  """The Flax model `config.model`, in bfloat16 when `config.half_precision`."""
  dtype = jnp.bfloat16 if config.half_precision else jnp.float32
  return models.create_model(
    config.model, num_classes=num_classes, dropout_rate=config.dropout_rate, dtype=dtype
  )


def make_optimizer(config: ml_collections.ConfigDict, steps_per_epoch: int):
  """SGD with momentum (or Adam), step-decayed learning rate, L2 weight decay via optax.

  Returns:
    `(tx, schedule)`.
  """
  boundaries = {int(m) * steps_per_epoch: config.lr_decay for m in config.lr_milestones}
  schedule = optax.piecewise_constant_schedule(config.learning_rate, boundaries)
  if config.optimizer == "adam":
    update = optax.adam(schedule)
  else:
    update = optax.sgd(schedule, momentum=config.momentum)
  return optax.chain(optax.add_decayed_weights(config.weight_decay), update), schedule


def create_state(config, model, tx, input_shape) -> step_lib.TrainState:
  """Initialises a host train state from `config.seed`."""
  key = jax.random.key(config.seed)
  init_key, run_key = jax.random.split(key)
  dummy = jnp.zeros((1,) + tuple(input_shape), jnp.float32)
  variables = jax.jit(lambda k: model.init({"params": k, "dropout": k}, dummy, train=False))(
    init_key
  )
  state = step_lib.TrainState.create(
    apply_fn=model.apply,
    params=variables["params"],
    tx=tx,
    batch_stats=variables.get("batch_stats", {}),
    rng=jax.random.key_data(run_key),
  )
  # Through jnp first so host dtypes match what the devices hand back (int32 step).
  return jax.tree.map(lambda x: np.asarray(jnp.asarray(x)), state)


def make_parallel(config: ml_collections.ConfigDict, num_classes: int) -> parallel_lib.Parallel:
  """The pmap / shard_map driver of the steps compiled for `config`; checks the batch sizes."""
  cfg = step_lib.StepConfig.from_config(config, num_classes=num_classes)
  parallel = parallel_lib.Parallel(config.parallel, cfg)
  parallel.check_batch_size(config.batch_size)
  parallel.check_batch_size(config.eval_batch_size or config.batch_size)
  return parallel


def is_mixing(config: ml_collections.ConfigDict, epoch: int) -> bool:
  """Whether 0-based `epoch` mixes (not with mix="none", nor in the last mix_off_epochs)."""
  return config.mix != "none" and epoch < config.num_epochs - config.mix_off_epochs


def mixing_hparams(config: ml_collections.ConfigDict, epoch: int) -> dict[str, float]:
  """The traced step hyperparameters of `epoch`: the α's, or 0 (no mixing, same compiled step)."""
  mixing = is_mixing(config, epoch)
  return {
    "mixup_alpha": config.mixup_alpha if mixing else 0.0,
    "cutmix_alpha": config.cutmix_alpha if mixing else 0.0,
  }


# --- the run ---


@dataclasses.dataclass
class Run:
  """Everything a run holds between its epochs (built by :func:`setup`).

  Attributes:
    config: the run's (validated) config.
    workdir: the run's directory.
    source: this process's data.
    parallel: the compiled steps.
    schedule: the learning rate per step.
    steps_per_epoch: train steps per epoch.
    checkpointer: the workdir's checkpoints.
    log: the per-epoch records.
    is_main: whether this process writes the outputs (process 0).
    start_time: `time.time()` when this session of the run started.
    wall_offset: seconds spent by the sessions before it (set by :func:`restore`).
  """

  config: ml_collections.ConfigDict
  workdir: str
  source: data_lib.Source
  parallel: parallel_lib.Parallel
  schedule: optax.Schedule
  steps_per_epoch: int
  checkpointer: checkpoint_lib.Checkpointer
  log: reporting.MetricsLog
  is_main: bool
  start_time: float
  wall_offset: float = 0.0

  def wall_seconds(self) -> float:
    """Seconds the run has taken so far, over all its sessions."""
    return self.wall_offset + time.time() - self.start_time


def check_workdir_config(config, workdir: str) -> None:
  """Writes config.json, or refuses a workdir that holds a run with another config."""
  path = os.path.join(workdir, "config.json")
  current = json.loads(config.to_json_best_effort(sort_keys=True))
  if os.path.exists(path):
    with open(path) as f:
      previous = json.load(f)
    keys = (set(previous) | set(current)) - config_lib.NON_SEMANTIC_KEYS
    changed = sorted(k for k in keys if previous.get(k) != current.get(k))
    if changed:
      details = ", ".join(f"{k}: {previous.get(k)!r} -> {current.get(k)!r}" for k in changed)
      raise ValueError(
        f"--workdir {workdir} holds a run with a different config ({details}). "
        "Use a new workdir, or rerun with the same config to resume."
      )
  if jax.process_index() == 0:
    reporting.write_json(path, current)


def prepare_workdir(config: ml_collections.ConfigDict, workdir: str) -> None:
  """Validates `config`, then creates `workdir` and writes (or checks) its config.json."""
  config_lib.validate(config)
  os.makedirs(workdir, exist_ok=True)
  check_workdir_config(config, workdir)


def check_source(config: ml_collections.ConfigDict, source: data_lib.Source) -> None:
  """Refuses a box-mixing config on inputs that are not images."""
  info = source.info
  if config.mix in ("cutmix", "mixup_or_cutmix") and len(info.input_shape) != 3:
    raise ValueError(
      f"config.mix={config.mix!r} needs images [H, W, C]; dataset {info.name!r} has inputs "
      f"of shape {info.input_shape}. Use mix='mixup' or 'none'."
    )


def save_source_files(config, source: data_lib.Source, workdir: str) -> None:
  """class_names.json (when the data names its classes) and corrupted_indices.npy (label noise)."""
  if getattr(source, "class_names", None):
    reporting.write_json(os.path.join(workdir, "class_names.json"), list(source.class_names))
  if config.label_noise > 0:
    np.save(os.path.join(workdir, "corrupted_indices.npy"), source.corrupted_indices)


def setup(
  config: ml_collections.ConfigDict, workdir: str, *, source: data_lib.Source | None = None
) -> tuple[Run, step_lib.TrainState]:
  """Checks the config and workdir, loads the data, builds the steps and a fresh host state."""
  prepare_workdir(config, workdir)
  is_main = jax.process_index() == 0
  start_time = time.time()
  source = load_source(config) if source is None else source
  check_source(config, source)
  if is_main:
    save_source_files(config, source, workdir)
  info = source.info
  parallel = make_parallel(config, info.num_classes)
  steps_per_epoch = source.steps_per_epoch(config.batch_size)
  tx, schedule = make_optimizer(config, steps_per_epoch)
  host_state = create_state(config, create_model(config, info.num_classes), tx, info.input_shape)
  run = Run(
    config=config,
    workdir=workdir,
    source=source,
    parallel=parallel,
    schedule=schedule,
    steps_per_epoch=steps_per_epoch,
    checkpointer=checkpoint_lib.Checkpointer(workdir),
    log=reporting.MetricsLog(workdir, enabled=is_main),
    is_main=is_main,
    start_time=start_time,
  )
  return run, host_state


def restore(run: Run, host_state: step_lib.TrainState) -> tuple[step_lib.TrainState, int]:
  """Restores the newest good checkpoint, if any, onto the devices.

  Returns:
    `(state, start_epoch)`: the device state and the number of epochs already done.
  """
  start_epoch = 0
  restored = run.checkpointer.restore_latest(host_state)
  if restored is not None:
    host_state, meta = restored
    start_epoch = int(meta["epoch"])
    run.wall_offset = float(meta.get("wall_seconds", 0.0))
    if run.is_main:
      print(f"Resuming {run.workdir} from epoch {start_epoch} (step {int(host_state.step)}).")
  run.log.resume(start_epoch)
  return run.parallel.put_state(host_state), start_epoch


def _progress(iterable, total: int, desc: str):
  """A tqdm bar on a terminal; nothing (plain per-epoch log lines instead) otherwise."""
  if not sys.stderr.isatty() or jax.process_index() != 0:
    return iterable, None
  from tqdm import tqdm

  bar = tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)
  return bar, bar


def train_epoch(run: Run, state, epoch: int):
  """Runs the train steps of 0-based `epoch`.

  Returns:
    `(state, metrics)`: metrics holds the epoch's mean `train_loss` and `train_accuracy`
    and its `images_per_sec` (from the second step on: compilation and warm-up excluded).
  """
  config = run.config
  hparams = mixing_hparams(config, epoch)
  # Two batches placed on the devices ahead of the step, by a thread; the order is unchanged.
  batches = run.parallel.prefetch(
    run.source.train_batches(epoch=epoch, global_batch_size=config.batch_size)
  )
  batches, bar = _progress(batches, run.steps_per_epoch, f"epoch {epoch + 1}/{config.num_epochs}")
  step_metrics = []
  start = time.time()
  timed_from, timed_steps = None, 0
  for i, batch in enumerate(batches):
    state, metrics = run.parallel.train(state, batch, hparams)
    step_metrics.append(metrics)
    if i == 0:  # Exclude compilation and warm-up from the throughput.
      jax.block_until_ready(metrics)
      timed_from = time.time()
    else:
      timed_steps += 1
    if bar is not None and i % 10 == 0:
      bar.set_postfix(loss=f"{float(metrics['loss']):.3f}")
  jax.block_until_ready(state)
  if timed_steps:
    images_per_sec = timed_steps * config.batch_size / (time.time() - timed_from)
  else:
    images_per_sec = run.steps_per_epoch * config.batch_size / (time.time() - start)
  return state, {
    "train_loss": float(np.mean([float(m["loss"]) for m in step_metrics])),
    "train_accuracy": float(np.mean([float(m["accuracy"]) for m in step_metrics])),
    "images_per_sec": images_per_sec,
  }


def evaluate(run: Run, state) -> dict[str, float]:
  """Mean loss and accuracy on the whole test split (padding masked out), and its size."""
  sums = {"loss": 0.0, "correct": 0.0, "count": 0.0}
  eval_batch_size = run.config.eval_batch_size or run.config.batch_size
  for batch in run.source.eval_batches(global_batch_size=eval_batch_size):
    for k, v in run.parallel.eval(state, batch).items():
      sums[k] += v
  return {
    "test_loss": sums["loss"] / sums["count"],
    "test_accuracy": sums["correct"] / sums["count"],
    "test_count": int(sums["count"]),
  }


def run_epoch(run: Run, state, epoch: int) -> tuple[Any, dict[str, Any]]:
  """Trains and evaluates 0-based `epoch`; returns the new state and the epoch's record."""
  epoch_start = time.time()
  state, train = train_epoch(run, state, epoch)
  test = evaluate(run, state)
  step = (epoch + 1) * run.steps_per_epoch
  record = {
    "epoch": epoch + 1,
    "step": step,
    "train_loss": train["train_loss"],
    "train_accuracy": train["train_accuracy"],
    **test,
    "learning_rate": float(run.schedule(step - 1)),
    "images_per_sec": train["images_per_sec"],
    "mixing": is_mixing(run.config, epoch),
    "epoch_seconds": time.time() - epoch_start,
    "wall_seconds": run.wall_seconds(),
  }
  return state, record


def format_record(record: dict[str, Any], num_epochs: int) -> str:
  """The one-line log of an epoch's record."""
  return (
    f"epoch {record['epoch']:3d}/{num_epochs}  loss {record['train_loss']:.4f}  "
    f"test loss {record['test_loss']:.4f}  test acc {100 * record['test_accuracy']:.2f}%  "
    f"{record['images_per_sec']:,.0f} img/s  lr {record['learning_rate']:.4g}"
    f"{'' if record['mixing'] else '  (no mixing)'}"
  )


def log_record(run: Run, record: dict[str, Any]) -> None:
  """Appends the record to metrics.jsonl and TensorBoard, and prints its line (process 0)."""
  run.log.write(record)
  if run.is_main:
    print(format_record(record, run.config.num_epochs), flush=True)


def is_checkpoint_epoch(config: ml_collections.ConfigDict, epoch: int) -> bool:
  """Whether 0-based `epoch` ends with a checkpoint: every checkpoint_every_epochs, and the last."""
  done = epoch + 1
  return done == config.num_epochs or done % config.checkpoint_every_epochs == 0


def save_checkpoint(run: Run, state, record: dict[str, Any]) -> None:
  """Saves the host copy of `state` with where the run stands (epoch, step, wall time)."""
  meta = {key: record[key] for key in ("epoch", "step", "wall_seconds")}
  run.checkpointer.save(record["step"], run.parallel.get_state(state), meta)


def finish(run: Run, state) -> tuple[step_lib.TrainState, dict[str, Any]]:
  """Closes the outputs and writes summary.json; returns the host state and the summary."""
  final_state = run.parallel.get_state(state)
  run.checkpointer.close()
  summary = run.log.summary()
  summary["dataset"] = run.source.info.name
  summary["mix"] = run.config.mix
  run.log.close()
  if run.is_main:
    reporting.write_json(os.path.join(run.workdir, "summary.json"), summary)
  return final_state, summary


def train(
  config: ml_collections.ConfigDict, workdir: str, *, source: data_lib.Source | None = None
) -> tuple[step_lib.TrainState, dict[str, Any]]:
  """Like :func:`train_and_evaluate`, also returning this process's final host state.

  Args:
    config: the run's config.
    workdir: the run's directory.
    source: the data to train and evaluate on; defaults to :func:`load_source` (config).
      Cross-validation passes one fold's source here.
  """
  run, host_state = setup(config, workdir, source=source)
  state, start_epoch = restore(run, host_state)
  del host_state
  for epoch in range(start_epoch, config.num_epochs):
    state, record = run_epoch(run, state, epoch)
    log_record(run, record)
    if is_checkpoint_epoch(config, epoch):
      save_checkpoint(run, state, record)
  return finish(run, state)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict[str, Any]:
  """Trains and evaluates a model; resumes from `workdir` when it holds a checkpoint.

  Args:
    config: the run's config (`mixjax.training.config.default_config` has every key).
    workdir: where checkpoints, metrics, plots and the summary go.

  Returns:
    The summary (also written to `workdir/summary.json`).
  """
  return train(config, workdir)[1]


def predict(
  state: step_lib.TrainState, source: data_lib.Source, *, global_batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
  """Class probabilities of a trained (host) state on this process's test share.

  Args:
    state: a host train state, e.g. from :func:`train`.
    source: the data; its `eval_batches` (the test split) are predicted.
    global_batch_size: the eval batch size.

  Returns:
    `(probs, labels)`: float32 `[n, num_classes]` and int32 `[n]`, padding removed, in
    the order of `source.eval_batches` (the test split's order for a single process).
  """
  variables = {"params": state.params, "batch_stats": state.batch_stats}
  forward = jax.jit(lambda x: jax.nn.softmax(state.apply_fn(variables, x, train=False)))
  probs, labels = [], []
  for batch in source.eval_batches(global_batch_size=global_batch_size):
    keep = batch["mask"]
    probs.append(np.asarray(forward(batch["image"]))[keep])
    labels.append(batch["label"][keep])
  return np.concatenate(probs), np.concatenate(labels)
