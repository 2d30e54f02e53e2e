"""The run config: its keys and defaults (`default_config`) and their validation.

Every bad value fails at start-up, by name.
"""

from __future__ import annotations

import importlib.util
import math
import os
from typing import Any

import ml_collections

CHOICES = {
  "augment": ("none", "crop_flip"),
  "optimizer": ("sgd", "adam"),
  "mix": ("none", "mixup", "cutmix", "mixup_or_cutmix"),
  "mix_mode": ("batch", "elem"),
  "mix_pairing": ("permute", "flip"),
  "parallel": ("pmap", "shard_map"),
}
POSITIVE_INTS = ("num_epochs", "batch_size", "checkpoint_every_epochs")
NON_NEGATIVE_INTS = ("mix_off_epochs", "seed", "eval_batch_size", "cv_folds", "image_size")
NON_NEGATIVE_FLOATS = ("learning_rate", "weight_decay", "mixup_alpha", "cutmix_alpha")
UNIT_FLOATS = ("momentum", "switch_prob", "label_noise", "random_erasing", "gridmask")


def default_config() -> ml_collections.ConfigDict:
  """Every key a run understands, with its default (`configs/*.py` start from here)."""
  config = ml_collections.ConfigDict()
  # --- data ---
  config.dataset = (
    "digits"  # digits/iris/wine/breast_cancer (offline), "folder" or a tfds name (cifar10, ...).
  )
  config.data_dir = ""  # tfds data_dir ("" = tfds default); for "folder", the image folder.
  config.test_fraction = 0.0  # Held-out fraction without a test split (by seed); 0 = default.
  config.image_size = 0  # dataset="folder": side of the resized square images; 0 = 32.
  config.label_noise = 0.0  # Fraction of training labels replaced by uniform random classes.
  config.augment = "none"  # "none" | "crop_flip" (pad-4 random crop + horizontal flip, in-graph).
  # --- model ---
  config.model = "small_cnn"  # small_cnn | mlp | preact_resnet18 | wrn28_10 | resnet50.
  config.dropout_rate = 0.0  # Dropout before the classifier (0 = off).
  config.half_precision = False  # bfloat16 compute (params and loss stay float32).
  # --- optimisation ---
  config.num_epochs = 30  # Training epochs.
  config.batch_size = 64  # Global batch size, split over all devices of all processes.
  config.optimizer = "sgd"  # "sgd" (momentum) | "adam".
  config.learning_rate = 0.05  # Initial learning rate.
  config.momentum = 0.9  # SGD momentum.
  config.weight_decay = 1e-4  # L2 weight decay through optax.add_decayed_weights.
  config.lr_milestones = (20,)  # Epochs at which the learning rate is multiplied by lr_decay.
  config.lr_decay = 0.1  # Factor applied at each milestone.
  # --- mixing (in the compiled step) ---
  config.mix = "mixup"  # "none" | "mixup" | "cutmix" | "mixup_or_cutmix".
  config.mixup_alpha = 1.0  # Beta(α, α) for mixup's λ.
  config.cutmix_alpha = 1.0  # Beta(α, α) for CutMix's kept area.
  config.switch_prob = 0.5  # P(CutMix) in mixup_or_cutmix.
  config.mix_mode = "batch"  # "batch" (one λ per device batch) | "elem" (one λ per example).
  config.mix_pairing = "permute"  # "permute" (random partner) | "flip" (reversed batch).
  config.mix_off_epochs = 0  # Train the last N epochs without mixing.
  config.label_smoothing = 0.0  # One-hot smoothing before mixing.
  config.random_erasing = 0.0  # Probability of random erasing per example (0 = off).
  config.gridmask = 0.0  # Probability of GridMask per example (0 = off).
  # --- run ---
  config.parallel = "pmap"  # "pmap" (default) | "shard_map" (1-D mesh over all devices).
  config.seed = 0  # Seeds the split, label noise, init, data order and mixing.
  config.checkpoint_every_epochs = 1  # Checkpoint period in epochs (and at the end).
  config.eval_batch_size = 0  # Global eval batch (0 = batch_size).
  config.cv_folds = 0  # k-fold cross-validation on the training split (0 = off).
  return config


