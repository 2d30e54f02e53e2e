"""Applying sampled mix parameters (:class:`mixjax.MixParams`): the deterministic half.

:func:`apply_mix` checks its arguments, then calls the unchecked :func:`_apply_mix` that
the ops of `mixjax._ops` call after checking theirs. CutMix boxes are pasted with the row
mask of `mixjax._masks`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from mixjax import _checks
from mixjax import _masks
from mixjax._sampling import MixParams


def self_weight(params: MixParams, image_size: tuple[int, int] | None = None) -> jax.Array:
  """The exact weight of each example's own label after mixing.

  Outside the box the example is blended with weight λ, inside the box it is replaced,
  so its label weight is `λ · (1 - box_area / (H·W))`. The area is that of the box
  clipped to the image (an inverted box is empty), i.e. exactly the pixels that
  :func:`mixjax.apply_mix` pastes.

  Args:
    params: the mix parameters.
    image_size: `(H, W)`; required when `params.box` is not None.

  Returns:
    float32 `[B]`.
  """
  if params.box is not None and image_size is None:
    raise ValueError("`image_size` is required when `params.box` is set.")
  return _self_weight(params, image_size)


def _self_weight(params: MixParams, image_size: Any) -> jax.Array:
  batch_size = params.partner.shape[0]
  lam = jnp.broadcast_to(jnp.asarray(params.lam, jnp.float32), (batch_size,))
  if params.box is None:
    return lam
  height, width = image_size
  box = jnp.broadcast_to(jnp.asarray(params.box, jnp.int32), (batch_size, 4))
  box_height = jnp.clip(jnp.minimum(box[:, 2], height) - jnp.maximum(box[:, 0], 0), 0)
  box_width = jnp.clip(jnp.minimum(box[:, 3], width) - jnp.maximum(box[:, 1], 0), 0)
  area = box_height * box_width
  # Divide the kept-pixel count once: `1 - area / (H·W)` cancels badly for small kept
  # fractions (a fully pasted image got ±6e-8 instead of 0). XLA turns the division by a
  # constant into a multiplication by its reciprocal, within 1 ulp of the exact fraction;
  # for some H·W (55, 121, ...) that gives 1 - 2^-24 at area 0, so an empty box is
  # selected explicitly to keep the own label bit-exact.
  kept = (height * width - area).astype(jnp.float32) / (height * width)
  return lam * jnp.where(area == 0, 1.0, kept)


def _partner_of(x: jax.Array, params: MixParams) -> jax.Array:
  if params.pairing == "flip":
    return jnp.flip(x, axis=0)  # A reversed read, fused into the blend: no gather.
  return jnp.take(x, params.partner, axis=0, mode="clip")


def _blend(x: jax.Array, x_partner: jax.Array, lam: jax.Array) -> jax.Array:
  """`lam·x + (1-lam)·x_partner` in (at least) float32, exact where lam == 1."""
  compute = jnp.promote_types(x.dtype, jnp.float32)
  lam = lam.reshape(lam.shape + (1,) * (x.ndim - lam.ndim))
  mixed = lam * x.astype(compute) + (1.0 - lam) * x_partner.astype(compute)
  # The select keeps α == 0 bit-exact (also for -0.0, inf and NaN pixels) at no memory cost.
  return jnp.where(lam == 1.0, x, mixed.astype(x.dtype))


def apply_mix(inputs: Any, labels: jax.Array, params: MixParams) -> tuple[Any, jax.Array]:
  """Mixes a batch with its partners using given parameters (deterministic).

  For each example i with partner p = `params.partner[i]`:

  * without a box: `x'_i = λ_i·x_i + (1-λ_i)·x_p` for every leaf of `inputs`;
  * with a box: the same blend outside the box, `x_p` inside it (CutMix);
  * `y'_i = w_i·y_i + (1-w_i)·y_p`, with `w` from :func:`self_weight`.

  Args:
    inputs: a floating array or a pytree of floating arrays, each with leading batch
      dimension B. With a box, a single `[B, H, W, C]` image array.
    labels: floating `[B, C]` one-hot or soft labels.
    params: the parameters, e.g. from :func:`mixjax.sample_mixup_params`.

  Returns:
    `(inputs, labels)` mixed, with the same structure, shapes and dtypes.

  Example:
    >>> params = mixjax.sample_mixup_params(key, 8, alpha=0.4, mode="elem", pairing="flip")
    >>> x, y = mixjax.apply_mix(images, mixjax.one_hot(labels, 10), params)
    >>> bool(jnp.allclose(y[jnp.arange(8), labels], params.lam))  # own label weight is λ
    True
  """
  batch_size = _checks.check_labels(labels)
  if params.partner.shape != (batch_size,):
    raise ValueError(
      f"`params.partner` must have shape ({batch_size},) to match `labels`, "
      f"got {params.partner.shape}."
    )
  if params.box is not None:
    _checks.check_images(inputs, "inputs")
  _checks.check_inputs(inputs, batch_size)
  return _apply_mix(inputs, labels, params)


def _apply_mix(inputs: Any, labels: jax.Array, params: MixParams) -> tuple[Any, jax.Array]:
  lam = jnp.asarray(params.lam, jnp.float32)
  if params.box is None:
    mixed = jax.tree.map(lambda x: _blend(x, _partner_of(x, params), lam), inputs)
    image_size = None
  else:
    shape = jnp.shape(inputs)
    image_size = shape[1:3]
    rows = _masks.to_rows(inputs, shape)  # [B, H, W·C]
    x_partner = _partner_of(rows, params)
    pasted = _masks.box_mask(params.box, shape)
    mixed = jnp.where(pasted, x_partner, _blend(rows, x_partner, lam)).reshape(shape)
  weight = _self_weight(params, image_size)
  mixed_labels = _blend(labels, _partner_of(labels, params), weight)
  return mixed, mixed_labels
