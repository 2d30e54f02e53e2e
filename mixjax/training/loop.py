"""`train_and_evaluate(config, workdir)`: the training loop behind train.py.

:func:`train` is the loop; each part is a small top-level function of the :class:`Run`
that :func:`setup` builds: `setup` (the whole config and the data checked before the
workdir is touched, then the workdir, its lock, the model, optimizer and compiled steps),
`restore` (the newest good checkpoint, possibly mid-epoch), per epoch `run_epoch`
(`train_epoch`, then `evaluate`, giving one record), `log_record` (metrics.jsonl,
TensorBoard, one printed line) and `save_checkpoint`, then `finish` (summary.json and the
printed summary). `train_epoch` iterates the batches of `epoch_batches` (the one place a
prefetching iterator wraps them); after each step it checks the previous step's loss
(:class:`stopping.Diverged` at the first non-finite one), saves the
`checkpoint_every_steps` checkpoints and stops on SIGTERM / SIGINT
(:class:`stopping.Interrupted`, after a checkpoint at that step).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from mixjax import data as data_lib
from mixjax.training import calibration
from mixjax.training import checkpoint as checkpoint_lib
from mixjax.training import config as config_lib
from mixjax.training import distributed
from mixjax.training import models
from mixjax.training import parallel as parallel_lib
from mixjax.training import progress as progress_lib
from mixjax.training import reporting
from mixjax.training import step as step_lib
from mixjax.training import stopping
from mixjax.training import workdir as workdir_lib

# --- building blocks of a run (also what benchmarks/bench_train_step.py runs) ---


# The arguments of `data.load_source` as the loaders' errors name them -> the config keys.
_SOURCE_ARGS = {
  "`name`": "config.dataset",
  "`data_dir`": "config.data_dir",
  "`test_fraction`": "config.test_fraction",
  "`image_size`": "config.image_size",
  "`label_noise`": "config.label_noise",
  "`seed`": "config.seed",
}


def load_source(config: ml_collections.ConfigDict) -> data_lib.Source:
  """This process's data source for `config` (dataset, seed, label noise, split, image size).

  Raises:
    config.ConfigError: the data cannot be loaded as configured (unknown dataset, missing
      files, bad options), the message naming the config keys.
  """
  try:
    return data_lib.load_source(
      config.dataset,
      seed=config_lib.data_seed(config),
      label_noise=config.label_noise,
      process_index=jax.process_index(),
      process_count=jax.process_count(),
      data_dir=config.data_dir or None,
      test_fraction=config.test_fraction or None,
      image_size=config.image_size or None,
    )
  except (ValueError, FileNotFoundError) as error:
    message = str(error)
    for argument, key in _SOURCE_ARGS.items():
      message = message.replace(argument, key)
    if not message.startswith("config."):
      message = f"config.dataset={config.dataset!r} cannot be loaded: {message}"
    raise config_lib.ConfigError(message) from error


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
  """The pmap / shard_map driver of the steps compiled for `config`; checks the batch sizes.

  Raises:
    config.ConfigError: a batch size the devices do not divide, naming its key.
  """
  cfg = step_lib.StepConfig.from_config(config, num_classes=num_classes)
  parallel = parallel_lib.Parallel(config.parallel, cfg)
  for key in ("batch_size", "eval_batch_size"):
    size = config[key] or config.batch_size
    if size % parallel.num_devices:
      raise config_lib.ConfigError(
        f"config.{key} must be divisible by the number of devices ({parallel.num_devices}) "
        f"across all processes, got {size}.",
        key,
      )
  return parallel


def steps_per_epoch(config: ml_collections.ConfigDict, source: data_lib.Source) -> int:
  """The train steps of one epoch of `source` at `config.batch_size`.

  Raises:
    config.ConfigError: a batch that the processes do not divide or that exceeds the
      training split, naming `config.batch_size`.
  """
  try:
    return source.steps_per_epoch(config.batch_size)
  except ValueError as error:
    message = str(error).replace("`global_batch_size`", "config.batch_size")
    raise config_lib.ConfigError(message, "batch_size") from error


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
    lock: the workdir lock this process holds (process 0).
    is_main: whether this process writes the outputs (process 0).
    start_time: `time.time()` when this session of the run started.
    eval_label: what the evaluated split is called in the printed lines ("test", or
      "held-out" for a cross-validation fold).
    stop: the SIGTERM / SIGINT requests.
    progress: the bar and the printed lines (set by :func:`restore`).
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
  lock: workdir_lib.WorkdirLock
  is_main: bool
  start_time: float
  eval_label: str = "test"
  stop: stopping.StopRequests = dataclasses.field(default_factory=stopping.StopRequests)
  progress: progress_lib.Progress | None = None
  wall_offset: float = 0.0

  def wall_seconds(self) -> float:
    """Seconds the run has taken so far, over all its sessions."""
    return self.wall_offset + time.time() - self.start_time

  def close(self) -> None:
    """Closes the checkpoints, the outputs and the bar, and releases the lock."""
    if self.progress is not None:
      self.progress.close()
    self.checkpointer.close()
    self.log.close()
    self.lock.release()


@dataclasses.dataclass
class Tally:
  """Running sums of the train metrics of the epoch in progress.

  Saved with the step checkpoints, so an epoch resumed mid-way reports the same means.
  """

  loss_sum: float = 0.0
  accuracy_sum: float = 0.0
  count: int = 0

  def add(self, metrics: dict[str, Any], *, epoch: int, epoch_step: int, global_step: int):
    """Adds one step's metrics; raises :class:`stopping.Diverged` on a non-finite loss."""
    loss = float(metrics["loss"])
    if not np.isfinite(loss):
      raise stopping.diverged(loss, epoch=epoch, epoch_step=epoch_step, global_step=global_step)
    self.loss_sum += loss
    self.accuracy_sum += float(metrics["accuracy"])
    self.count += 1


