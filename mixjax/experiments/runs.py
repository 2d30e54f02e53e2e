"""Training runs for the experiments: one config per run, skipped when already finished.

Each run trains through :func:`mixjax.training.loop.train` in its own directory, so a
killed experiment loses no finished run: rerunning it reuses every run whose
`summary.json` exists and resumes the interrupted one from its checkpoints.

An experiment describes its grid as :class:`Run` specs (built from :class:`Method`s such
as :func:`erm` and :func:`mixup`), trains them with :func:`train_all` and reads each
:class:`Trained` result.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import NamedTuple

import ml_collections

from mixjax.experiments import common
from mixjax.experiments import options
from mixjax.training import loop
from mixjax.training.config import default_config


def base_config(**overrides: Any) -> ml_collections.ConfigDict:
  """The package's default config with `overrides`; checkpoints only at the end (short runs)."""
  config = default_config()
  for key, value in overrides.items():
    if key not in config:
      raise ValueError(f"Unknown config key {key!r}.")
    config[key] = value
  if "checkpoint_every_epochs" not in overrides:
    config.checkpoint_every_epochs = config.num_epochs
  return config


class Method(NamedTuple):
  """A training method of an experiment's grid."""

  label: str  # Its name in tables, plots and results.json, e.g. "mixup (α=1)".
  overrides: dict[str, Any]  # The config keys it sets, e.g. {"mix": "mixup", ...}.


def erm() -> Method:
  """Empirical risk minimisation: no mixing."""
  return Method("ERM", {"mix": "none"})


def mixup(alpha: float) -> Method:
  """mixup with λ ~ Beta(α, α)."""
  return Method(f"mixup (α={alpha:g})", {"mix": "mixup", "mixup_alpha": float(alpha)})


def cutmix(alpha: float) -> Method:
  """CutMix with λ ~ Beta(α, α): boxes of images, segments of 1-D signals `[L, C]`."""
  return Method(f"CutMix (α={alpha:g})", {"mix": "cutmix", "cutmix_alpha": float(alpha)})


class Trained(NamedTuple):
  """What a finished run left: its summary, its per-epoch records and (on request) state."""

  summary: dict[str, Any]  # summary.json.
  records: list[dict[str, Any]]  # metrics.jsonl, one dict per epoch.
  state: Any = None  # The final host train state, when asked for.

  @property
  def last_error(self) -> float:
    """Test error after the last epoch."""
    return 1.0 - self.summary["last_test_accuracy"]

  @property
  def best_error(self) -> float:
    """Test error of the best epoch."""
    return 1.0 - self.summary["best_test_accuracy"]


def train_once(
  config: ml_collections.ConfigDict, workdir: str, *, source=None, need_state: bool = False
) -> Trained:
  """Trains `config` in `workdir` unless a finished run is there already.

  Args:
    config: the run's config.
    workdir: its directory.
    source: the data to train on (a `mixjax.data.Source`); None loads the config's.
    need_state: also return the final host state (restored from the last checkpoint
      when the run had finished before; nothing trains again).

  Returns:
    The run's :class:`Trained`.
  """
  summary_path = os.path.join(workdir, "summary.json")
  state = None
  if os.path.exists(summary_path) and not need_state:
    loop.check_workdir_config(config, workdir)  # Another config's finished run is refused.
    with open(summary_path) as f:
      summary = json.load(f)
  else:
    state, summary = loop.train(config, workdir, source=source)
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    records = [json.loads(line) for line in f if line.strip()]
  return Trained(summary, records, state)


@dataclasses.dataclass(frozen=True)
class Run:
  """One training run of an experiment's grid."""

  workdir: str  # Relative to the experiment's output directory.
  description: str  # Its progress line.
  config: ml_collections.ConfigDict
  fields: dict[str, Any] = dataclasses.field(default_factory=dict)  # Its keys in results.json.
  source: Any = None  # The data to train on; None loads the config's dataset.


def train_all(
  out_dir: str,
  specs: Sequence[Run],
  progress: common.Progress,
  *,
  note: Callable[[Trained], str],
  need_state: bool = False,
) -> list[Trained]:
  """Trains (or reuses) every run in order, printing its progress line and `note`.

  Args:
    out_dir: the experiment's output directory.
    specs: the runs.
    progress: prints the lines.
    note: the detail line of a finished run, e.g. its test error.
    need_state: also restore each run's final state (see :func:`train_once`).

  Returns:
    One :class:`Trained` per spec.
  """
  done = []
  for spec in specs:
    progress.start_run(spec.description)
    workdir = os.path.join(out_dir, spec.workdir)
    trained = train_once(spec.config, workdir, source=spec.source, need_state=need_state)
    progress.note(note(trained))
    done.append(trained)
  return done


@dataclasses.dataclass(frozen=True)
class Recipe:
  """The training recipe that :func:`add_recipe_arguments`' options set, by `run` keyword."""

  dataset: str = "digits"  # config.dataset: digits (offline) or a tfds name.
  model: str = "small_cnn"  # config.model.
  epochs: int = 30  # config.num_epochs.
  milestones: tuple[int, ...] = (20,)  # config.lr_milestones: epochs where lr ×0.1.
  batch_size: int = 64  # config.batch_size.
  learning_rate: float = 0.05  # config.learning_rate.
  augment: str = "none"  # config.augment.

  def replace(self, experiment: str, **options: Any) -> Recipe:
    """This recipe with `options` (fields by name) replaced; `experiment` names errors."""
    return common.replace_options(self, experiment, **options)

  def config(self, **overrides: Any) -> ml_collections.ConfigDict:
    """:func:`base_config` with this recipe, then `overrides` (e.g. a method's keys)."""
    recipe = {
      "dataset": self.dataset,
      "model": self.model,
      "num_epochs": self.epochs,
      "lr_milestones": tuple(self.milestones),
      "batch_size": self.batch_size,
      "learning_rate": self.learning_rate,
      "augment": self.augment,
    }
    return base_config(**{**recipe, **overrides})

  def describe(self) -> str:
    """`digits, mlp, 60 epochs (lr 0.05 ×0.1 at [40]), batch 64`."""
    return (
      f"{self.dataset}, {self.model}, {self.epochs} epochs (lr {self.learning_rate:g} ×0.1 at "
      f"{list(self.milestones)}), batch {self.batch_size}"
    )


def add_recipe_arguments(parser: Any) -> None:
  """The training-recipe options shared by the experiments that train through train.py.

  Each sets the :class:`Recipe` field of its name.
  """
  options.add(parser, "--dataset", help="digits (offline) or a tfds name, e.g. cifar10")
  options.add(parser, "--model", help="mlp, small_cnn, preact_resnet18, ...")
  options.add(parser, "--epochs", type=int, help="training epochs")
  options.add(
    parser,
    "--milestones",
    type=options.comma_list(int),
    help="epochs where lr ×0.1, e.g. 100,150",
  )
  options.add(parser, "--batch_size", type=int, help="global batch size")
  options.add(parser, "--learning_rate", type=float, help="initial learning rate")
  options.add(parser, "--augment", choices=("none", "crop_flip"), help="input augmentation")
