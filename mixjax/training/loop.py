"""`train_and_evaluate(config, workdir)`: the training loop behind train.py."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

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


def step_config(config, num_classes: int) -> step_lib.StepConfig:
  return step_lib.StepConfig(
    num_classes=num_classes,
    mix=config.mix,
    switch_prob=float(config.switch_prob),
    mix_mode=config.mix_mode,
    mix_pairing=config.mix_pairing,
    label_smoothing=float(config.label_smoothing),
    augment=config.augment,
    random_erasing=float(config.random_erasing),
    gridmask=float(config.gridmask),
  )


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


def _progress(iterable, total: int, desc: str):
  """A tqdm bar on a terminal; nothing (plain per-epoch log lines instead) otherwise."""
  if not sys.stderr.isatty() or jax.process_index() != 0:
    return iterable, None
  from tqdm import tqdm

  bar = tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)
  return bar, bar


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict[str, Any]:
  """Trains and evaluates a model; resumes from `workdir` when it holds a checkpoint.

  Args:
    config: the run's config (see configs/default.py for every key).
    workdir: where checkpoints, metrics, plots and the summary go.

  Returns:
    The summary (also written to `workdir/summary.json`).
  """
  return train(config, workdir)[1]


def load_source(config: ml_collections.ConfigDict) -> data_lib.Source:
  """This process's data source for `config` (dataset, seed, label noise, split)."""
  return data_lib.load_source(
    config.dataset,
    seed=config.seed,
    label_noise=config.label_noise,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
    data_dir=config.data_dir or None,
    test_fraction=config.test_fraction or None,
  )


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
  config_lib.validate(config)
  os.makedirs(workdir, exist_ok=True)
  check_workdir_config(config, workdir)
  is_main = jax.process_index() == 0
  start_time = time.time()

  source = load_source(config) if source is None else source
  info = source.info
  if config.mix in ("cutmix", "mixup_or_cutmix") and len(info.input_shape) != 3:
    raise ValueError(
      f"config.mix={config.mix!r} needs images [H, W, C]; dataset {info.name!r} has inputs "
      f"of shape {info.input_shape}. Use mix='mixup' or 'none'."
    )
  if is_main and getattr(source, "class_names", None):
    reporting.write_json(os.path.join(workdir, "class_names.json"), list(source.class_names))
  if is_main and config.label_noise > 0:
    np.save(os.path.join(workdir, "corrupted_indices.npy"), source.corrupted_indices)

  parallel = parallel_lib.Parallel(config.parallel, step_config(config, info.num_classes))
  parallel.check_batch_size(config.batch_size)
  eval_batch_size = config.eval_batch_size or config.batch_size
  parallel.check_batch_size(eval_batch_size)
  steps_per_epoch = source.steps_per_epoch(config.batch_size)
  tx, schedule = make_optimizer(config, steps_per_epoch)
  dtype = jnp.bfloat16 if config.half_precision else jnp.float32
  model = models.create_model(
    config.model, num_classes=info.num_classes, dropout_rate=config.dropout_rate, dtype=dtype
  )
  host_state = create_state(config, model, tx, info.input_shape)

  checkpointer = checkpoint_lib.Checkpointer(workdir)
  log = reporting.MetricsLog(workdir, enabled=is_main)
  start_epoch, wall_before = 0, 0.0
  restored = checkpointer.restore_latest(host_state)
  if restored is not None:
    host_state, meta = restored
    start_epoch = int(meta["epoch"])
    wall_before = float(meta.get("wall_seconds", 0.0))
    if is_main:
      print(f"Resuming {workdir} from epoch {start_epoch} (step {int(host_state.step)}).")
  log.resume(start_epoch)
  state = parallel.put_state(host_state)
  del host_state

  for epoch in range(start_epoch, config.num_epochs):
    mixing = config.mix != "none" and epoch < config.num_epochs - config.mix_off_epochs
    hparams = {
      "mixup_alpha": config.mixup_alpha if mixing else 0.0,
      "cutmix_alpha": config.cutmix_alpha if mixing else 0.0,
    }
    batches = source.train_batches(epoch=epoch, global_batch_size=config.batch_size)
    batches, bar = _progress(batches, steps_per_epoch, f"epoch {epoch + 1}/{config.num_epochs}")
    step_metrics = []
    epoch_start = time.time()
    timed_from, timed_steps = None, 0
    for i, batch in enumerate(batches):
      state, metrics = parallel.train(state, batch, hparams)
      step_metrics.append(metrics)
      if i == 0:  # Exclude compilation and warm-up from the throughput.
        jax.block_until_ready(metrics)
        timed_from = time.time()
      else:
        timed_steps += 1
      if bar is not None and i % 10 == 0:
        bar.set_postfix(loss=f"{float(metrics['loss']):.3f}")
    jax.block_until_ready(state)
    train_seconds = time.time() - epoch_start
    if timed_steps:
      images_per_sec = timed_steps * config.batch_size / (time.time() - timed_from)
    else:
      images_per_sec = steps_per_epoch * config.batch_size / train_seconds

    sums = {"loss": 0.0, "correct": 0.0, "count": 0.0}
    for batch in source.eval_batches(global_batch_size=eval_batch_size):
      for k, v in parallel.eval(state, batch).items():
        sums[k] += v
    step = (epoch + 1) * steps_per_epoch
    record = {
      "epoch": epoch + 1,
      "step": step,
      "train_loss": float(np.mean([float(m["loss"]) for m in step_metrics])),
      "train_accuracy": float(np.mean([float(m["accuracy"]) for m in step_metrics])),
      "test_loss": sums["loss"] / sums["count"],
      "test_accuracy": sums["correct"] / sums["count"],
      "test_count": int(sums["count"]),
      "learning_rate": float(schedule(step - 1)),
      "images_per_sec": images_per_sec,
      "mixing": bool(mixing),
      "epoch_seconds": time.time() - epoch_start,
      "wall_seconds": wall_before + time.time() - start_time,
    }
    log.write(record)
    if is_main:
      print(
        f"epoch {record['epoch']:3d}/{config.num_epochs}  loss {record['train_loss']:.4f}  "
        f"test loss {record['test_loss']:.4f}  test acc {100 * record['test_accuracy']:.2f}%  "
        f"{images_per_sec:,.0f} img/s  lr {record['learning_rate']:.4g}"
        f"{'' if mixing else '  (no mixing)'}",
        flush=True,
      )
    last = epoch + 1 == config.num_epochs
    if last or (epoch + 1) % config.checkpoint_every_epochs == 0:
      host = parallel.get_state(state)
      meta = {
        "epoch": epoch + 1,
        "step": step,
        "wall_seconds": record["wall_seconds"],
      }
      checkpointer.save(step, host, meta)

  final_state = parallel.get_state(state)
  checkpointer.close()
  summary = log.summary()
  summary["dataset"] = info.name
  summary["mix"] = config.mix
  log.close()
  if is_main:
    reporting.write_json(os.path.join(workdir, "summary.json"), summary)
  return final_state, summary


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
