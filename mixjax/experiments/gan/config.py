"""The gan experiment's settings: :class:`GanConfig`, the quick version and their checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from mixjax import _checks
from mixjax.experiments import common
from mixjax.experiments.gan import data

METHODS = ("plain", "mixup")


@dataclasses.dataclass(frozen=True)
class GanConfig:
  """The experiment's settings; `run(..., **options)` overrides fields by name."""

  datasets: tuple[str, ...] = ("ring", "grid")  # Keys of data.DATASETS.
  latent_dims: tuple[int, ...] = (2, 10)  # Noise sizes.
  methods: tuple[str, ...] = METHODS  # "plain" (α = 0) and/or "mixup".
  seeds: tuple[int, ...] = (0, 1, 2)  # One run per seed; plain and mixup share the init.
  alpha: float = 0.2  # Beta(α, α) of the mixup GAN.
  mix_mode: str = "elem"  # One λ per real/fake pair ("elem") or per batch ("batch").
  steps: int = 4000  # Generator steps (fewer than a GPU run would use, for a CPU budget).
  disc_steps: int = 5  # Discriminator steps per generator step.
  batch_size: int = 128  # Real and fake examples per discriminator step.
  hidden: int = 128  # Units per hidden layer (the paper: 512).
  num_layers: int = 3  # Hidden layers in both networks (the paper: 3).
  learning_rate: float = 3e-4  # Adam step size for both networks.
  b1: float = 0.5  # Adam β1.
  b2: float = 0.99  # Adam β2.
  num_samples: int = 2500  # Generated samples for the metrics.
  min_mode_samples: int = 20  # High-quality samples a mode needs to count as covered.
  num_evals: int = 20  # Evaluations at evenly spaced steps (plus steps 10, 100, 1000, ...).


QUICK = dict(
  latent_dims=(2,),
  seeds=(0,),
  steps=500,
  disc_steps=2,
  hidden=64,
  learning_rate=1e-3,
  num_evals=4,
)
_POSITIVE_INTS = ("steps", "disc_steps", "batch_size", "hidden", "num_layers", "num_samples")


def method_alpha(method: str, config: GanConfig) -> float:
  """The α a method trains with: 0 (the plain GAN) or `config.alpha`."""
  return 0.0 if method == "plain" else config.alpha


def method_label(method: str, config: GanConfig) -> str:
  """`GAN` or `mixup GAN α=<α>`, in plots and progress lines."""
  return f"mixup GAN α={config.alpha:g}" if method == "mixup" else "GAN"


def check_config(config: GanConfig) -> None:
  """Raises ValueError naming the first bad field of `config`."""
  for name in config.datasets:
    if name not in data.DATASETS:
      raise ValueError(f"`datasets` must be drawn from {sorted(data.DATASETS)}, got {name!r}.")
  for method in config.methods:
    if method not in METHODS:
      raise ValueError(f"`methods` must be drawn from {METHODS}, got {method!r}.")
  for field in _POSITIVE_INTS:
    _checks.check_positive_int(getattr(config, field), field)
  if not config.seeds or not config.latent_dims or not config.datasets or not config.methods:
    raise ValueError(
      f"`seeds`, `latent_dims`, `datasets` and `methods` must be non-empty: {config}."
    )
  _checks.check_alpha(config.alpha)


def make_config(*, quick: bool, seeds: Sequence[int] | None = None, **options) -> GanConfig:
  """The default (or quick) config with `options` overriding fields by name."""
  overrides = {**(QUICK if quick else {}), **options}
  if seeds is not None:
    overrides["seeds"] = tuple(common.parse_seeds(seeds))
  for name in ("datasets", "latent_dims", "methods", "seeds"):
    if name in overrides:
      overrides[name] = tuple(overrides[name])
  config = common.replace_options(GanConfig(), "gan", **overrides)
  check_config(config)
  return config
