"""The training recipe of each dataset the MNIST-1D experiments compare methods on.

`generalization`, `calibration` and `corrupted_labels --dataset mnist1d` share these, so a
number in one table is comparable with the others.

* `mnist1d`, `mnist1d_shuffle`: the benchmark's CNN (`mnist1d_cnn`), Adam at 0.01 (the
  benchmark's training script), batch 128 (the script's 100 does not split over 8
  devices), no weight decay; 30 epochs, lr ÷10 after
  epochs 20 and 26 (configs/mnist1d.py).
* `digits`: the small CNN of configs/digits.py (SGD 0.05, momentum 0.9, weight decay
  5e-4, batch 64, 30 epochs, lr ÷10 after 20 and 26).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mixjax.experiments import runs

_MNIST1D = runs.Recipe(
  dataset="mnist1d",
  model="mnist1d_cnn",
  epochs=30,
  milestones=(20, 26),
  batch_size=128,
  learning_rate=0.01,
)
_ADAM = {"optimizer": "adam", "weight_decay": 0.0}


@dataclasses.dataclass(frozen=True)
class DatasetRecipe:
  """A :class:`runs.Recipe` plus the config keys it does not cover."""

  recipe: runs.Recipe
  extra: dict[str, Any] = dataclasses.field(default_factory=dict)

  def config(self, **overrides: Any):
    """The run config: the recipe, its extra keys, then `overrides` (a method's, a seed)."""
    return self.recipe.config(**{**self.extra, **overrides})

  def replace(self, experiment: str, **options: Any) -> DatasetRecipe:
    """This recipe with :class:`runs.Recipe` fields replaced (`experiment` names errors)."""
    return DatasetRecipe(self.recipe.replace(experiment, **options), dict(self.extra))

  def quick(self, epochs: int) -> DatasetRecipe:
    """The same recipe for `epochs` epochs (no lr decay), for the `--quick` forms."""
    return self.replace("recipes", epochs=epochs, milestones=())

  def describe(self) -> str:
    """The recipe's one-line description, with its optimizer."""
    optimizer = self.extra.get("optimizer", "sgd")
    return f"{self.recipe.describe()}, {optimizer}"


MNIST1D = ("mnist1d", "mnist1d_shuffle")
RECIPES = {
  "mnist1d": DatasetRecipe(_MNIST1D, _ADAM),
  "mnist1d_shuffle": DatasetRecipe(dataclasses.replace(_MNIST1D, dataset="mnist1d_shuffle"), _ADAM),
  "digits": DatasetRecipe(
    runs.Recipe(milestones=(20, 26), learning_rate=0.05), {"weight_decay": 5e-4}
  ),
}


def label_smoothing(value: float) -> runs.Method:
  """ERM on targets smoothed by `value`."""
  return runs.Method(f"label smoothing {value:g}", {"mix": "none", "label_smoothing": value})


def mixup_smoothed(alpha: float, value: float) -> runs.Method:
  """mixup (α) on targets smoothed by `value` before mixing."""
  method = runs.mixup(alpha)
  return runs.Method(
    f"{method.label} + label smoothing {value:g}", {**method.overrides, "label_smoothing": value}
  )


def get(dataset: str) -> DatasetRecipe:
  """The recipe of `dataset`, one of :data:`RECIPES`."""
  if dataset not in RECIPES:
    raise ValueError(f"`dataset` must be one of {sorted(RECIPES)}, got {dataset!r}.")
  return RECIPES[dataset]
