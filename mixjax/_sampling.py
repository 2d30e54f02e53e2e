"""Sampling the parameters of a mix: λ, partners and CutMix boxes, as :class:`MixParams`.

* Example i is mixed with example `partner[i]`.
* `lam` is the blend weight of the example itself: 1 keeps it, 0 replaces it; a float32
  scalar in batch mode (one λ for the batch, as in the mixup paper) or `[B]` in elem mode.
* `box` is the rectangle pasted from the partner (CutMix): `[4]` in batch mode, `[B, 4]`
  in elem mode, or None when nothing is pasted.

Each public sampler checks its arguments once; :func:`sample_lambda` and
:func:`sample_partners` have unchecked twins that the composite samplers call.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp

from mixjax import _checks


@functools.partial(
  jax.tree_util.register_dataclass,
  data_fields=("lam", "partner", "box"),
  meta_fields=("pairing",),
)
@dataclasses.dataclass(frozen=True)
class MixParams:
  """Everything needed to mix a batch deterministically.

  Attributes:
    lam: float32 `[]` or `[B]`, blend weight of each example itself.
    partner: int32 `[B]`, index of the example each example is mixed with.
    box: int32 `[4]` or `[B, 4]` `(top, left, bottom, right)` pasted from the partner,
      or None (no pasting; mixup).
    pairing: static. `"permute"` gathers `x[partner]`; `"flip"` promises that
      `partner == B - 1 - arange(B)` so that the partner batch is a reversal, not a gather.
  """

  lam: jax.Array
  partner: jax.Array
  box: jax.Array | None = None
  pairing: str = "permute"


def sample_lambda(
  key: jax.Array, alpha: jax.typing.ArrayLike, shape: tuple[int, ...] = ()
) -> jax.Array:
  """Samples λ ~ Beta(α, α).

  Args:
    key: a PRNG key.
    alpha: the concentration α >= 0, a scalar; may be traced (changing it does not
      recompile). α == 0 means "no mixing" and gives exactly 1.0.
    shape: the shape of the sample.

  Returns:
    float32 array of `shape` with values in [0, 1].
  """
  _checks.check_alpha(alpha)
  return _sample_lambda(key, alpha, shape)


def _sample_lambda(
  key: jax.Array, alpha: jax.typing.ArrayLike, shape: tuple[int, ...]
) -> jax.Array:
  alpha = jnp.asarray(alpha, jnp.float32)
  positive = alpha > 0
  safe_alpha = jnp.where(positive, alpha, 1.0)
  lam = jax.random.beta(key, safe_alpha, safe_alpha, shape, dtype=jnp.float32)
  return jnp.where(positive, lam, jnp.ones(shape, jnp.float32))


def sample_partners(key: jax.Array, batch_size: int, *, pairing: str = "permute") -> jax.Array:
  """Samples the partner of every example.

  Args:
    key: a PRNG key (unused for `"flip"`).
    batch_size: B.
    pairing: `"permute"` (a uniformly random permutation, as in the mixup paper's code)
      or `"flip"` (example i is paired with B - 1 - i).

  Returns:
    int32 `[B]` partner indices, a permutation of `arange(B)`.
  """
  _checks.check_batch_size(batch_size)
  _checks.check_choice(pairing, "pairing", _checks.PAIRINGS)
  return _sample_partners(key, batch_size, pairing)


def _sample_partners(key: jax.Array, batch_size: int, pairing: str) -> jax.Array:
  if pairing == "flip":
    return jnp.arange(batch_size - 1, -1, -1, dtype=jnp.int32)
  return jax.random.permutation(key, batch_size).astype(jnp.int32)


def sample_box(key: jax.Array, lam: jax.Array, image_size: tuple[int, int]) -> jax.Array:
  """Samples CutMix boxes whose area is about `1 - lam` of the image.

  The box has height `floor(H·sqrt(1-λ))` and width `floor(W·sqrt(1-λ))`, is centred on a
  uniformly random pixel and is clipped at the image border (Yun et al. 2019). Clipping
  shrinks it, so use :func:`mixjax.self_weight` for the exact kept fraction.

  Args:
    key: a PRNG key.
    lam: float32 `[]` or `[B]`, the sampled λ.
    image_size: `(H, W)`.

  Returns:
    int32 `lam.shape + (4,)` boxes `(top, left, bottom, right)`, half-open.
  """
  height, width = image_size
  lam = jnp.asarray(lam, jnp.float32)
  cut = jnp.sqrt(1.0 - lam)
  cut_h = jnp.floor(height * cut).astype(jnp.int32)
  cut_w = jnp.floor(width * cut).astype(jnp.int32)
  key_y, key_x = jax.random.split(key)
  centre_y = jax.random.randint(key_y, lam.shape, 0, height, dtype=jnp.int32)
  centre_x = jax.random.randint(key_x, lam.shape, 0, width, dtype=jnp.int32)
  top = centre_y - cut_h // 2
  left = centre_x - cut_w // 2
  box = jnp.stack([top, left, top + cut_h, left + cut_w], axis=-1)
  upper = jnp.array([height, width, height, width], jnp.int32)
  return jnp.clip(box, 0, upper)


def _check_mix(
  batch_size: int, mode: str, pairing: str, *, switch_prob: Any = None, **alphas: Any
) -> tuple[int, ...]:
  """The checks of every mix: B, mode, pairing, the named Beta concentrations (and the
  switch probability of mixup-or-CutMix, unless None).

  Returns:
    The shape of one draw of λ (or a box): `()` in batch mode, `(B,)` in elem mode.
  """
  _checks.check_batch_size(batch_size)
  shape = _checks.lam_shape(batch_size, mode)
  _checks.check_choice(pairing, "pairing", _checks.PAIRINGS)
  for name, alpha in alphas.items():
    _checks.check_alpha(alpha, name)
  if switch_prob is not None:
    _checks.check_probability(switch_prob, "switch_prob")
  return shape


def sample_mixup_params(
  key: jax.Array,
  batch_size: int,
  *,
  alpha: jax.typing.ArrayLike = 1.0,
  mode: str = "batch",
  pairing: str = "permute",
) -> MixParams:
  """Samples the parameters of a mixup (Zhang et al. 2017) of a batch.

  Args:
    key: a PRNG key.
    batch_size: B.
    alpha: Beta(α, α) concentration; 0 disables mixing.
    mode: `"batch"` (one λ) or `"elem"` (one λ per example).
    pairing: `"permute"` or `"flip"`, see :func:`sample_partners`.

  Returns:
    :class:`MixParams` with `box=None`.
  """
  shape = _check_mix(batch_size, mode, pairing, alpha=alpha)
  key_lam, key_partner = jax.random.split(key)
  lam = _sample_lambda(key_lam, alpha, shape)
  partner = _sample_partners(key_partner, batch_size, pairing)
  return MixParams(lam=lam, partner=partner, box=None, pairing=pairing)


def sample_cutmix_params(
  key: jax.Array,
  batch_size: int,
  image_size: tuple[int, int],
  *,
  alpha: jax.typing.ArrayLike = 1.0,
  mode: str = "batch",
  pairing: str = "permute",
) -> MixParams:
  """Samples the parameters of a CutMix (Yun et al. 2019) of an image batch.

  Args:
    key: a PRNG key.
    batch_size: B.
    image_size: `(H, W)`.
    alpha: Beta(α, α) concentration of the kept area; 0 disables mixing.
    mode: `"batch"` (one box) or `"elem"` (one box per example).
    pairing: `"permute"` or `"flip"`.

  Returns:
    :class:`MixParams` with `lam` all ones (nothing is blended) and the boxes.
  """
  shape = _check_mix(batch_size, mode, pairing, alpha=alpha)
  key_lam, key_box, key_partner = jax.random.split(key, 3)
  box = sample_box(key_box, _sample_lambda(key_lam, alpha, shape), image_size)
  partner = _sample_partners(key_partner, batch_size, pairing)
  return MixParams(lam=jnp.ones(shape, jnp.float32), partner=partner, box=box, pairing=pairing)


def sample_mixup_or_cutmix_params(
  key: jax.Array,
  batch_size: int,
  image_size: tuple[int, int],
  *,
  mixup_alpha: jax.typing.ArrayLike = 1.0,
  cutmix_alpha: jax.typing.ArrayLike = 1.0,
  switch_prob: jax.typing.ArrayLike = 0.5,
  mode: str = "batch",
  pairing: str = "permute",
) -> MixParams:
  """Samples either mixup or CutMix parameters, CutMix with probability `switch_prob`.

  The choice is a traced Bernoulli draw (per batch, or per example in elem mode), so
  there is no Python branch on a random value and one compiled graph serves both.

  Returns:
    :class:`MixParams` where the examples that drew CutMix have `lam == 1` and a box,
    and the others have their mixup λ and an empty box.
  """
  shape = _check_mix(
    batch_size,
    mode,
    pairing,
    switch_prob=switch_prob,
    mixup_alpha=mixup_alpha,
    cutmix_alpha=cutmix_alpha,
  )
  key_switch, key_mixup, key_cutmix, key_box, key_partner = jax.random.split(key, 5)
  use_cutmix = jax.random.bernoulli(key_switch, jnp.asarray(switch_prob, jnp.float32), shape)
  mixup_lam = _sample_lambda(key_mixup, mixup_alpha, shape)
  box = sample_box(key_box, _sample_lambda(key_cutmix, cutmix_alpha, shape), image_size)
  return MixParams(
    lam=jnp.where(use_cutmix, 1.0, mixup_lam),
    partner=_sample_partners(key_partner, batch_size, pairing),
    box=jnp.where(use_cutmix[..., None], box, jnp.zeros_like(box)),
    pairing=pairing,
  )
