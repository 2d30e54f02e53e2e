"""The run config: its keys and defaults (`default_config`) and their validation.

Every bad value fails at start-up, by name.
"""

from __future__ import annotations

import difflib
import importlib.util
import math
import os
from typing import Any

import ml_collections

CHOICES = {
  "augment": ("none", "crop_flip"),
  "optimizer": ("sgd", "adam"),
  "mix": ("none", "mixup", "cutmix", "mixup_or_cutmix", "manifold_mixup"),
  "loss": ("softmax", "sigmoid"),
  "mix_mode": ("batch", "elem"),
  "mix_pairing": ("permute", "flip", "roll"),
  "parallel": ("pmap", "shard_map"),
}
POSITIVE_INTS = ("num_epochs", "batch_size", "checkpoint_every_epochs")
NON_NEGATIVE_INTS = (
  "mix_off_epochs",
  "seed",
  "eval_batch_size",
  "cv_folds",
  "image_size",
  "checkpoint_every_steps",
)
NON_NEGATIVE_FLOATS = ("learning_rate", "weight_decay", "mixup_alpha", "cutmix_alpha")
BOOLS = ("half_precision",)
UNIT_FLOATS = ("momentum", "switch_prob", "label_noise", "random_erasing", "gridmask")
# Model -> its number of manifold mixup boundaries (0 = the input, see models.py): the
# allowed config.manifold_layers are 0 to this number - 1.
MANIFOLD_LAYERS = {
  "small_cnn": 4,
  "mlp": 3,
  "preact_resnet18": 5,
  "wrn28_10": 4,
  "resnet50": 5,
  "mnist1d_cnn": 4,
  "cnn1d": 4,  # 1 + stages (3 by default).
}
# The largest finite float32: the step computes in float32, so a larger α or learning rate
# (1e39) would be inf there and turn every pixel and label into NaN.
FLOAT32_MAX = 3.4028234663852886e38
# Datasets whose inputs are the user's own files: `data_dir` names them (required).
FILE_DATASETS = ("folder", "npz")


def default_config() -> ml_collections.ConfigDict:
  """Every key a run understands, with its default (`configs/*.py` start from here)."""
  config = ml_collections.ConfigDict()
  # --- data ---
  config.dataset = (
    "digits"  # digits/iris/wine/breast_cancer (offline), "folder" or a tfds name (cifar10, ...).
  )
  config.data_dir = ""  # tfds data_dir ("" = tfds default); "folder": the folder; "npz": the file.
  config.test_fraction = 0.0  # Held-out fraction without a test split (by seed); 0 = default.
  config.image_size = 0  # dataset="folder" only: side of the resized square images; 0 = 32.
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
  config.mix = "mixup"  # "none" | "mixup" | "cutmix" | "mixup_or_cutmix" | "manifold_mixup".
  config.mixup_alpha = 1.0  # Beta(α, α) for mixup's λ.
  config.cutmix_alpha = 1.0  # Beta(α, α) for CutMix's kept area.
  config.switch_prob = 0.5  # P(CutMix) in mixup_or_cutmix.
  config.mix_mode = "batch"  # "batch" (one λ per device batch) | "elem" (one λ per example).
  config.mix_pairing = "permute"  # "permute" (random) | "flip" (i with B-1-i) | "roll" (i-1).
  config.mix_off_epochs = 0  # Train the last N epochs without mixing.
  config.label_smoothing = 0.0  # One-hot smoothing before mixing.
  config.random_erasing = 0.0  # Probability of random erasing per example (0 = off).
  config.gridmask = 0.0  # Probability of GridMask per example (0 = off).
  config.manifold_layers = (0, 1, 2)  # manifold_mixup: layers drawn from (0 = input), as the paper.
  # --- loss ---
  config.loss = "softmax"  # "softmax" cross-entropy | "sigmoid" (BCE per class, timm's recipe).
  config.bce_target_thresh = 0.0  # loss=sigmoid: mixed targets > this become 1, others 0 (0 = off).
  # --- run ---
  config.parallel = "pmap"  # "pmap" (default) | "shard_map" (1-D mesh over all devices).
  config.seed = 0  # Seeds init, data order and mixing, and the data unless data_seed is set.
  config.data_seed = -1  # Seeds the split and label noise (-1: seed).
  config.checkpoint_every_epochs = 1  # Checkpoint period in epochs (and at the end).
  config.checkpoint_every_steps = 0  # Also checkpoint every N train steps, mid-epoch (0 = off).
  config.eval_batch_size = 0  # Global eval batch (0 = batch_size).
  config.cv_folds = 0  # k-fold cross-validation on the training split (0 = off).
  return config


