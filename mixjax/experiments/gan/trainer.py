"""Training a group of GANs side by side: one compiled, vmapped program per noise size.

A run's initialisation, data and noise depend only on its seed, so a plain and a mixup
GAN with the same seed start from the same networks; the two methods differ only in a
traced α, so they share one compiled program.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mixjax.experiments import common
from mixjax.experiments.gan.config import GanConfig
from mixjax.experiments.gan.config import method_alpha
from mixjax.experiments.gan.data import Dataset
from mixjax.experiments.gan.data import padded_modes
from mixjax.experiments.gan.losses import discriminator_loss
from mixjax.experiments.gan.losses import generator_loss
from mixjax.experiments.gan.metrics import mode_metrics
from mixjax.experiments.gan.nets import Networks
from mixjax.experiments.gan.nets import TrainState
from mixjax.experiments.gan.nets import generate
from mixjax.experiments.gan.nets import init_state
from mixjax.experiments.gan.nets import make_networks


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


class Trainer(NamedTuple):
  """Compiled functions for a group of runs trained side by side (vmapped over R runs)."""

  nets: Networks
  init_fn: Callable  # (keys [R]) -> states.
  train_fn: Callable  # (states, keys [R], num_steps, alphas [R], data) -> states.
  generate_fn: Callable  # (gens, keys [R]) -> samples [R, num_samples, 2].


def make_trainer(config: GanConfig, latent_dim: int) -> Trainer:
  """The :class:`Trainer` of `config` for noise of size `latent_dim`.

  One compilation per latent size and group size serves every dataset, α and step count.
  """
  nets = make_networks(config, latent_dim)
  init_fn = jax.jit(jax.vmap(functools.partial(init_state, nets=nets)))
  train = functools.partial(train_for, nets=nets)
  train_fn = jax.jit(jax.vmap(train, in_axes=(0, 0, None, 0, None)))
  sample = functools.partial(generate, num=config.num_samples, nets=nets)
  generate_fn = jax.jit(jax.vmap(sample))
  return Trainer(nets, init_fn, train_fn, generate_fn)


def eval_points(steps: int, num_evals: int) -> list[int]:
  """The generator steps after which the metrics are measured."""
  regular = {max(1, round(steps * (i + 1) / num_evals)) for i in range(num_evals)}
  logs = {10**k for k in range(1, 8) if 10**k < steps}
  return sorted(regular | logs | {steps})


def snapshot_points(steps: int) -> list[int]:
  """The generator steps whose samples are kept for the plots: 10, 100, ... and the last."""
  return [10**k for k in range(1, 8) if 10**k < steps] + [steps]


def _report_points(points: Sequence[int], steps: int) -> set[int]:
  """The evaluation points nearest to a quarter, a half and three quarters of training."""
  return {min(points, key=lambda p, q=q: abs(p - steps * q / 4)) for q in (1, 2, 3)}


def _record(results, samples, point: int, data: Dataset, config: GanConfig, keep: bool) -> None:
  """Adds the metrics of every run's `samples` at step `point` to its result."""
  for result, run_samples in zip(results, samples, strict=True):
    metrics = mode_metrics(run_samples, data, config.min_mode_samples)
    result["final"] = metrics
    result["curve"].append({"step": point, **{k: v for k, v in metrics.items() if k != "counts"}})
    if keep:
      result["snapshots"][point] = run_samples


def train_group(
  config: GanConfig,
  data: Dataset,
  trainer: Trainer,
  methods: Sequence[str],
  seeds: Sequence[int],
  report=None,
) -> list[dict[str, Any]]:
  """Trains one GAN per `(methods[r], seeds[r])` side by side on the same data.

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
  keys = jnp.stack([jax.random.split(jax.random.key(seed), 3) for seed in seeds])
  key_init, key_train, key_eval = keys[:, 0], keys[:, 1], keys[:, 2]
  alphas = jnp.asarray([method_alpha(m, config) for m in methods], jnp.float32)
  target = (*padded_modes(data), jnp.float32(data.std))
  results = [{"curve": [], "snapshots": {}} for _ in seeds]
  snapshots = set(snapshot_points(config.steps))
  points = eval_points(config.steps, config.num_evals)
  reports = _report_points(points, config.steps)
  with common.Timer() as timer:
    states, done = trainer.init_fn(key_init), 0
    for point in points:
      states = trainer.train_fn(states, key_train, jnp.int32(point - done), alphas, target)
      done = point
      samples = np.asarray(trainer.generate_fn(states.gen, key_eval))
      _record(results, samples, point, data, config, keep=point in snapshots)
      if report is not None and point in reports:
        report(point, [r["final"] for r in results])
  for result in results:
    result["seconds"] = timer.seconds
  return results