def check_workdir_config(config, workdir: str) -> None:
  """Writes config.json, or refuses a workdir that holds a run with another config."""
  path = os.path.join(workdir, "config.json")
  current = json.loads(config.to_json_best_effort(sort_keys=True))
  if os.path.exists(path):
    with open(path) as f:
      previous = json.load(f)
    # A key the saved run predates counts as its default (a run started before an upgrade
    # that added `loss`, say, trained with what the default now says).
    defaults = json.loads(config_lib.default_config().to_json_best_effort(sort_keys=True))
    previous = {**{k: v for k, v in defaults.items() if k not in previous}, **previous}
    keys = (set(previous) | set(current)) - config_lib.NON_SEMANTIC_KEYS
    changed = sorted(k for k in keys if previous.get(k) != current.get(k))
    if changed:
      details = ", ".join(f"{k}: {previous.get(k)!r} -> {current.get(k)!r}" for k in changed)
      raise config_lib.ConfigError(
        f"--workdir {workdir} holds a run with a different config ({details}). "
        "Use a new workdir, or rerun with the same config to resume."
      )
  if jax.process_index() == 0:
    reporting.write_json(path, current)


def data_fingerprint(source: data_lib.Source) -> dict[str, Any]:
  """What identifies a run's data: its info, class names and, in memory, a hash of its labels.

  Labels (ints) and not inputs (floats, normalised on the host) are hashed, so the same
  files give the same fingerprint on any CPU.
  """
  info = source.info
  fingerprint: dict[str, Any] = {
    "dataset": info.name,
    "num_classes": info.num_classes,
    "input_shape": list(info.input_shape),
    "num_train": info.num_train,
    "num_test": info.num_test,
  }
  if getattr(source, "class_names", None):
    fingerprint["class_names"] = list(source.class_names)
  if isinstance(source, data_lib.ArraySource):
    digest = hashlib.blake2b(digest_size=8)
    for labels in (source.train_labels, source.test_labels):
      digest.update(np.ascontiguousarray(labels, np.int64).tobytes())
    fingerprint["labels_blake2b"] = digest.hexdigest()
  return fingerprint


