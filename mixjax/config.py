"""Validation of a run's config: every bad value fails at start-up, by name."""

from __future__ import annotations

import math
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
# Keys that do not change what a run computes: a resumed run may change them.
NON_SEMANTIC_KEYS = frozenset({"checkpoint_every_epochs", "data_dir"})


def _fail(key: str, value: Any, expected: str) -> None:
  raise ValueError(f"config.{key} must be {expected}, got {value!r}.")


def validate(config: ml_collections.ConfigDict, required: tuple[str, ...] = ()) -> None:
  """Checks every known key of `config`.

  Args:
    config: the run's config (see configs/default.py for the keys).
    required: keys that must be present (defaults to all of configs/default.py's).

  Raises:
    ValueError: naming the first bad key, its value and what was expected.
  """
  for key in required:
    if key not in config:
      raise ValueError(f"config.{key} is missing; derive configs from configs/default.py.")
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
