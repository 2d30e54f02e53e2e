"""Manifold mixup (Verma et al. 2019, arXiv 1806.05236): mixing hidden states inside a model.

The step draws, once per step and device, one layer of the eligible set, λ and the
partners (:func:`sample_manifold_mix`), mixes the soft targets with the same λ and
partners, and passes the :class:`ManifoldMix` to the model. The model calls
:func:`mix_hidden` at each of its layer boundaries, numbered from 0 (the input); the
boundary whose number is the drawn layer blends its hidden state with the partners',
every other boundary returns its state unchanged. The layer is traced, so one compiled
graph serves every layer choice (and α, also traced, turns mixing off without
recompiling). BatchNorm layers after the mixing boundary normalise the mixed states, as
in the paper, and gradients reach both examples of each pair.

The module is the op-side half of the mechanism and needs only jax: any Flax (or other)
model can take part by calling :func:`mix_hidden`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from mixjax import _apply
from mixjax import _checks
from mixjax import _sampling
from mixjax._sampling import MixParams


@functools.partial(
  jax.tree_util.register_dataclass, data_fields=("layer", "params"), meta_fields=()
)
@dataclasses.dataclass(frozen=True)
class ManifoldMix:
  """The mix a model applies at one hidden layer.

  Attributes:
    layer: int32 `[]`, the number of the boundary that mixes (0 = the input); may be traced.
    params: λ (`[]` or `[B]`) and partners `[B]`, with `box=None`.
  """

  layer: jax.Array
  params: MixParams


def mix_hidden(x: jax.Array, index: int, mix: ManifoldMix | None) -> jax.Array:
  """Mixes `x` with its partners when `index` is the drawn layer; returns `x` otherwise.

  How a model takes part (the 1-D CNN is wired the same way): give `__call__` a
  keyword-only `mix: ManifoldMix | None = None` and call
  `x = mix_hidden(x, k, mix)` at boundary k = 0 (the input, before any layer), 1, 2, ...
  (after each block, in order); add the number of boundaries to
  `mixjax.training.config.MANIFOLD_LAYERS` under the model's name, so that
  `config.manifold_layers` is checked against it. With `mix=None` (evaluation, init) the
  model is unchanged.

  Args:
    x: floating `[B, ...]` hidden state (any dtype; the blend is computed in float32).
    index: the static number of this boundary.
    mix: the step's draw, or None (no mixing).

  Returns:
    `x`, or at the drawn layer `λ·x + (1-λ)·x[partner]` (exactly `x` where λ == 1).
  """
  if mix is None:
    return x
  params = mix.params
  mixed = _apply._blend(x, _apply._partner_of(x, params), jnp.asarray(params.lam, jnp.float32))
  # A select, not lax.cond: the blend costs one elementwise pass per boundary (+0.1% flops
  # in a small CNN train step), and the select was as fast or faster on CPU (lax.cond /
  # select: 1.01 small CNN, 1.05 PreAct ResNet-18, median step times); an XLA:GPU
  # conditional also copies its predicate to the host, and a select vmaps as it is.
  return jnp.where(mix.layer == index, mixed, x)


def sample_manifold_mix(
  key: jax.Array,
  labels: jax.Array,
  *,
  layers: Sequence[int],
  alpha: jax.typing.ArrayLike,
  mode: str = "batch",
  pairing: str = "permute",
) -> tuple[ManifoldMix, jax.Array]:
  """Draws the layer, λ and partners of one step, and mixes the labels with them.

  Args:
    key: a PRNG key.
    labels: float `[B, K]` one-hot or soft labels (the step's targets).
    layers: the eligible boundaries (static, non-empty); one is drawn uniformly.
    alpha: Beta(α, α) concentration of λ; may be traced; 0 disables mixing.
    mode: `"batch"` (one λ) or `"elem"` (one λ per example).
    pairing: `"permute"`, `"flip"` or `"roll"`, as for :func:`mixjax.mixup`.

  Returns:
    `(mix, mixed_labels)`: the :class:`ManifoldMix` for the model and the labels mixed
    with the same λ and partners.
  """
  if not layers:
    raise ValueError(f"`layers` must name at least one layer, got {layers!r}.")
  for layer in layers:
    _checks.check_int(layer, "layers", low=0)
  layer_key, params_key = jax.random.split(key)
  layer = jax.random.choice(layer_key, jnp.asarray(tuple(layers), jnp.int32))
  batch_size = _checks.check_labels(labels)
  params = _sampling.sample_mixup_params(
    params_key, batch_size, alpha=alpha, mode=mode, pairing=pairing
  )
  _, mixed_labels = _apply._apply_mix({}, labels, params)
  return ManifoldMix(layer=layer, params=params), mixed_labels