def check_workdir_data(config, workdir: str, source: data_lib.Source) -> None:
  """Writes data.json, or refuses a workdir whose run trained on other data.

  `config.data_dir` may change between a run and its resume (the data moved), so the data
  itself is compared: an npz file or image folder swapped for another one used to resume
  silently on it, or fail restoring parameters of another shape.
  """
  path = os.path.join(workdir, "data.json")
  current = data_fingerprint(source)
  if os.path.exists(path):
    with open(path) as f:
      previous = json.load(f)
    changed = sorted(k for k in set(previous) | set(current) if previous.get(k) != current.get(k))
    if changed:
      details = "; ".join(f"{k}: {previous.get(k)!r} -> {current.get(k)!r}" for k in changed)
      raise config_lib.ConfigError(
        f"--workdir {workdir} holds a run trained on other data ({details}), not on "
        f"config.dataset={config.dataset!r}, config.data_dir={config.data_dir!r}. Use a new "
        "workdir, or point config.data_dir at the run's data to resume.",
        "data_dir",
      )
  if jax.process_index() == 0:
    reporting.write_json(path, current)


def prepare_workdir(
  config: ml_collections.ConfigDict, workdir: str, source: data_lib.Source | None = None
) -> workdir_lib.WorkdirLock:
  """Creates and locks `workdir`, then writes (or checks) its config.json (and data.json
  for `source`).

  Returns:
    The lock, held (process 0 only; the other processes get a disabled one).

  Raises:
    WorkdirError, ConfigError: the workdir cannot be used; in a multi-process run the
      other processes raise `distributed.StartError` then, instead of waiting for this one.
  """
  lock = workdir_lib.WorkdirLock(workdir, enabled=jax.process_index() == 0)
  failure = None
  try:
    workdir_lib.make_workdir(workdir)
    lock.acquire()
    check_workdir_config(config, workdir)
    if source is not None:
      check_workdir_data(config, workdir, source)
  except (workdir_lib.WorkdirError, config_lib.ConfigError) as error:
    failure = error
  try:
    # Process 0 alone takes the lock: a held lock must stop the other processes too.
    distributed.raise_if_any_failed(failure, f"preparing --workdir {workdir}")
  except BaseException:
    lock.release()
    raise
  return lock


def check_source(config: ml_collections.ConfigDict, source: data_lib.Source) -> None:
  """Refuses a model or a box-mixing config that the dataset's inputs do not fit."""
  info = source.info
  config_lib.check_model_input(config, info.input_shape)
  if config.mix in ("cutmix", "mixup_or_cutmix") and len(info.input_shape) < 2:
    raise config_lib.ConfigError(
      f"config.mix={config.mix!r} needs inputs with spatial axes and channels last ([L, C], "
      f"[H, W, C], ...); dataset {info.name!r} has inputs of shape {info.input_shape}. "
      "Use mix='mixup' or 'none'.",
      "mix",
    )
  image_ops = {
    "augment": config.augment != "none",
    "random_erasing": config.random_erasing > 0,
    "gridmask": config.gridmask > 0,
  }
  for key, used in image_ops.items():
    if used and len(info.input_shape) != 3:
      raise config_lib.ConfigError(
        f"config.{key}={config[key]!r} needs images [H, W, C]; dataset {info.name!r} has "
        f"inputs of shape {info.input_shape}. Turn it off for this dataset.",
        key,
      )


def save_source_files(config, source: data_lib.Source, workdir: str) -> None:
  """class_names.json (when the data names its classes) and corrupted_indices.npy (label noise)."""
  if getattr(source, "class_names", None):
    reporting.write_json(os.path.join(workdir, "class_names.json"), list(source.class_names))
  if config.label_noise > 0:
    np.save(os.path.join(workdir, "corrupted_indices.npy"), source.corrupted_indices)


