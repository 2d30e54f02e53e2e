"""Applying sampled mix parameters (:class:`mixjax.MixParams`): the deterministic half.

:func:`apply_mix` checks its arguments, then calls the unchecked :func:`_apply_mix` that
the ops of `mixjax._ops` call after checking theirs. CutMix boxes are pasted with the row
mask of `mixjax._masks`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mixjax import _checks
from mixjax import _masks
from mixjax._sampling import MixParams


def self_weight(params: MixParams, image_size: tuple[int, ...] | None = None) -> jax.Array:
  """The exact weight of each example's own label after mixing.

  Outside the box (or mask) the example is blended with weight λ, inside it is replaced,
  so its label weight is `λ · (1 - pasted / pixels)`. The pasted count is that of the
  box clipped to the input (an inverted box is empty), or the mask's count, i.e. exactly
  the pixels that :func:`mixjax.apply_mix` pastes.

  Args:
    params: the mix parameters.
    image_size: the spatial shape (`(H, W)` for images); required with a box or a mask.

  Returns:
    float32 `[B]`.
  """
  check_params(params)
  if (params.box is not None or params.mask is not None) and image_size is None:
    raise ValueError("`image_size` is required when `params.box` or `params.mask` is set.")
  return _self_weight(params, image_size)


def _pasted_count(params: MixParams, image_size: tuple[int, ...], batch_size: int) -> jax.Array:
  """The number of pixels pasted from the partner, int32 `[B]`."""
  if params.mask is not None:
    mask = jnp.broadcast_to(params.mask, (batch_size, *params.mask.shape[-len(image_size) :]))
    return jnp.sum(mask, axis=tuple(range(1, mask.ndim)), dtype=jnp.int32)
  ndim = len(image_size)
  box = jnp.broadcast_to(jnp.asarray(params.box, jnp.int32), (batch_size, 2 * ndim))
  count = jnp.ones((batch_size,), jnp.int32)
  for axis, size in enumerate(image_size):
    stop, start = jnp.minimum(box[:, ndim + axis], size), jnp.maximum(box[:, axis], 0)
    count = count * jnp.clip(stop - start, 0)
  return count


def _self_weight(params: MixParams, image_size: tuple[int, ...] | None) -> jax.Array:
  batch_size = params.partner.shape[0]
  lam = jnp.broadcast_to(jnp.asarray(params.lam, jnp.float32), (batch_size,))
  if params.box is None and params.mask is None:
    return lam
  assert image_size is not None  # Given with a box or mask (checked by `self_weight`).
  pixels = int(np.prod(image_size))
  area = _pasted_count(params, image_size, batch_size)
  # Divide the kept-pixel count once: `1 - area / pixels` cancels badly for small kept
  # fractions (a fully pasted image got ±6e-8 instead of 0). XLA turns the division by a
  # constant into a multiplication by its reciprocal, within 1 ulp of the exact fraction;
  # for some H·W (55, 121, ...) that gives 1 - 2^-24 at area 0, so an empty box is
  # selected explicitly to keep the own label bit-exact.
  kept = (pixels - area).astype(jnp.float32) / pixels
  return lam * jnp.where(area == 0, 1.0, kept)


def _partner_of(x: jax.Array, params: MixParams) -> jax.Array:
  if params.pairing == "flip":
    return jnp.flip(x, axis=0)  # A reversed read, fused into the blend: no gather.
  # "roll" gathers too: example i - 1 was read just before example i, so its rows come from
  # the cache. (`jnp.roll`, a concatenate in the blend's fusion, kept XLA:CPU from hoisting
  # the scalar λ's hash out of the loop over pixels: 80x slower at CIFAR size.)
  return jnp.take(x, params.partner, axis=0, mode="clip")


def _blend(x: jax.Array, x_partner: jax.Array, lam: jax.Array) -> jax.Array:
  """`lam·x + (1-lam)·x_partner` in (at least) float32, exact where lam == 1."""
  compute = jnp.promote_types(x.dtype, jnp.float32)
  lam = lam.reshape(lam.shape + (1,) * (x.ndim - lam.ndim))
  mixed = lam * x.astype(compute) + (1.0 - lam) * x_partner.astype(compute)
  # The select keeps α == 0 bit-exact (also for -0.0, inf and NaN pixels) at no memory cost.
  return jnp.where(lam == 1.0, x, mixed.astype(x.dtype))


def _pasted_rows(params: MixParams, shape: tuple[int, ...]) -> jax.Array:
  """The pasted pixels of `params` (box or mask) in the row layout of `shape`."""
  if params.mask is not None:
    return _masks.mask_rows(params.mask, shape)
  assert params.box is not None  # Only called with a box or a mask.
  return _masks.box_mask(params.box, shape)


def _paste(x: jax.Array, params: MixParams, lam: jax.Array, blend: bool = True) -> jax.Array:
  """`x` `[B, *spatial, C]` with the partner pasted (and blended by λ elsewhere)."""
  shape = jnp.shape(x)
  rows = _masks.to_rows(x, shape)  # [B, *spatial[:-1], W·C]
  x_partner = _partner_of(rows, params)
  kept = _blend(rows, x_partner, lam) if blend else rows
  return jnp.where(_pasted_rows(params, shape), x_partner, kept).reshape(shape)


def apply_mix(inputs: Any, labels: jax.Array, params: MixParams) -> tuple[Any, jax.Array]:
  """Mixes a batch with its partners using given parameters (deterministic).

  For each example i with partner p = `params.partner[i]`:

  * without a box or mask: `x'_i = λ_i·x_i + (1-λ_i)·x_p` for every leaf of `inputs`;
  * with a box (CutMix) or a mask (FMix): the same blend outside it, `x_p` inside it,
    for every leaf (all leaves share `[B, *spatial]` and are cut alike);
  * labels `[B, K]`: `y'_i = w_i·y_i + (1-w_i)·y_p`, with `w` from :func:`self_weight`;
    dense soft maps `[B, *spatial, K]` are mixed like the inputs, per pixel; integer class
    maps `[B, *spatial]` are pasted exactly (they need λ = 1: a box or mask, no blend).

  Args:
    inputs: a floating array or a pytree of floating arrays, each with leading batch
      dimension B. With a box or mask, leaves `[B, *spatial, C_leaf]`, channels last.
    labels: floating `[B, K]` one-hot or soft labels, or with a box or mask dense maps.
    params: the parameters, e.g. from :func:`mixjax.sample_mixup_params`.

  Returns:
    `(inputs, labels)` mixed, with the same structure, shapes and dtypes.

  Example:
    >>> params = mixjax.sample_mixup_params(key, 8, alpha=0.4, mode="elem", pairing="flip")
    >>> x, y = mixjax.apply_mix(images, mixjax.one_hot(labels, 10), params)
    >>> bool(jnp.allclose(y[jnp.arange(8), labels], params.lam))  # own label weight is λ
    True
  """
  check_params(params)  # Its type first: which inputs it takes depends on its box and mask.
  if params.box is None and params.mask is None:
    batch_size = _checks.check_blend_labels(labels)
    _checks.check_inputs(inputs, batch_size)
    spatial: tuple[int, ...] | None = None
  else:
    _, *shape = _checks.check_spatial_inputs(inputs, None, "inputs")
    spatial = tuple(shape)
    _checks.check_dense_labels(labels, spatial)
    _checks.check_inputs(inputs, jnp.shape(labels)[0])
  check_params(params, jnp.shape(labels)[0], spatial)
  return _apply_mix(inputs, labels, params)


def check_params(
  params: Any, batch_size: int | None = None, spatial: tuple[int, ...] | None = None
) -> None:
  """Refuses what is not a :class:`MixParams` for a batch of `batch_size` (when given) with
  spatial shape `spatial` (when given): partner integer `[B]`, λ `[]` or `[B]`, box
  `[2S]` or `[B, 2S]`, boolean mask `[*spatial]` or `[B, *spatial]`, a known pairing."""
  if not isinstance(params, MixParams):
    raise TypeError(
      f"`params` must be a mixjax.MixParams (e.g. from mixjax.sample_mixup_params), got "
      f"{type(params).__name__}."
    )
  _checks.check_choice(params.pairing, "params.pairing", _checks.PAIRINGS)
  if batch_size is None:
    return
  against = "`labels` and the inputs"
  _checks.check_field(
    params.partner, "params.partner", [(batch_size,)], kind=jnp.integer, against=against
  )
  _checks.check_field(params.lam, "params.lam", [(), (batch_size,)], against=against)
  if spatial is not None and params.box is not None:
    sides = [(2 * len(spatial),), (batch_size, 2 * len(spatial))]
    _checks.check_field(params.box, "params.box", sides, kind=jnp.integer, against=against)
  if spatial is not None and params.mask is not None:
    masks = [spatial, (batch_size, *spatial)]
    _checks.check_field(params.mask, "params.mask", masks, kind=jnp.bool_, against=against)


def _apply_mix(inputs: Any, labels: jax.Array, params: MixParams) -> tuple[Any, jax.Array]:
  lam = jnp.asarray(params.lam, jnp.float32)
  if params.box is None and params.mask is None:
    mixed = jax.tree.map(lambda x: _blend(x, _partner_of(x, params), lam), inputs)
    image_size: tuple[int, ...] | None = None
  else:
    mixed = jax.tree.map(lambda x: _paste(x, params, lam), inputs)
    image_size = jnp.shape(jax.tree.leaves(inputs)[0])[1:-1]
  return mixed, _mix_labels(labels, params, lam, image_size)


def _mix_labels(
  labels: jax.Array, params: MixParams, lam: jax.Array, image_size: tuple[int, ...] | None
) -> jax.Array:
  """Class labels by the exact weight; dense maps per pixel, like the inputs."""
  if jnp.ndim(labels) == 2 and jnp.issubdtype(labels.dtype, jnp.floating):
    weight = _self_weight(params, image_size)
    return _blend(labels, _partner_of(labels, params), weight)
  if image_size is None:
    return _blend(labels, _partner_of(labels, params), lam)  # mixup: dense soft maps.
  if jnp.issubdtype(labels.dtype, jnp.integer):
    return _paste(labels[..., None], params, lam, blend=False)[..., 0]
  return _paste(labels, params, lam)
