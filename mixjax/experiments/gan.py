"""mixup stabilises GAN training on toy 2-D mixtures (Zhang et al. 2018, section 3.6).

The discriminator of a mixup GAN never sees a pure real or fake batch: it is trained on
`λ·x_real + (1-λ)·G(z)` with target λ (real = 1, fake = 0), λ ~ Beta(α, α), while the
generator keeps the usual (non-saturating) loss on its own samples:

  min_D  E ℓ(D(λ·x + (1-λ)·G(z)), λ),        min_G  E ℓ(D(G(z)), 1),

with ℓ the binary cross-entropy. Here both are one code path: the real and fake batches
are concatenated into `[real; fake]` with one-column labels `[1; 0]`, and
:func:`mixjax.mixup` with `pairing="flip"` pairs real example i with fake example B-1-i.
With α = 0 mixup returns the batch unchanged, which is exactly the plain GAN, so the two
methods share one compiled program and differ only in a traced α.

Data (the toy mixtures used by Metz et al. 2017 and Srivastava et al. 2017, VEEGAN):

* `ring`: 8 Gaussians, means evenly spaced on a circle of radius 2, std 0.02;
* `grid`: 25 Gaussians, means on the grid {-4, -2, 0, 2, 4}², std 0.05.

Models: generator and discriminator are MLPs with 3 hidden ReLU layers, batch 128, 5
discriminator steps per generator step, Adam; the generator's noise is 2-D or 10-D. The
paper's networks have 512 units per layer; at that width and 20,000 generator steps a
generator step costs about 60 ms on 2 CPU cores, i.e. some 8 hours for the 24 runs here,
so the defaults use 128 units and 4,000 steps and train the 6 runs of a (dataset, noise
size) pair side by side with `jax.vmap`. λ is drawn per mixed example
(`mix_mode="elem"`) and Adam uses lr 3e-4, β = (0.5, 0.99): in a pilot (z = 2, 3 seeds,
4,000 steps) lr 1e-3 left the mixup GAN's ring runs erratic (about 20% high-quality
samples), lr 1e-4 had not learned the grid yet, and at lr 1e-3 one λ per pair varied
less across seeds than one λ per batch.

Metrics on 2,500 samples from the final generator (as in VEEGAN and PacGAN, Lin et al.
2018): a sample is *high quality* if it lies within 3 std of its nearest mode; a mode is
*covered* if at least 20 high-quality samples have it as their nearest mode (a fifth of
the expected 100 per mode on the grid); `mode_kl` is KL(p̂ ‖ uniform) of the high-quality
samples' modes (0 = all modes equally often, log K = one mode).

Run it: `python -m mixjax.experiments gan --out runs/gan` (24 runs; 10-25 minutes on
2 CPU cores, depending on how busy they are), or `--quick` for a smoke test. The paper's
sizes: `--hidden 512 --steps 20000`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Sequence
from typing import Any
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

import mixjax
from mixjax.experiments import common

METHODS = ("plain", "mixup")


@dataclasses.dataclass(frozen=True)
class GanConfig:
  """The experiment's settings; `run(..., **options)` overrides fields by name."""

  datasets: tuple[str, ...] = ("ring", "grid")  # Keys of DATASETS.
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


class Dataset(NamedTuple):
  """A mixture of equally likely isotropic Gaussians."""

  modes: np.ndarray  # float32 [K, 2], the means.
  std: float  # Standard deviation of every component.


