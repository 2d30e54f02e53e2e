"""The mixing ops: sample the parameters from a key, then apply them.

Each op checks the batch it is given (inputs and labels), samples with its public sampler
(e.g. :func:`mixjax.sample_mixup_params`, the one place its hyperparameters are checked)
and mixes with the unchecked twin of :func:`mixjax.apply_mix`: every argument is checked
once.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from mixjax import _apply
from mixjax import _checks
from mixjax import _sampling


def check_pasting(
  inputs: Any, labels: Any, *, integer_maps: bool = True
) -> tuple[int, tuple[int, ...]]:
  """Checks the inputs and labels of a pasting op; returns B and the spatial shape.

  Inputs: floating leaves sharing `[B, *spatial]`, channels last. Labels: `[B, K]`, dense
  soft maps `[B, *spatial, K]` or (if `integer_maps`) integer class maps `[B, *spatial]`.
  """
  batch, *spatial = _checks.check_spatial_inputs(inputs, None, "images")
  _checks.check_dense_labels(labels, tuple(spatial), integer_maps=integer_maps)
  _checks.check_inputs(inputs, jnp.shape(labels)[0], "images")
  return batch, tuple(spatial)


def mixup(
  key: jax.Array,
  inputs: Any,
  labels: jax.Array,
  *,
  alpha: jax.typing.ArrayLike = 1.0,
  mode: str = "batch",
  pairing: str = "permute",
  probability: jax.typing.ArrayLike = 1.0,
) -> tuple[Any, jax.Array]:
  """mixup (Zhang et al. 2017): convex combinations of examples and their labels.

  `x'_i = λ_i·x_i + (1-λ_i)·x_p(i)` and `y'_i = λ_i·y_i + (1-λ_i)·y_p(i)` with
  λ ~ Beta(α, α) and p a random permutation (or a flip) of the batch.

  Args:
    key: a PRNG key; the same key gives the same output.
    inputs: a floating array or pytree of floating arrays sharing the leading batch
      dimension B (images, spectrograms, table rows, embeddings). Every leaf is mixed
      with the same λ and partner. Low-precision inputs keep their dtype; the blend
      is computed in float32.
    labels: floating `[B, K]` one-hot or soft labels (see :func:`mixjax.one_hot`), or
      dense soft maps `[B, ..., K]`, blended per pixel. Integer class maps are refused:
      a blend needs one-hot maps.
    alpha: Beta(α, α) concentration, may be traced; 0 returns the batch unchanged.
    mode: `"batch"`, one λ for the batch (the paper), or `"elem"`, one λ per example.
    pairing: `"permute"` (random partner, the paper's code), `"flip"` (partner of i is
      B-1-i; no gather) or `"roll"` (partner of i is i-1: the cheapest, about a copy's
      time at ImageNet size on a CPU); flip and roll are for shuffled data.
    probability: the probability that the batch (elem mode: each example) is mixed; the
      rest is returned bit for bit. May be traced.

  Returns:
    `(inputs, labels)` mixed, same structure, shapes and dtypes.

  Raises:
    ValueError, TypeError: at trace time, for bad arguments (see the README).

  Example:
    >>> x, y = mixjax.mixup(key, images, mixjax.one_hot(labels, 10), alpha=0.2)
  """
  batch_size = _checks.check_blend_labels(labels)
  _checks.check_inputs(inputs, batch_size)
  params = _sampling.sample_mixup_params(
    key, batch_size, alpha=alpha, mode=mode, pairing=pairing, probability=probability
  )
  return _apply._apply_mix(inputs, labels, params)


def cutmix(
  key: jax.Array,
  images: Any,
  labels: jax.Array,
  *,
  alpha: jax.typing.ArrayLike = 1.0,
  mode: str = "batch",
  pairing: str = "permute",
  cutmix_minmax: tuple[float, float] | None = None,
  probability: jax.typing.ArrayLike = 1.0,
) -> tuple[Any, jax.Array]:
  """CutMix (Yun et al. 2019): paste a box from the partner.

  Every axis between the batch axis and the last (channel) axis is spatial: `[B, L, C]`
  gets segments, `[B, H, W, C]` boxes, `[B, T, H, W, C]` cubes. The box covers about
  `1 - λ` of the input, λ ~ Beta(α, α), and is clipped at the borders; the label weight is
  the exact kept fraction after clipping.

  Args:
    key: a PRNG key.
    images: floating `[B, *spatial, C]`, channels last, or a pytree of such arrays sharing
      `[B, *spatial]` (image, depth, mask...): all cut with the same box.
    labels: floating `[B, K]` (weighted by the kept fraction), dense soft maps
      `[B, *spatial, K]` or integer class maps `[B, *spatial]` (pasted per pixel).
    alpha: Beta(α, α) concentration, may be traced; 0 returns the batch unchanged.
    mode: `"batch"` (one box for the batch) or `"elem"` (a box per example).
    pairing: `"permute"`, `"flip"` or `"roll"` (see :func:`mixjax.sample_partners`).
    cutmix_minmax: None, or `(lo, hi)`: box sides uniform between these fractions of the
      sides, no λ (timm's option; see :func:`mixjax.sample_box_minmax`). With it `alpha` is
      not used, so α = 0 does not turn the op off (use `probability=0`), as in timm.
    probability: the probability that the batch (or each example) is mixed.

  Returns:
    `(images, labels)` mixed.

  Example:
    >>> x, y = mixjax.cutmix(key, images, mixjax.one_hot(labels, 10), alpha=1.0, mode="elem")
    >>> x.shape, y.shape
    ((8, 32, 32, 3), (8, 10))
  """
  batch_size, image_size = check_pasting(images, labels)
  params = _sampling.sample_cutmix_params(
    key,
    batch_size,
    image_size,
    alpha=alpha,
    mode=mode,
    pairing=pairing,
    cutmix_minmax=cutmix_minmax,
    probability=probability,
  )
  return _apply._apply_mix(images, labels, params)


def mixup_or_cutmix(
  key: jax.Array,
  images: Any,
  labels: jax.Array,
  *,
  mixup_alpha: jax.typing.ArrayLike = 1.0,
  cutmix_alpha: jax.typing.ArrayLike = 1.0,
  switch_prob: jax.typing.ArrayLike = 0.5,
  mode: str = "batch",
  pairing: str = "permute",
  cutmix_minmax: tuple[float, float] | None = None,
  probability: jax.typing.ArrayLike = 1.0,
) -> tuple[Any, jax.Array]:
  """Either mixup or CutMix, CutMix with probability `switch_prob`.

  The choice is drawn per batch (`mode="batch"`) or per example (`mode="elem"`) as a
  traced value: one fused pass over the images serves both choices.

  Args:
    key: a PRNG key.
    images: as for :func:`cutmix`: `[B, *spatial, C]` or a pytree sharing `[B, *spatial]`.
    labels: floating `[B, K]` or dense soft maps `[B, *spatial, K]` (integer class maps
      are refused: mixup would blend them).
    mixup_alpha: Beta concentration of mixup's λ; 0 turns mixup off, and CutMix is
      then used for every draw (timm's rule).
    cutmix_alpha: Beta concentration of CutMix's kept area; 0 turns CutMix off (unless
      `cutmix_minmax` is given), and mixup is then used for every draw. Both 0: no mixing.
    switch_prob: probability of CutMix when both are on, in [0, 1].
    mode: `"batch"` or `"elem"`.
    pairing: `"permute"`, `"flip"` or `"roll"` (see :func:`mixjax.sample_partners`).
    cutmix_minmax: as for :func:`cutmix`.
    probability: the probability that the batch (or each example) is mixed at all.

  Returns:
    `(images, labels)` mixed.

  Example:
    >>> targets = mixjax.one_hot(labels, 10, label_smoothing=0.1)
    >>> x, y = mixjax.mixup_or_cutmix(key, images, targets, mixup_alpha=0.8, cutmix_alpha=1.0)
    >>> bool(jnp.allclose(y.sum(axis=-1), 1.0))
    True
  """
  batch_size, image_size = check_pasting(images, labels, integer_maps=False)
  params = _sampling.sample_mixup_or_cutmix_params(
    key,
    batch_size,
    image_size,
    mixup_alpha=mixup_alpha,
    cutmix_alpha=cutmix_alpha,
    switch_prob=switch_prob,
    mode=mode,
    pairing=pairing,
    cutmix_minmax=cutmix_minmax,
    probability=probability,
  )
  return _apply._apply_mix(images, labels, params)