def load_config_file(path: str) -> ml_collections.ConfigDict:
  """The `get_config()` of the config file at `path`, as `--config PATH` loads it.

  For config files that derive from another one (configs/cifar100.py from cifar10.py) and
  for tests: the file is loaded by its path, so it works from any working directory.

  Args:
    path: a Python file defining `get_config()`.

  Returns:
    The config it returns.
  """
  name = "_mixjax_config_" + os.path.splitext(os.path.basename(path))[0]
  spec = importlib.util.spec_from_file_location(name, path)
  if spec is None or not os.path.isfile(path):
    raise FileNotFoundError(f"config file {path!r} does not exist.")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


# Keys that do not change what a run computes: a resumed run may change them.
NON_SEMANTIC_KEYS = frozenset({"checkpoint_every_epochs", "data_dir"})


def _fail(key: str, value: Any, expected: str) -> None:
  raise ValueError(f"config.{key} must be {expected}, got {value!r}.")


def validate(config: ml_collections.ConfigDict) -> None:
  """Checks that `config` has exactly the keys of :func:`default_config`, with valid values.

  Args:
    config: the run's config.

  Raises:
    ValueError: naming the first unknown, missing or bad key, its value and what was
      expected.
  """
  _check_keys(config)
  _check_kinds(config)
  _check_ranges(config)


def _check_keys(config: ml_collections.ConfigDict) -> None:
  known = set(default_config().keys())
  unknown = sorted(set(config.keys()) - known)
  if unknown:
    raise ValueError(f"Unknown config keys {unknown}; known keys: {sorted(known)}.")
  missing = sorted(known - set(config.keys()))
  if missing:
    raise ValueError(
      f"config is missing {missing}; derive configs from mixjax.training.config.default_config."
    )


def _check_kinds(config: ml_collections.ConfigDict) -> None:
  """The keys of CHOICES and of the int and float families."""
  for key, choices in CHOICES.items():
    if key in config and config[key] not in choices:
      _fail(key, config[key], f"one of {choices}")
  for key in POSITIVE_INTS:
    if key in config and (not isinstance(config[key], int) or config[key] < 1):
      _fail(key, config[key], "a positive int")
  for key in NON_NEGATIVE_INTS:
    if key in config and (not isinstance(config[key], int) or config[key] < 0):
      _fail(key, config[key], "an int >= 0")
  for key in NON_NEGATIVE_FLOATS:
    if key in config:
      value = config[key]
      if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        _fail(key, value, "a finite number >= 0")
  for key in UNIT_FLOATS:
    if key in config:
      value = config[key]
      if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        _fail(key, value, "a number in [0, 1]")


def _check_ranges(config: ml_collections.ConfigDict) -> None:
  """The keys with a range of their own, and those bound to another key."""
  if "label_smoothing" in config and not 0.0 <= config.label_smoothing < 1.0:
    _fail("label_smoothing", config.label_smoothing, "a number in [0, 1)")
  if "dropout_rate" in config and not 0.0 <= config.dropout_rate < 1.0:
    _fail("dropout_rate", config.dropout_rate, "a number in [0, 1)")
  if "lr_decay" in config and not 0.0 < config.lr_decay <= 1.0:
    _fail("lr_decay", config.lr_decay, "a number in (0, 1]")
  if "test_fraction" in config and not 0.0 <= config.test_fraction < 1.0:
    _fail("test_fraction", config.test_fraction, "a number in [0, 1) (0 = the dataset's default)")
  if "lr_milestones" in config:
    milestones = tuple(config.lr_milestones)
    if any(not isinstance(m, int) or m < 1 for m in milestones) or list(milestones) != sorted(
      milestones
    ):
      _fail("lr_milestones", config.lr_milestones, "increasing positive epoch numbers")
  if "mix_off_epochs" in config and config.mix_off_epochs > config.num_epochs:
    _fail("mix_off_epochs", config.mix_off_epochs, f"at most num_epochs ({config.num_epochs})")
  if config.get("cv_folds", 0) == 1:
    _fail("cv_folds", 1, "0 (off) or at least 2")