def data_seed(config: ml_collections.ConfigDict) -> int:
  """The seed of the split, the label noise and the cross-validation folds of `config`."""
  seed = config.get("data_seed", -1)
  return config.seed if seed < 0 else seed


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
NON_SEMANTIC_KEYS = frozenset({"checkpoint_every_epochs", "checkpoint_every_steps", "data_dir"})


class ConfigError(ValueError):
  """A bad config: its message is the one line the entry points print (`error: ...`).

  Attributes:
    key: the config key at fault (without the `config.` prefix), or None.
  """

  def __init__(self, message: str, key: str | None = None):
    super().__init__(message)
    self.key = key


def _fail(key: str, value: Any, expected: str) -> None:
  raise ConfigError(f"config.{key} must be {expected}, got {value!r}.", key)


def unknown_key_message(key: str, known: Any) -> str:
  """`config.KEY is not a config key`, with the closest known keys."""
  close = difflib.get_close_matches(key, sorted(known), n=3, cutoff=0.6)
  hint = f"; did you mean {', '.join('config.' + k for k in close)}?" if close else "."
  return f"config.{key} is not a config key (see mixjax.training.config.default_config){hint}"


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
  _check_manifold_and_loss(config)
  _check_names(config)


def _check_keys(config: ml_collections.ConfigDict) -> None:
  known = set(default_config().keys())
  unknown = sorted(set(config.keys()) - known)
  if unknown:
    raise ConfigError(unknown_key_message(unknown[0], known), unknown[0])
  missing = sorted(known - set(config.keys()))
  if missing:
    raise ConfigError(
      f"config is missing {missing}; derive configs from mixjax.training.config.default_config.",
      missing[0],
    )


def _is_number(value: Any) -> bool:
  """A real Python number (bools are not), finite in float32."""
  return (
    isinstance(value, int | float)
    and not isinstance(value, bool)
    and math.isfinite(value)
    and abs(value) <= FLOAT32_MAX
  )


def _check_kinds(config: ml_collections.ConfigDict) -> None:
  """The keys of CHOICES and of the int and float families."""
  for key, choices in CHOICES.items():
    if key in config and config[key] not in choices:
      _fail(key, config[key], f"one of {choices}")
  for key in POSITIVE_INTS:
    if key in config and (not _is_int(config[key]) or config[key] < 1):
      _fail(key, config[key], "a positive int")
  for key in NON_NEGATIVE_INTS:
    if key in config and (not _is_int(config[key]) or config[key] < 0):
      _fail(key, config[key], "an int >= 0")
  for key in NON_NEGATIVE_FLOATS:
    if key in config and (not _is_number(config[key]) or config[key] < 0):
      _fail(key, config[key], f"a number >= 0, finite in float32 (at most {FLOAT32_MAX:.4g})")
  for key in UNIT_FLOATS + ("label_smoothing", "dropout_rate", "lr_decay", "test_fraction"):
    if key in config and not _is_number(config[key]):
      _fail(key, config[key], "a finite number")
  for key in UNIT_FLOATS:
    if key in config and not 0.0 <= config[key] <= 1.0:
      _fail(key, config[key], "a number in [0, 1]")
  for key in BOOLS:
    if key in config and not isinstance(config[key], bool):
      _fail(key, config[key], "True or False")


def _is_int(value: Any) -> bool:
  return isinstance(value, int) and not isinstance(value, bool)


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
    increasing = all(a < b for a, b in zip(milestones, milestones[1:], strict=False))
    if any(not _is_int(m) or m < 1 for m in milestones) or not increasing:
      _fail("lr_milestones", config.lr_milestones, "strictly increasing positive epoch numbers")
  if "mix_off_epochs" in config and config.mix_off_epochs > config.num_epochs:
    _fail("mix_off_epochs", config.mix_off_epochs, f"at most num_epochs ({config.num_epochs})")
  if "data_seed" in config and (not _is_int(config.data_seed) or config.data_seed < -1):
    _fail("data_seed", config.data_seed, "an int >= 0, or -1 (the data follow seed)")
  if config.get("cv_folds", 0) == 1:
    _fail("cv_folds", 1, "0 (off) or at least 2")