def ring(num_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> Dataset:
  """`num_modes` Gaussians evenly spaced on a circle."""
  angles = 2 * np.pi * np.arange(num_modes) / num_modes
  modes = radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
  return Dataset(modes.astype(np.float32), std)


def grid(size: int = 5, spacing: float = 2.0, std: float = 0.05) -> Dataset:
  """`size²` Gaussians on a square grid centred on the origin."""
  axis = spacing * (np.arange(size) - (size - 1) / 2)
  xs, ys = np.meshgrid(axis, axis, indexing="ij")
  modes = np.stack([xs.ravel(), ys.ravel()], axis=-1)
  return Dataset(modes.astype(np.float32), std)


DATASETS = {"ring": ring, "grid": grid}
MAX_MODES = max(len(make().modes) for make in DATASETS.values())


def padded_modes(data: Dataset) -> tuple[jax.Array, jax.Array]:
  """The means, zero-padded to float32 `[MAX_MODES, 2]`, and their count (int32 `[]`).

  Padding lets every dataset share one compiled training program.
  """
  modes = np.zeros((MAX_MODES, 2), np.float32)
  modes[: len(data.modes)] = data.modes
  return jnp.asarray(modes), jnp.int32(len(data.modes))


def sample_data(
  key: jax.Array, modes: jax.Array, num_modes: jax.Array, std: jax.Array, num: int
) -> jax.Array:
  """float32 `[num, 2]` samples from the mixture of the first `num_modes` of `modes`."""
  key_mode, key_noise = jax.random.split(key)
  index = jax.random.randint(key_mode, (num,), 0, num_modes)
  return modes[index] + std * jax.random.normal(key_noise, (num, 2), jnp.float32)


class MLP(nn.Module):
  """`num_layers` hidden ReLU layers of `hidden` units, then a linear layer."""

  hidden: int
  num_layers: int
  features: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    for _ in range(self.num_layers):
      x = nn.relu(nn.Dense(self.hidden)(x))
    return nn.Dense(self.features)(x)


class Networks(NamedTuple):
  """The static parts of a run: models, optimiser and sizes."""

  generator: MLP  # z [N, latent_dim] -> x [N, 2].
  discriminator: MLP  # x [N, 2] -> logit [N, 1].
  optimizer: optax.GradientTransformation
  latent_dim: int
  batch_size: int
  disc_steps: int
  mix_mode: str


class TrainState(NamedTuple):
  gen: Any
  disc: Any
  gen_opt: Any
  disc_opt: Any
  step: jax.Array  # int32 [], generator steps done.


def make_networks(config: GanConfig, latent_dim: int) -> Networks:
  return Networks(
    generator=MLP(config.hidden, config.num_layers, 2),
    discriminator=MLP(config.hidden, config.num_layers, 1),
    optimizer=optax.adam(config.learning_rate, b1=config.b1, b2=config.b2),
    latent_dim=latent_dim,
    batch_size=config.batch_size,
    disc_steps=config.disc_steps,
    mix_mode=config.mix_mode,
  )


def init_state(key: jax.Array, nets: Networks) -> TrainState:
  key_gen, key_disc = jax.random.split(key)
  gen = nets.generator.init(key_gen, jnp.zeros((1, nets.latent_dim)))
  disc = nets.discriminator.init(key_disc, jnp.zeros((1, 2)))
  return TrainState(
    gen, disc, nets.optimizer.init(gen), nets.optimizer.init(disc), jnp.zeros((), jnp.int32)
  )


def generate(gen: Any, key: jax.Array, num: int, nets: Networks) -> jax.Array:
  """float32 `[num, 2]` generator samples from standard normal noise."""
  z = jax.random.normal(key, (num, nets.latent_dim), jnp.float32)
  return nets.generator.apply(gen, z)


def discriminator_loss(disc, gen, key, alpha, data, nets: Networks) -> jax.Array:
  """Binary cross-entropy of D on mixed real/fake pairs with target λ (α = 0: plain GAN)."""
  key_real, key_fake, key_mix = jax.random.split(key, 3)
  batch = nets.batch_size
  real = sample_data(key_real, *data, batch)
  fake = jax.lax.stop_gradient(generate(gen, key_fake, batch, nets))
  inputs = jnp.concatenate([real, fake])
  realness = jnp.concatenate([jnp.ones((batch, 1)), jnp.zeros((batch, 1))])
  # Flip pairing: real i <-> fake B-1-i; the label mixes to λ (real side) and 1-λ (fake side).
  inputs, realness = mixjax.mixup(
    key_mix, inputs, realness, alpha=alpha, mode=nets.mix_mode, pairing="flip"
  )
  logits = nets.discriminator.apply(disc, inputs)[:, 0]
  return optax.sigmoid_binary_cross_entropy(logits, realness[:, 0]).mean()


def generator_loss(gen, disc, key, nets: Networks) -> jax.Array:
  """Non-saturating generator loss: BCE of D(G(z)) against "real"."""
  logits = nets.discriminator.apply(disc, generate(gen, key, nets.batch_size, nets))[:, 0]
  return optax.sigmoid_binary_cross_entropy(logits, jnp.ones_like(logits)).mean()


def train_step(state: TrainState, key, alpha, data, nets: Networks) -> TrainState:
  """`nets.disc_steps` discriminator updates, then one generator update."""
  key = jax.random.fold_in(key, state.step)
  key_disc, key_gen = jax.random.split(key)

  def disc_update(carry, step_key):
    disc, disc_opt = carry
    grads = jax.grad(discriminator_loss)(disc, state.gen, step_key, alpha, data, nets)
    updates, disc_opt = nets.optimizer.update(grads, disc_opt, disc)
    return (optax.apply_updates(disc, updates), disc_opt), None

  (disc, disc_opt), _ = jax.lax.scan(
    disc_update, (state.disc, state.disc_opt), jax.random.split(key_disc, nets.disc_steps)
  )
  grads = jax.grad(generator_loss)(state.gen, disc, key_gen, nets)
  updates, gen_opt = nets.optimizer.update(grads, state.gen_opt, state.gen)
  gen = optax.apply_updates(state.gen, updates)
  return TrainState(gen, disc, gen_opt, disc_opt, state.step + 1)


def train_for(state, key, num_steps, alpha, data, nets: Networks) -> TrainState:
  """`num_steps` (traced: any count, one compilation) generator steps.

  Args:
    state: the train state.
    key: the run's training key; step t uses `fold_in(key, t)`.
    num_steps: int32 scalar, may be traced.
    alpha: float32 scalar, the mixup GAN's α (0: plain GAN), may be traced.
    data: `(modes [MAX_MODES, 2], num_modes, std)` of the target mixture, traced.
    nets: the static networks and sizes.

  Returns:
    The new state.
  """
  body = lambda _, s: train_step(s, key, alpha, data, nets)
  return jax.lax.fori_loop(0, num_steps, body, state)


def mode_metrics(samples: np.ndarray, data: Dataset, min_mode_samples: int) -> dict[str, Any]:
  """Mode coverage and sample quality of generated `samples` `[N, 2]`.

  Returns:
    dict with `modes` (covered modes, int in [0, K]), `high_quality` (fraction in [0, 1]),
    `mode_kl` (KL(p̂ ‖ uniform) in [0, log K]; log K when no sample is high quality) and
    `counts` (high-quality samples per mode, int [K]).
  """
  samples = np.asarray(samples, np.float64)
  dist = np.linalg.norm(samples[:, None, :] - data.modes[None, :, :], axis=-1)
  nearest, near = dist.argmin(axis=1), dist.min(axis=1)
  good = np.isfinite(near) & (near <= 3 * data.std)
  num_modes = len(data.modes)
  counts = np.bincount(nearest[good], minlength=num_modes)
  if counts.sum() > 0:
    p = counts / counts.sum()
    kl = float(np.sum(p[p > 0] * np.log(p[p > 0] * num_modes)))
  else:
    kl = math.log(num_modes)
  return {
    "modes": int((counts >= min_mode_samples).sum()),
    "high_quality": float(good.mean()),
    "mode_kl": kl,
    "counts": counts.tolist(),
  }


def _eval_points(steps: int, num_evals: int) -> list[int]:
  regular = {max(1, round(steps * (i + 1) / num_evals)) for i in range(num_evals)}
  logs = {10**k for k in range(1, 8) if 10**k < steps}
  return sorted(regular | logs | {steps})


def _snapshot_points(steps: int) -> list[int]:
  return [10**k for k in range(1, 8) if 10**k < steps] + [steps]


def _method_alpha(method: str, config: GanConfig) -> float:
  return 0.0 if method == "plain" else config.alpha


def _check_config(config: GanConfig) -> None:
  for name in config.datasets:
    if name not in DATASETS:
      raise ValueError(f"`datasets` must be drawn from {sorted(DATASETS)}, got {name!r}.")
  for method in config.methods:
    if method not in METHODS:
      raise ValueError(f"`methods` must be drawn from {METHODS}, got {method!r}.")
  for field in ("steps", "disc_steps", "batch_size", "hidden", "num_layers", "num_samples"):
    value = getattr(config, field)
    if not isinstance(value, int) or value < 1:
      raise ValueError(f"`{field}` must be a positive int, got {value!r}.")
  if not config.seeds or not config.latent_dims or not config.datasets or not config.methods:
    raise ValueError(
      f"`seeds`, `latent_dims`, `datasets` and `methods` must be non-empty: {config}."
    )
  if config.alpha < 0:
    raise ValueError(f"`alpha` must be >= 0, got {config.alpha!r}.")


def make_config(*, quick: bool, seeds: Sequence[int] | None = None, **options) -> GanConfig:
  """The default (or quick) config with `options` overriding fields by name."""
  fields = {f.name for f in dataclasses.fields(GanConfig)}
  unknown = sorted(set(options) - fields)
  if unknown:
    raise TypeError(f"Unknown gan option(s) {unknown}; expected some of {sorted(fields)}.")
  overrides = dict(QUICK) if quick else {}
  overrides.update(options)
  if seeds is not None:
    overrides["seeds"] = tuple(common.parse_seeds(seeds))
  for name in ("datasets", "latent_dims", "methods", "seeds"):
    if name in overrides:
      overrides[name] = tuple(overrides[name])
  config = dataclasses.replace(GanConfig(), **overrides)
  _check_config(config)
  return config


def make_trainer(config: GanConfig, latent_dim: int):
  """Compiled functions for a group of runs trained side by side (vmapped).

  Returns:
    `(nets, init_fn, train_fn, generate_fn)`: `init_fn(keys [R]) -> states`,
    `train_fn(states, keys [R], num_steps, alphas [R], data) -> states` and
    `generate_fn(gens, keys [R]) -> samples [R, num_samples, 2]`. One compilation per
    latent size and group size serves every dataset, α and step count.
  """
  nets = make_networks(config, latent_dim)
  init_fn = jax.jit(jax.vmap(functools.partial(init_state, nets=nets)))
  train = functools.partial(train_for, nets=nets)
  train_fn = jax.jit(jax.vmap(train, in_axes=(0, 0, None, 0, None)))
  sample = functools.partial(generate, num=config.num_samples, nets=nets)
  generate_fn = jax.jit(jax.vmap(sample))
  return nets, init_fn, train_fn, generate_fn


def train_group(
  config: GanConfig,
  data: Dataset,
  trainer,
  methods: Sequence[str],
  seeds: Sequence[int],
  report=None,
) -> list[dict[str, Any]]:
  """Trains one GAN per `(methods[r], seeds[r])` side by side on the same data.

  A run's initialisation, data and noise depend only on its seed, so a plain and a mixup
  GAN with the same seed start from the same networks.

  Args:
    config: the settings.
    data: the target mixture.
    trainer: from :func:`make_trainer`.
    methods: per run, `"plain"` or `"mixup"`.
    seeds: per run, its seed.
    report: optional `report(step, finals)` called at a few evaluation points.

  Returns:
    Per run: `final` metrics (see :func:`mode_metrics`), the metric `curve` over training
    steps, sample `snapshots` {step: [num_samples, 2]} and the group's `seconds`.
  """
  _, init_fn, train_fn, generate_fn = trainer
  keys = jnp.stack([jax.random.split(jax.random.key(seed), 3) for seed in seeds])
  key_init, key_train, key_eval = keys[:, 0], keys[:, 1], keys[:, 2]
  alphas = jnp.asarray([_method_alpha(m, config) for m in methods], jnp.float32)
  target = (*padded_modes(data), jnp.float32(data.std))
  results = [{"curve": [], "snapshots": {}} for _ in seeds]
  snapshot_points = set(_snapshot_points(config.steps))
  points = _eval_points(config.steps, config.num_evals)
  report_points = {min(points, key=lambda p, q=q: abs(p - config.steps * q / 4)) for q in (1, 2, 3)}
  with common.Timer() as timer:
    states = init_fn(key_init)
    done = 0
    for point in points:
      states = train_fn(states, key_train, jnp.int32(point - done), alphas, target)
      done = point
      samples = np.asarray(generate_fn(states.gen, key_eval))
      for result, run_samples in zip(results, samples, strict=True):
        metrics = mode_metrics(run_samples, data, config.min_mode_samples)
        result["final"] = metrics
        result["curve"].append(
          {"step": point, **{k: v for k, v in metrics.items() if k != "counts"}}
        )
        if point in snapshot_points:
          result["snapshots"][point] = run_samples
      if report is not None and point in report_points:
        report(point, [r["final"] for r in results])
  for result in results:
    result["seconds"] = timer.seconds
  return results


def _late_modes(curve: list[dict[str, Any]], steps: int) -> float:
  """Mean covered modes over the evaluations in the last quarter of training."""
  late = [c["modes"] for c in curve if c["step"] >= 0.75 * steps]
  return float(np.mean(late))


def summarize(config: GanConfig, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
  """One row per (dataset, latent_dim, method): metrics as lists over seeds."""
  rows = []
  for dataset in config.datasets:
    for latent_dim in config.latent_dims:
      for method in config.methods:
        group = [
          r
          for r in runs
          if (r["dataset"], r["latent_dim"], r["method"]) == (dataset, latent_dim, method)
        ]
        rows.append(
          {
            "dataset": dataset,
            "num_modes": group[0]["num_modes"],
            "latent_dim": latent_dim,
            "method": method,
            "alpha": _method_alpha(method, config),
            "seeds": [r["seed"] for r in group],
            "modes": [r["final"]["modes"] for r in group],
            "high_quality": [r["final"]["high_quality"] for r in group],
            "mode_kl": [r["final"]["mode_kl"] for r in group],
            "late_modes": [_late_modes(r["curve"], config.steps) for r in group],
          }
        )
  return rows


def results_table(summary: list[dict[str, Any]]) -> str:
  headers = [
    "dataset",
    "z dim",
    "method",
    "modes covered",
    "modes, last 25% of training",
    "high-quality samples (%)",
    "KL(modes ‖ uniform)",
  ]
  rows = []
  for row in summary:
    method = "mixup GAN (α={:g})".format(row["alpha"]) if row["method"] == "mixup" else "GAN"
    rows.append(
      [
        row["dataset"],
        row["latent_dim"],
        method,
        f"{common.format_mean_std(row['modes'], 1)} / {row['num_modes']}",
        f"{common.format_mean_std(row['late_modes'], 1)} / {row['num_modes']}",
        common.format_mean_std(row["high_quality"], 1, scale=100),
        common.format_mean_std(row["mode_kl"], 2),
      ]
    )
  return common.markdown_table(headers, rows)


def _axis_limit(data: Dataset) -> float:
  return float(np.abs(data.modes).max()) * 1.5


def _scatter(ax, samples: np.ndarray, data: Dataset, title: str) -> None:
  limit = _axis_limit(data)
  ax.scatter(samples[:, 0], samples[:, 1], s=1.5, alpha=0.35, color="tab:blue", linewidths=0)
  ax.scatter(data.modes[:, 0], data.modes[:, 1], s=30, marker="x", color="tab:red", linewidths=1.0)
  ax.set_xlim(-limit, limit)
  ax.set_ylim(-limit, limit)
  ax.set_aspect("equal")
  ax.set_xticks([])
  ax.set_yticks([])
  ax.set_title(title, fontsize=7)


def _method_label(method: str, config: GanConfig) -> str:
  return f"mixup GAN α={config.alpha:g}" if method == "mixup" else "GAN"


def plot_samples(path: str, config: GanConfig, runs: list[dict[str, Any]]) -> None:
  """Rows: dataset × method; columns: latent dim × seed; final samples and true modes."""
  plt = common.pyplot()
  row_keys = [(d, m) for d in config.datasets for m in config.methods]
  col_keys = [(z, s) for z in config.latent_dims for s in config.seeds]
  fig, axes = plt.subplots(
    len(row_keys),
    len(col_keys),
    squeeze=False,
    figsize=(1.7 * len(col_keys) + 0.6, 1.8 * len(row_keys)),
  )
  index = {(r["dataset"], r["method"], r["latent_dim"], r["seed"]): r for r in runs}
  for i, (dataset, method) in enumerate(row_keys):
    data = DATASETS[dataset]()
    for j, (latent_dim, seed) in enumerate(col_keys):
      run = index[(dataset, method, latent_dim, seed)]
      final = run["final"]
      samples = run["snapshots"][config.steps]
      title = (
        f"z={latent_dim} seed={seed}\n{final['modes']}/{len(data.modes)} modes, "
        f"{100 * final['high_quality']:.0f}% hq"
      )
      _scatter(axes[i, j], samples, data, title)
    axes[i, 0].set_ylabel(f"{dataset}\n{_method_label(method, config)}", fontsize=8)
  fig.suptitle(f"Samples after {config.steps} generator steps (red x: true modes)", fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def plot_snapshots(path: str, config: GanConfig, runs: list[dict[str, Any]]) -> None:
  """Like the paper's Figure 5: samples during training, seed and z dim fixed."""
  plt = common.pyplot()
  seed, latent_dim = config.seeds[0], config.latent_dims[0]
  points = _snapshot_points(config.steps)
  row_keys = [(d, m) for d in config.datasets for m in config.methods]
  fig, axes = plt.subplots(
    len(row_keys),
    len(points),
    squeeze=False,
    figsize=(1.7 * len(points) + 0.6, 1.8 * len(row_keys)),
  )
  index = {(r["dataset"], r["method"], r["latent_dim"], r["seed"]): r for r in runs}
  for i, (dataset, method) in enumerate(row_keys):
    data = DATASETS[dataset]()
    run = index[(dataset, method, latent_dim, seed)]
    for j, point in enumerate(points):
      _scatter(axes[i, j], run["snapshots"][point], data, f"step {point}")
    axes[i, 0].set_ylabel(f"{dataset}\n{_method_label(method, config)}", fontsize=8)
  fig.suptitle(f"Samples during training (seed {seed}, z={latent_dim})", fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def plot_curves(path: str, config: GanConfig, runs: list[dict[str, Any]]) -> None:
  """Covered modes vs generator step: mean over seeds, band from min to max."""
  plt = common.pyplot()
  fig, axes = plt.subplots(
    1, len(config.datasets), squeeze=False, figsize=(4.5 * len(config.datasets), 3.2)
  )
  styles = ["-", "--", ":", "-."]
  for j, dataset in enumerate(config.datasets):
    ax = axes[0, j]
    for method, color in zip(config.methods, ["tab:gray", "tab:blue"], strict=False):
      for latent_dim, style in zip(config.latent_dims, styles * 4, strict=False):
        group = [
          r
          for r in runs
          if (r["dataset"], r["method"], r["latent_dim"]) == (dataset, method, latent_dim)
        ]
        steps = [c["step"] for c in group[0]["curve"]]
        values = np.array([[c["modes"] for c in r["curve"]] for r in group], np.float64)
        ax.plot(
          steps,
          values.mean(0),
          style,
          color=color,
          label=f"{_method_label(method, config)}, z={latent_dim}",
        )
        ax.fill_between(steps, values.min(0), values.max(0), color=color, alpha=0.12)
    ax.set_xscale("log")
    ax.set_xlabel("generator step")
    ax.set_ylabel("modes covered")
    ax.set_ylim(0, group[0]["num_modes"] + 0.5)
    ax.set_title(f"{dataset} ({group[0]['num_modes']} modes)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def run(
  out_dir: str, *, quick: bool = False, seeds: Sequence[int] | None = None, **options
) -> dict[str, Any]:
  """Trains plain and mixup GANs on the toy mixtures; writes results and plots.

  Args:
    out_dir: output directory (created).
    quick: a tiny version (1 seed, z=2, 300 steps, narrow nets) for smoke tests.
    seeds: seeds to run (default (0, 1, 2), or (0,) when quick).
    **options: :class:`GanConfig` fields to override, e.g. `steps=20000, hidden=512`.

  Returns:
    The content of results.json: config, per-run metrics and curves, the summary rows,
    the markdown table and the wall time.
  """
  config = make_config(quick=quick, seeds=seeds, **options)
  os.makedirs(out_dir, exist_ok=True)
  total = len(config.datasets) * len(config.latent_dims) * len(config.methods) * len(config.seeds)
  progress = common.Progress("gan", total)
  group_methods = [m for m in config.methods for _ in config.seeds]
  group_seeds = [s for _ in config.methods for s in config.seeds]
  runs = []
  with common.Timer() as timer:
    for latent_dim in config.latent_dims:
      trainer = make_trainer(config, latent_dim)  # Compiled once, reused by every dataset.
      for dataset in config.datasets:
        data = DATASETS[dataset]()
        num_modes = len(data.modes)
        labels = " and ".join(_method_label(m, config) for m in config.methods)
        progress.start_run(
          f"{dataset} z={latent_dim}: {labels} x seeds {list(config.seeds)} "
          f"({len(group_seeds)} runs side by side), {config.steps} generator steps x "
          f"{config.disc_steps} discriminator steps",
          count=len(group_seeds),
        )

        def report(step, finals, num_modes=num_modes):
          progress.note(
            f"step {step}/{config.steps}: modes "
            + ", ".join(
              f"{m} s{s} {f['modes']}/{num_modes}"
              for m, s, f in zip(group_methods, group_seeds, finals, strict=True)
            )
          )

        results = train_group(config, data, trainer, group_methods, group_seeds, report)
        for method, seed, result in zip(group_methods, group_seeds, results, strict=True):
          final = result["final"]
          progress.note(
            f"{_method_label(method, config)} seed={seed}: modes {final['modes']}/{num_modes}, "
            f"high quality {100 * final['high_quality']:.1f}%, KL {final['mode_kl']:.2f}"
          )
          runs.append(
            {
              "dataset": dataset,
              "num_modes": num_modes,
              "latent_dim": latent_dim,
              "method": method,
              "alpha": _method_alpha(method, config),
              "seed": seed,
              **result,
            }
          )
        progress.note(f"{results[0]['seconds']:.1f} s for the {len(results)} runs")
    plot_samples(os.path.join(out_dir, "samples.png"), config, runs)
    plot_snapshots(os.path.join(out_dir, "snapshots.png"), config, runs)
    plot_curves(os.path.join(out_dir, "modes_vs_step.png"), config, runs)
  summary = summarize(config, runs)
  table = results_table(summary)
  seconds = timer.seconds
  markdown = "\n".join(
    [
      "# mixup GAN on toy mixtures (Zhang et al. 2018, section 3.6)",
      "",
      f"{len(config.seeds)} seed(s) {list(config.seeds)}; {config.steps} generator steps, "
      f"{config.disc_steps} discriminator steps each, batch {config.batch_size}, MLPs "
      f"{config.num_layers}x{config.hidden} ReLU, Adam lr {config.learning_rate:g} betas "
      f"({config.b1:g}, {config.b2:g}), mixup λ ~ Beta({config.alpha:g}, {config.alpha:g}) "
      f"per {config.mix_mode}.",
      f"Metrics on {config.num_samples} samples of the final generator; a mode is covered "
      f"with >= {config.min_mode_samples} samples within 3 std; high quality = within 3 std "
      "of a mode. Cells: mean ± std over seeds.",
      "",
      table,
      "",
      f"Wall time {seconds:.0f} s{' (quick)' if quick else ''}. Plots: samples.png, "
      "snapshots.png, modes_vs_step.png.",
    ]
  )
  print(table, flush=True)
  results = {
    "experiment": "gan",
    "quick": quick,
    "config": config,
    "summary": summary,
    "runs": [{k: v for k, v in r.items() if k != "snapshots"} for r in runs],
    "table": table,
    "seconds": seconds,
  }
  common.write_results(out_dir, results, markdown)
  return results


def _comma_list(kind):
  def parse(text: str):
    return tuple(kind(part) for part in text.split(",") if part)

  parse.__name__ = f"comma-separated {kind.__name__}s"
  return parse


def add_arguments(parser) -> None:
  """Command-line options: each one overrides the GanConfig field of the same name."""
  parser.add_argument("--steps", type=int, help="generator steps (default 4000)")
  parser.add_argument(
    "--disc-steps",
    dest="disc_steps",
    type=int,
    help="discriminator steps per generator step (default 5)",
  )
  parser.add_argument("--hidden", type=int, help="units per hidden layer (default 128)")
  parser.add_argument("--num-layers", dest="num_layers", type=int, help="hidden layers (3)")
  parser.add_argument("--batch-size", dest="batch_size", type=int, help="batch (default 128)")
  parser.add_argument(
    "--learning-rate", dest="learning_rate", type=float, help="Adam lr (default 3e-4)"
  )
  parser.add_argument("--alpha", type=float, help="mixup GAN's Beta(α, α) (default 0.2)")
  parser.add_argument(
    "--mix-mode",
    dest="mix_mode",
    choices=["batch", "elem"],
    help="one λ per pair or per batch (default elem)",
  )
  parser.add_argument("--datasets", type=_comma_list(str), help="e.g. ring,grid")
  parser.add_argument("--latent-dims", dest="latent_dims", type=_comma_list(int), help="e.g. 2,10")
  parser.add_argument("--methods", type=_comma_list(str), help="e.g. plain,mixup")
  parser.add_argument(
    "--num-samples", dest="num_samples", type=int, help="samples for the metrics (default 2500)"
  )