def setup(
  config: ml_collections.ConfigDict,
  workdir: str,
  *,
  source: data_lib.Source | None = None,
  eval_label: str = "test",
) -> tuple[Run, step_lib.TrainState]:
  """Checks the config and the data, then prepares the workdir and a fresh host state.

  Nothing is written before the whole config (names, ranges, the model's fit to the data,
  the batch sizes) is known to be good.
  """
  config_lib.validate(config)
  is_main = jax.process_index() == 0
  start_time = time.time()
  source = load_source(config) if source is None else source
  check_source(config, source)
  info = source.info
  parallel = make_parallel(config, info.num_classes)
  epoch_steps = steps_per_epoch(config, source)
  tx, schedule = make_optimizer(config, epoch_steps)
  model = create_model(config, info.num_classes)
  lock = prepare_workdir(config, workdir, source)
  try:
    if is_main:
      save_source_files(config, source, workdir)
    host_state = create_state(config, model, tx, info.input_shape)
    checkpointer = checkpoint_lib.Checkpointer(workdir)
  except BaseException:
    lock.release()
    raise
  run = Run(
    config=config,
    workdir=workdir,
    source=source,
    parallel=parallel,
    schedule=schedule,
    steps_per_epoch=epoch_steps,
    checkpointer=checkpointer,
    log=reporting.MetricsLog(workdir, enabled=is_main),
    lock=lock,
    is_main=is_main,
    start_time=start_time,
    eval_label=eval_label,
  )
  return run, host_state


@dataclasses.dataclass
class Position:
  """Where a run stands: `epoch` (0-based, in progress), `epoch_step` steps into it."""

  epoch: int = 0
  epoch_step: int = 0
  tally: Tally = dataclasses.field(default_factory=Tally)


def restore(run: Run, host_state: step_lib.TrainState) -> tuple[step_lib.TrainState, Position]:
  """Restores the newest good checkpoint, if any, onto the devices.

  Returns:
    `(state, position)`: the device state and where the run stands (epochs done, steps
    into the next one and that epoch's metric sums when the checkpoint was mid-epoch).
  """
  position = Position()
  restored = run.checkpointer.restore_latest(host_state)
  if restored is not None:
    host_state, meta = restored
    tally = meta.get("tally", {})
    position = Position(int(meta["epoch"]), int(meta.get("epoch_step", 0)), Tally(**tally))
    run.wall_offset = float(meta.get("wall_seconds", 0.0))
    if run.is_main:
      into = f", {position.epoch_step} steps into epoch {position.epoch + 1}"
      print(
        f"Resuming {run.workdir} from epoch {position.epoch} (step {int(host_state.step)})"
        f"{into if position.epoch_step else ''}.",
        flush=True,
      )
  run.log.resume(position.epoch)
  total = run.config.num_epochs * run.steps_per_epoch
  done = position.epoch * run.steps_per_epoch + position.epoch_step
  run.progress = progress_lib.Progress(total, done, enabled=run.is_main)
  return run.parallel.put_state(host_state), position


def epoch_batches(run: Run, epoch: int, start_step: int) -> Iterator[data_lib.Batch]:
  """The train batches of 0-based `epoch` from `start_step` on (what the train step eats).

  Two batches are placed on the devices ahead of the step (`Parallel.prefetch`); the order
  is the source's.
  """
  return run.parallel.prefetch(
    run.source.train_batches(
      epoch=epoch, global_batch_size=run.config.batch_size, start_step=start_step
    )
  )


def is_step_checkpoint(config: ml_collections.ConfigDict, global_step: int) -> bool:
  """Whether `checkpoint_every_steps` asks for a checkpoint after global step `global_step`."""
  every = config.checkpoint_every_steps
  return bool(every) and global_step % every == 0