def _check_manifold_and_loss(config: ml_collections.ConfigDict) -> None:
  """manifold_layers (against the model's boundaries), loss and bce_target_thresh."""
  if "manifold_layers" in config:
    layers = config.manifold_layers
    valid = isinstance(layers, tuple | list) and len(layers) > 0
    valid = valid and all(type(k) is int and k >= 0 for k in layers)
    if not valid or len(set(layers)) != len(layers):
      _fail("manifold_layers", layers, "a non-empty tuple of distinct layer numbers >= 0")
    count = MANIFOLD_LAYERS.get(config.get("model"))
    if config.get("mix") == "manifold_mixup" and count is not None and max(layers) >= count:
      _fail("manifold_layers", layers, f"layers in [0, {count - 1}] for model {config.model!r}")
  threshold = config.get("bce_target_thresh", 0.0)
  if not isinstance(threshold, int | float) or not 0.0 <= threshold < 1.0:
    _fail("bce_target_thresh", threshold, "a number in [0, 1) (0 = off)")
  if threshold > 0 and config.get("loss") != "sigmoid":
    _fail("bce_target_thresh", threshold, "0 unless config.loss is 'sigmoid'")


def _check_names(config: ml_collections.ConfigDict) -> None:
  """The model name, and the options that only some datasets take."""
  from mixjax.training import models  # Flax: only when a run is validated.

  if "model" in config and config.model not in models.INPUT_RANKS:
    _fail("model", config.model, f"one of {sorted(models.INPUT_RANKS)}")
  dataset = config.get("dataset")
  if not isinstance(dataset, str) or not dataset:
    _fail("dataset", dataset, "a dataset name")
  if config.get("image_size", 0) and dataset != "folder":
    _fail("image_size", config.image_size, "0 unless config.dataset='folder'")
  if dataset in FILE_DATASETS and not config.get("data_dir"):
    _fail("data_dir", config.get("data_dir"), f"the path of the {dataset} data (dataset={dataset})")


def _check_spatial_size(
  config: ml_collections.ConfigDict, input_shape: tuple[int, ...], smallest: int
) -> None:
  """Refuses inputs whose spatial axes (all but the channels; `[L]` signals: L) are too short."""
  spatial = tuple(input_shape[:-1]) if len(input_shape) > 1 else tuple(input_shape)
  if spatial and min(spatial) < smallest:
    raise ConfigError(
      f"config.model={config.model!r} takes inputs of at least {smallest} along each spatial "
      f"axis, but dataset {config.dataset!r} has inputs of shape {tuple(input_shape)}: use "
      "larger inputs (config.image_size for a folder) or another model.",
      "model",
    )


def check_model_input(config: ml_collections.ConfigDict, input_shape: tuple[int, ...]) -> None:
  """Refuses a model that cannot take the dataset's inputs (e.g. a CNN on a table).

  Args:
    config: the run's config.
    input_shape: the shape of one example of its dataset.

  Raises:
    ConfigError: naming config.model, the input shape and the models that fit.
  """
  from mixjax.training import models

  ranks = models.INPUT_RANKS
  rank = len(input_shape)
  if ranks[config.model] is None or rank in ranks[config.model]:
    _check_spatial_size(config, input_shape, models.MIN_SPATIAL.get(config.model, 1))
    return
  fit = sorted(name for name, accepted in ranks.items() if accepted is None or rank in accepted)
  raise ConfigError(
    f"config.model={config.model!r} takes examples of rank "
    f"{' or '.join(map(str, ranks[config.model]))} ([H, W, C] images are rank 3), but "
    f"dataset {config.dataset!r} has inputs of shape {tuple(input_shape)}: "
    f"use {' or '.join('--config.model=' + name for name in fit)}.",
    "model",
  )
