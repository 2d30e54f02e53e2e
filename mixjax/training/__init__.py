"""The training harness: config, models, the per-device step, its drivers and the loop.

Needs the `train` extra (`pip install 'mixjax[train]'`); `import mixjax` alone does not
load any of it. The names below are imported on first use, so `mixjax.training.config`
(what `configs/*.py` read) does not pull in orbax or the models.

Modules:
  config: the run config's keys, defaults and validation.
  models: Flax linen models (PreAct ResNet-18, WRN-28-10, ResNet-50, small CNN, MLP, and
    the 1-D MNIST-1D CNN and CNN1D for sequences).
  step: the per-device train and eval steps (`prepare_inputs`, `train_step`, `eval_step`).
  parallel: `Parallel`, the pmap / shard_map driver of the steps.
  loop: `train_and_evaluate(config, workdir)`, the loop behind train.py, as short
    functions (setup, restore, train_epoch, evaluate, log_record, save_checkpoint, finish).
  calibration: ECE (15 bins), NLL and temperature scaling.
  checkpoint, reporting, distributed: checkpoints, workdir outputs, multi-process start.
  workdir, stopping, progress: the workdir lock, SIGTERM / SIGINT and the non-finite loss
    guard, the progress bar and the end-of-run summary.
  compare, cross_validation: several settings side by side; k-fold cross-validation.
  cli: the flags the entry points share (train.py, `python -m` compare / cross_validation),
    defined only when one of them runs (importing the harness registers no flag), and their
    one-line errors.
"""

from __future__ import annotations

import importlib
from typing import Any

from mixjax import _extras

_extras.require(
  "train", "mixjax.training", "flax", "optax", "orbax", "ml_collections", "absl", "matplotlib"
)

# Public name -> the module that defines it.
_EXPORTS = {
  "Checkpointer": "checkpoint",
  "Parallel": "parallel",
  "StepConfig": "step",
  "TrainState": "step",
  "create_model": "models",
  "cross_validate": "cross_validation",
  "default_config": "config",
  "eval_step": "step",
  "predict": "loop",
  "prepare_inputs": "step",
  "train": "loop",
  "train_and_evaluate": "loop",
  "train_step": "step",
}


def __getattr__(name: str) -> Any:
  if name not in _EXPORTS:
    raise AttributeError(f"module 'mixjax.training' has no attribute {name!r}")
  module = importlib.import_module(f"mixjax.training.{_EXPORTS[name]}")
  return getattr(module, name)


__all__ = tuple(sorted(_EXPORTS))