def train_epoch(run: Run, state, epoch: int, position: Position):
  """Runs the train steps of 0-based `epoch`, from `position.epoch_step` on.

  Returns:
    `(state, metrics)`: metrics holds the epoch's mean `train_loss` and `train_accuracy`
    and its `images_per_sec` (from the second step on: compilation and warm-up excluded).

  Raises:
    stopping.Diverged: a non-finite train loss (no checkpoint is written after it).
    stopping.Interrupted: SIGTERM / SIGINT, after a checkpoint at the current step.
    stopping.ShortEpoch: the source ran out before `steps_per_epoch` batches.
  """
  hparams = mixing_hparams(run.config, epoch)
  tally, steps = position.tally, run.steps_per_epoch
  pending = None  # The last step, whose loss is checked after the next one is dispatched.
  timed_from, timed_steps, done = None, 0, position.epoch_step
  # Closed on every exit (a stop, an error): the prefetch thread must not outlive the loop,
  # or interpreter shutdown can abort while it is inside a device transfer.
  batches = epoch_batches(run, epoch, position.epoch_step)
  with contextlib.closing(batches):
    for epoch_step, batch in enumerate(batches, start=position.epoch_step):
      global_step = epoch * steps + epoch_step
      run.progress.before_step()
      state, metrics = run.parallel.train(state, batch, hparams)
      if pending is not None:
        tally.add(pending[1], epoch=epoch, epoch_step=pending[0], global_step=global_step - 1)
      pending = (epoch_step, metrics)
      if run.progress.after_step(metrics["loss"]) or timed_from is None:
        jax.block_until_ready(metrics)  # Compilation and warm-up excluded from the throughput.
        timed_from = time.time()
      else:
        timed_steps += 1
      done = epoch_step + 1
      if done == steps:
        break
      stop = run.stop.should_stop(global_step + 1)
      if stop or is_step_checkpoint(run.config, global_step + 1):
        tally.add(metrics, epoch=epoch, epoch_step=epoch_step, global_step=global_step)
        pending = None
        save_checkpoint(run, state, epoch=epoch, epoch_step=done, tally=tally)
        if stop:
          raise stopping.Interrupted(run.stop.signum, epoch + 1, global_step + 1, done)
  if pending is not None:  # Checked first: a non-finite last loss is a divergence.
    tally.add(
      pending[1], epoch=epoch, epoch_step=pending[0], global_step=epoch * steps + pending[0]
    )
  if done < steps:
    raise stopping.ShortEpoch(epoch + 1, position.epoch_step, done - position.epoch_step, steps)
  jax.block_until_ready(state)
  elapsed = time.time() - timed_from if timed_from is not None else 0.0
  return state, {
    "train_loss": tally.loss_sum / max(tally.count, 1),
    "train_accuracy": tally.accuracy_sum / max(tally.count, 1),
    "images_per_sec": timed_steps * run.config.batch_size / elapsed if timed_steps else 0.0,
  }


def evaluate(run: Run, state) -> dict[str, float]:
  """Mean loss (= NLL), accuracy and ECE (15 bins) on the whole test split, and its size."""
  sums = {}
  eval_batch_size = run.config.eval_batch_size or run.config.batch_size
  for batch in run.source.eval_batches(global_batch_size=eval_batch_size):
    for k, v in run.parallel.eval(state, batch).items():
      sums[k] = sums.get(k, 0.0) + v
  return {
    "test_loss": sums["loss"] / sums["count"],
    "test_accuracy": sums["correct"] / sums["count"],
    "test_count": int(sums["count"]),
    "test_nll": sums["loss"] / sums["count"],
    "test_ece": calibration.ece_from_sums(sums),
  }


def run_epoch(run: Run, state, epoch: int, position: Position) -> tuple[Any, dict[str, Any]]:
  """Trains (from `position`) and evaluates 0-based `epoch`; returns the state and its record."""
  epoch_start = time.time()
  state, train = train_epoch(run, state, epoch, position)
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


def format_record(record: dict[str, Any], num_epochs: int, eval_label: str = "test") -> str:
  """The one-line log of an epoch's record (`eval_label`: "test", or "held-out" in CV)."""
  return (
    f"epoch {record['epoch']:3d}/{num_epochs}  loss {record['train_loss']:.4f}  "
    f"{eval_label} loss {record['test_loss']:.4f}  "
    f"{eval_label} acc {100 * record['test_accuracy']:.2f}%  "
    f"{record['images_per_sec']:,.0f} img/s  lr {record['learning_rate']:.4g}"
    f"{'' if record['mixing'] else '  (no mixing)'}"
  )


def log_record(run: Run, record: dict[str, Any]) -> None:
  """Appends the record to metrics.jsonl and TensorBoard, and prints its line (process 0)."""
  run.log.write(record)
  line = format_record(record, run.config.num_epochs, run.eval_label)
  run.progress.print(line + run.progress.eta())


