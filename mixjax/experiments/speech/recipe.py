"""The speech recipe: mixup on Speech Commands log-mel spectrograms, and its per-run configs.

tfds `speech_commands` (12 classes: ten words, silence, unknown), each clip a 1 s log-mel
spectrogram of shape [98, 40, 1] (25 ms frames every 10 ms, 40 mel bins; see
:mod:`mixjax.data.speech`), trained with SmallCNN, the package's small image CNN (the
paper's speech models are not in mixjax). Adam at 3e-3, divided by 10 after epochs 10 and
20, 30 epochs, mixup α = 0.1 (a small α, as commonly used for this task; not tuned here).
Mixing is on from the first step.

:func:`get_config` is the recipe (configs/speech_commands.py returns it);
:func:`make_config` derives one run of the speech experiment from it.
"""

from __future__ import annotations

from collections.abc import Sequence

import ml_collections

from mixjax import _checks
from mixjax.experiments import runs
from mixjax.training import models
from mixjax.training.config import default_config

# --quick: examples of each split, epochs and global batch size.
QUICK_TRAIN, QUICK_TEST, QUICK_EPOCHS, QUICK_BATCH = 256, 128, 1, 16


def get_config() -> ml_collections.ConfigDict:
  """The speech_commands recipe, from the package's default config."""
  config = default_config()
  config.dataset = "speech_commands"  # tfds speech_commands as [98, 40, 1] log-mels.
  config.model = "small_cnn"  # 3 conv layers, global average pooling, ~24k parameters.
  config.num_epochs = 30  # Epochs over the ~85k training clips.
  config.batch_size = 128  # Global batch; divisible by 1, 2, 4 and 8 devices.
  config.optimizer = "adam"  # Adam.
  config.learning_rate = 3e-3  # Initial learning rate.
  config.lr_milestones = (10, 20)  # Divide the learning rate by 10 after these epochs.
  config.lr_decay = 0.1  # Factor applied at each milestone.
  config.weight_decay = 0.0  # No L2 penalty with Adam here.
  config.mix = "mixup"  # Mixing of the spectrograms in the compiled step.
  config.mixup_alpha = 0.1  # Beta(α, α) for λ.
  config.eval_batch_size = 512  # The test split (~4.9k clips) in few batches.
  config.checkpoint_every_epochs = 1  # Epochs are long: checkpoint every one.
  return config


def method_name(alpha: float | None) -> str:
  """`erm` for None, else `mixup<α>` (e.g. `mixup0.1`): the runs' directory prefixes."""
  return "erm" if alpha is None else f"mixup{alpha:g}"


def method(alpha: float | None) -> runs.Method:
  """ERM for None, else mixup at `alpha`: the label and config keys of a speech method."""
  return runs.erm() if alpha is None else runs.mixup(alpha)


def method_label(alpha: float | None) -> str:
  """`ERM` for None, else `mixup (α=<α>)`: the methods' names in tables and plots."""
  return method(alpha).label


def _milestones(milestones: Sequence[int], base_epochs: int, epochs: int) -> tuple[int, ...]:
  """The config's milestones scaled from `base_epochs` to `epochs` (those before the end)."""
  scaled = {max(1, round(m * epochs / base_epochs)) for m in milestones}
  return tuple(sorted(m for m in scaled if m < epochs))


def make_config(
  alpha: float | None,
  *,
  seed: int,
  data_dir: str | None,
  epochs: int | None,
  quick: bool,
  model: str | None = None,
) -> ml_collections.ConfigDict:
  """The recipe (:func:`get_config`) for one run: ERM (`alpha=None`) or mixup at `alpha`.

  Args:
    alpha: mixup's α, or None for ERM.
    seed: the run's seed.
    data_dir: the tfds data directory, or None for tfds's default.
    epochs: training epochs; None keeps the recipe's (1 when `quick`). The learning
      rate milestones are scaled in proportion.
    quick: a tiny run (1 epoch, batch 16).
    model: a :data:`mixjax.training.models.MODELS` name; None keeps the recipe's small_cnn.

  Returns:
    The run's config.
  """
  config = get_config()
  if epochs is None and quick:
    epochs = QUICK_EPOCHS
  if epochs is not None:
    epochs = _checks.check_positive_int(epochs, "epochs")
    config.lr_milestones = _milestones(config.lr_milestones, config.num_epochs, epochs)
    config.num_epochs = epochs
  if quick:
    config.batch_size = config.eval_batch_size = QUICK_BATCH
  config.update(method(alpha).overrides)
  if model is not None:
    _checks.check_choice(model, "model", tuple(sorted(models.MODELS)))
    config.model = model
  config.seed = int(seed)
  config.data_dir = data_dir or ""
  config.checkpoint_every_epochs = min(config.checkpoint_every_epochs, config.num_epochs)
  return config