def is_checkpoint_epoch(config: ml_collections.ConfigDict, epoch: int) -> bool:
  """Whether 0-based `epoch` ends with a checkpoint: every checkpoint_every_epochs, and the last."""
  done = epoch + 1
  return done == config.num_epochs or done % config.checkpoint_every_epochs == 0


def save_checkpoint(
  run: Run, state, *, epoch: int, epoch_step: int = 0, tally: Tally | None = None
) -> None:
  """Saves the host copy of `state` with where the run stands.

  Args:
    run: the run.
    state: the device state.
    epoch: the epochs done (0-based epoch in progress when `epoch_step` > 0).
    epoch_step: the steps done in epoch `epoch` (0 at an epoch's end).
    tally: that epoch's metric sums (mid-epoch checkpoints).

  Raises:
    stopping.Diverged: the parameters are not finite (the last good checkpoint is kept).
  """
  host_state = run.parallel.get_state(state)
  step = int(host_state.step)
  if not all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(host_state.params)):
    where = (epoch + 1, epoch_step) if epoch_step else (epoch, run.steps_per_epoch)
    raise stopping.Diverged(
      f"the parameters are not finite at epoch {where[0]} step {where[1]} (global step "
      f"{step}): training diverged. The last good checkpoint is kept; lower "
      "config.learning_rate (or check the data) and use a new workdir."
    )
  meta = {
    "epoch": epoch,
    "step": step,
    "epoch_step": epoch_step,
    "wall_seconds": run.wall_seconds(),
  }
  if tally is not None:
    meta["tally"] = dataclasses.asdict(tally)
  run.checkpointer.save(step, host_state, meta)


def finish(run: Run, state) -> tuple[step_lib.TrainState, dict[str, Any]]:
  """Writes summary.json, prints the summary; returns the host state and the summary."""
  final_state = run.parallel.get_state(state)
  run.progress.close()
  summary = run.log.summary()
  summary["dataset"] = run.source.info.name
  summary["mix"] = run.config.mix
  run.log.plot()
  if run.is_main:
    reporting.write_json(os.path.join(run.workdir, "summary.json"), summary)
    for line in progress_lib.summary_lines(summary, run.workdir, eval_label=run.eval_label):
      print(line, flush=True)
  return final_state, summary


def train_epochs(run: Run, state, position: Position):
  """The epochs from `position` on: train, evaluate, log, checkpoint; stops on a signal."""
  config = run.config
  for epoch in range(position.epoch, config.num_epochs):
    state, record = run_epoch(run, state, epoch, position)
    position = Position(epoch + 1)
    log_record(run, record)
    stop = run.stop.should_stop(record["step"])
    if stop or is_checkpoint_epoch(config, epoch) or is_step_checkpoint(config, record["step"]):
      save_checkpoint(run, state, epoch=epoch + 1)
    if stop and epoch + 1 < config.num_epochs:
      raise stopping.Interrupted(run.stop.signum, epoch + 2, record["step"], 0)
  return state


def train(
  config: ml_collections.ConfigDict,
  workdir: str,
  *,
  source: data_lib.Source | None = None,
  eval_label: str = "test",
) -> tuple[step_lib.TrainState, dict[str, Any]]:
  """Like :func:`train_and_evaluate`, also returning this process's final host state.

  Args:
    config: the run's config.
    workdir: the run's directory.
    source: the data to train and evaluate on; defaults to :func:`load_source` (config).
      Cross-validation passes one fold's source here.
    eval_label: what the evaluated split is called in the printed lines.

  Raises:
    config.ConfigError: a bad config (before anything is written).
    workdir.WorkdirError: the workdir is unusable or in use by another process.
    stopping.Diverged: a non-finite loss; the last good checkpoint is kept.
    stopping.Interrupted: SIGTERM / SIGINT; a checkpoint at the current step is saved.
    stopping.ShortEpoch: the source yielded fewer than `steps_per_epoch` train batches.
    checkpoint.CheckpointError: a checkpoint could not be written.
  """
  run, host_state = setup(config, workdir, source=source, eval_label=eval_label)
  try:
    with run.stop:
      state, position = restore(run, host_state)
      del host_state
      state = train_epochs(run, state, position)
      return finish(run, state)
  finally:
    run.close()


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
