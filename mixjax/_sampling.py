"""Sampling the parameters of a mix: λ, partners and CutMix boxes, as :class:`MixParams`.

* Example i is mixed with example `partner[i]`.
* `lam` is the blend weight of the example itself: 1 keeps it, 0 replaces it; a float32
  scalar in batch mode (one λ for the batch, as in the mixup paper) or `[B]` in elem mode.
* `box` is the box pasted from the partner (CutMix): `[2S]` in batch mode, `[B, 2S]` in
  elem mode, `(starts..., stops...)` over the S spatial axes (`(top, left, bottom, right)`
  for images), or None when nothing is pasted.
* `mask` is a pixel mask pasted from the partner (FMix): bool `[*spatial]` or
  `[B, *spatial]`, or None.

Every sampler cuts all its random words from one threefry draw, `_words.draw`
(:mod:`mixjax._words`): one key and one counter range per op, whatever the number of
parameters; each field is hashed where it is used.

`probability` (every mixing op): a Bernoulli draw per batch (batch mode) or per example
(elem mode) from the op's `gate` words, which are drawn whatever `probability` is, so that
the other draws are those of `probability=1`; where it fails, λ = 1 and nothing is
pasted: the identity, bit for bit.

Traced hyperparameters out of range (α < 0, NaN or inf, a probability outside [0, 1],
...) make λ NaN, so that the op's outputs are NaN (what a NaN guard on the loss
catches) instead of silently meaning something else.

Each public sampler checks its arguments once; :func:`sample_lambda` and
:func:`sample_partners` have unchecked twins that the composite samplers call.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp

from mixjax import _beta
from mixjax import _checks
from mixjax import _words


@functools.partial(
  jax.tree_util.register_dataclass,
  data_fields=("lam", "partner", "box", "mask"),
  meta_fields=("pairing",),
)
@dataclasses.dataclass(frozen=True)
class MixParams:
  """Everything needed to mix a batch deterministically.

  Attributes:
    lam: float32 `[]` or `[B]`, blend weight of each example itself.
    partner: int32 `[B]`, index of the example each example is mixed with.
    box: int32 `[2S]` or `[B, 2S]` `(starts..., stops...)` pasted from the partner
      (`(top, left, bottom, right)` for images), or None (no box).
    pairing: static. `"permute"` gathers `x[partner]`; `"flip"` promises that
      `partner == B - 1 - arange(B)` so that the partner batch is a reversal, not a gather;
      `"roll"` that `partner == (arange(B) - 1) % B`, the batch rolled by one.
    mask: bool `[*spatial]` or `[B, *spatial]`, True where the partner is pasted (FMix),
      or None. At most one of `box` and `mask` is set.
  """

  lam: jax.Array
  partner: jax.Array
  box: jax.Array | None = None
  pairing: str = "permute"
  mask: jax.Array | None = None


def sample_lambda(
  key: jax.Array, alpha: jax.typing.ArrayLike, shape: tuple[int, ...] = ()
) -> jax.Array:
  """Samples λ ~ Beta(α, α), with no loop in the graph (:mod:`mixjax._beta`).

  Args:
    key: a PRNG key.
    alpha: the concentration α >= 0, a scalar; may be traced (changing it does not
      recompile). α == 0 means "no mixing" and gives exactly 1.0.
    shape: the shape of the sample.

  Returns:
    float32 array of `shape` with values in [0, 1].

  Example:
    >>> lam = mixjax.sample_lambda(key, 0.4, (8,))
    >>> lam.shape, lam.dtype
    ((8,), dtype('float32'))
    >>> float(mixjax.sample_lambda(key, 0.0))  # α = 0: no mixing
    1.0
  """
  _checks.check_key(key)
  _checks.check_alpha(alpha)
  _checks.check_shape(shape, "shape")
  return _sample_lambda(key, alpha, shape)


def _sample_lambda(
  key: jax.Array, alpha: jax.typing.ArrayLike, shape: tuple[int, ...]
) -> jax.Array:
  return lambda_from_words(_words.draw(key, lam=lambda_field(shape))["lam"], alpha, shape)


def lambda_field(shape: tuple[int, ...]) -> tuple[tuple[int], tuple[int]]:
  """The words of λ `shape` (:func:`lambda_from_words`), a field of two parts for
  :func:`mixjax._words.draw`: the closed form's, then the pool's."""
  closed, pool = _beta.lambda_words(shape)
  return ((closed,), (pool,))


_TINY = float(jnp.finfo(jnp.float32).tiny)  # 2⁻¹²⁶: α below it counts as 0.


def _mixes(alpha: Any) -> Any:
  """Whether Beta(α, α) draws mix at all: α at least float32's smallest normal number
  (a bool for a concrete α, a traced bool otherwise; see :func:`lambda_from_words`)."""
  if _checks.is_concrete(alpha):
    return float(alpha) >= _TINY
  return jnp.asarray(alpha, jnp.float32) >= _TINY


def lambda_from_words(
  words: tuple[jax.Array, jax.Array], alpha: jax.typing.ArrayLike, shape: tuple[int, ...]
) -> jax.Array:
  """λ ~ Beta(α, α) `shape` from words `lambda_field(shape)`; exactly 1 where α == 0.

  An α below float32's smallest normal number (1.2e-38) counts as 0, whether traced or
  not (XLA flushes float32 subnormals to zero).
  """
  positive = _mixes(alpha)
  if _checks.is_concrete(alpha):
    if not positive:
      return jnp.ones(shape, jnp.float32)
    return _beta.beta_from_words(words, alpha, shape)
  alpha = jnp.asarray(alpha, jnp.float32)
  lam = _beta.beta_from_words(words, jnp.where(positive, alpha, 1.0), shape)
  return jnp.where(positive, lam, jnp.ones(shape, jnp.float32))


def sample_partners(key: jax.Array, batch_size: int, *, pairing: str = "permute") -> jax.Array:
  """Samples the partner of every example.

  Args:
    key: a PRNG key (unused for `"flip"` and `"roll"`).
    batch_size: B.
    pairing: `"permute"` (a uniformly random permutation, as in the mixup paper's code),
      `"flip"` (example i is paired with B - 1 - i, as in timm) or `"roll"` (example i
      with i - 1 and example 0 with B - 1, the batch rolled by one, as in torchvision's
      `v2.MixUp` / `v2.CutMix`). Flip and roll pair by position, so they are as random as
      the batch order: meant for shuffled data. Roll is the cheapest: the partner of an
      example is the one read just before it, still in the cache on a CPU.

  Returns:
    int32 `[B]` partner indices, a permutation of `arange(B)`.
  """
  _checks.check_key(key)
  _checks.check_batch_size(batch_size)
  _checks.check_choice(pairing, "pairing", _checks.PAIRINGS)
  return _sample_partners(key, batch_size, pairing)


def _sample_partners(key: jax.Array, batch_size: int, pairing: str) -> jax.Array:
  field = partner_field(batch_size, pairing)
  return partners_from_words(_words.bits(key, field), batch_size, pairing)


def partner_field(batch_size: int, pairing: str) -> tuple[int, ...]:
  """The shape of the partner words: `[R, B]` for `"permute"`, none for `"flip"` and
  `"roll"`."""
  rounds = _words.permutation_rounds(batch_size) if pairing == "permute" else 0
  return (rounds, batch_size)


def partners_from_words(words: jax.Array, batch_size: int, pairing: str) -> jax.Array:
  """The partners from words `partner_field(batch_size, pairing)`, int32 `[B]`."""
  if pairing == "flip":
    return jnp.arange(batch_size - 1, -1, -1, dtype=jnp.int32)
  if pairing == "roll":  # i - 1 mod B, without the concatenate of a `jnp.roll`.
    return (jnp.arange(batch_size, dtype=jnp.int32) + (batch_size - 1)) % batch_size
  return _words.permutation(words)


def sample_box(key: jax.Array, lam: jax.Array, image_size: tuple[int, ...]) -> jax.Array:
  """Samples CutMix boxes whose volume is about `1 - lam` of the input.

  Over S spatial axes, side d gets length `floor(d·(1-λ)^(1/S))` (`sqrt` for images, as in
  Yun et al. 2019); the box is centred on a uniformly random pixel and clipped at the
  border. Clipping shrinks it, so use :func:`mixjax.self_weight` for the exact kept fraction.

  Args:
    key: a PRNG key.
    lam: float32 `[]` or `[B]`, the sampled λ.
    image_size: the spatial shape, `(L,)`, `(H, W)` or `(T, H, W)`...

  Returns:
    int32 `lam.shape + (2S,)` boxes `(starts..., stops...)`, half-open.
  """
  _checks.check_key(key)
  _checks.check_lam(lam)
  image_size = _checks.check_image_size(image_size, None)
  lam = jnp.asarray(lam, jnp.float32)
  words = _words.bits(key, box_field(lam.shape, image_size))
  return box_from_words(words, lam, image_size)


def box_field(shape: tuple[int, ...], image_size: tuple[int, ...]) -> tuple[int, ...]:
  """The words of one position per axis of `image_size` for each of `shape` boxes."""
  return (len(image_size), *shape)


def box_from_words(words: jax.Array, lam: jax.Array, image_size: tuple[int, ...]) -> jax.Array:
  """:func:`sample_box` from words `box_field(lam.shape, image_size)` (a centre per axis)."""
  cut = _nth_root(1.0 - lam, len(image_size))
  starts, stops = [], []
  for axis_words, size in zip(words, image_size, strict=True):
    side = jnp.floor(size * cut).astype(jnp.int32)
    centre = _words.below(axis_words, size)
    starts.append(centre - side // 2)
    stops.append(centre - side // 2 + side)
  box = jnp.stack(starts + stops, axis=-1)
  return jnp.clip(box, 0, jnp.array(tuple(image_size) * 2, jnp.int32))


def _nth_root(x: jax.Array, n: int) -> jax.Array:
  if n == 1:
    return x
  if n == 2:
    return jnp.sqrt(x)
  return jnp.where(x > 0, jnp.power(jnp.maximum(x, 1e-30), 1.0 / n), 0.0)


def sample_box_minmax(
  key: jax.Array,
  shape: tuple[int, ...],
  image_size: tuple[int, ...],
  cutmix_minmax: tuple[Any, Any],
) -> jax.Array:
  """Samples boxes with sides drawn between two fractions of the sides (timm's minmax).

  As in timm's `rand_bbox_minmax`, each side `s_d` is a uniform integer in
  `[floor(lo·d), floor(hi·d))` (exactly `floor(lo·d)` when that range is empty), drawn
  independently per axis, and no λ is used. The box lies inside the input: its start is
  uniform in `[0, d - s_d]` (timm's start is uniform in `[0, d - s_d)`, so its boxes never
  touch the far border; here every position is possible).

  Args:
    key: a PRNG key.
    shape: `()` (one box) or `(B,)`.
    image_size: the spatial shape.
    cutmix_minmax: `(lo, hi)` with `0 <= lo < hi <= 1`; may be traced.

  Returns:
    int32 `shape + (2S,)` boxes.
  """
  _checks.check_key(key)
  _checks.check_shape(shape, "shape", max_rank=1, low=1)  # () or (B,).
  image_size = _checks.check_image_size(image_size, None)
  minmax = check_minmax(cutmix_minmax)
  if minmax is None:
    raise ValueError("`cutmix_minmax` must be (lo, hi) with 0 <= lo < hi <= 1, got None.")
  words = _words.bits(key, minmax_field(shape, image_size))
  return minmax_box_from_words(words, image_size, minmax)


def minmax_field(shape: tuple[int, ...], image_size: tuple[int, ...]) -> tuple[int, ...]:
  """The shape of the words of :func:`sample_box_minmax`: a side and a start per axis."""
  return (2, len(image_size), *shape)


def minmax_box_from_words(
  words: jax.Array, image_size: tuple[int, ...], cutmix_minmax: tuple[Any, Any]
) -> jax.Array:
  """:func:`sample_box_minmax` from words `minmax_field(shape, image_size)`."""
  lo, hi = (jnp.asarray(v, jnp.float32) for v in cutmix_minmax)
  starts, stops = [], []
  for side_words, start_words, size in zip(words[0], words[1], image_size, strict=True):
    low = jnp.floor(lo * size).astype(jnp.int32)
    high = jnp.maximum(jnp.floor(hi * size).astype(jnp.int32), low + 1)
    side = low + _words.below(side_words, high - low)
    start = _words.below(start_words, size - side + 1)
    starts.append(start)
    stops.append(start + side)
  return jnp.stack(starts + stops, axis=-1)


_NO_SWITCH = object()  # `_check_mix` of a mix without a switch probability.


def _check_mix(
  batch_size: int,
  mode: str,
  pairing: str,
  *,
  switch_prob: Any = _NO_SWITCH,
  probability: Any = 1.0,
  **alphas: Any,
) -> tuple[int, ...]:
  """The checks of every mix: B, mode, pairing, the named Beta concentrations, the
  probability of mixing (and the switch probability of mixup-or-CutMix, where given).

  Returns:
    The shape of one draw of λ (or a box): `()` in batch mode, `(B,)` in elem mode.
  """
  _checks.check_batch_size(batch_size)
  shape = _checks.lam_shape(batch_size, mode)
  _checks.check_choice(pairing, "pairing", _checks.PAIRINGS)
  for name, alpha in alphas.items():
    _checks.check_alpha(alpha, name)
  if switch_prob is not _NO_SWITCH:  # None is refused like any non-number.
    _checks.check_probability(switch_prob, "switch_prob")
  _checks.check_probability(probability, "probability")
  return shape


def check_minmax(cutmix_minmax: Any) -> tuple[Any, Any] | None:
  """Checks `cutmix_minmax`: None or `(lo, hi)` with `0 <= lo < hi <= 1`."""
  if cutmix_minmax is None:
    return None
  return _checks.check_interval(
    cutmix_minmax,
    "cutmix_minmax",
    low=0.0,
    high=1.0,
    strict=True,
    expected="(lo, hi) with 0 <= lo < hi <= 1 (fractions of the sides)",
  )


def guard(lam: jax.Array, *conditions: Any) -> jax.Array:
  """`lam`, or NaN where a traced hyperparameter is out of range (see the module doc)."""
  ok = _checks.all_valid(*conditions)
  return lam if ok is True else jnp.where(ok, lam, jnp.float32(jnp.nan))


def _alpha_ok(alpha: Any) -> Any:
  return _checks.valid(alpha, low=0.0)


def _probability_ok(p: Any) -> Any:
  return _checks.valid(p, low=0.0, high=1.0)


def _minmax_ok(minmax: tuple[Any, Any] | None) -> Any:
  if minmax is None:
    return True
  return _checks.valid_interval(minmax, low=0.0, high=1.0, strict=True)


def gate(words: jax.Array, probability: Any) -> jax.Array | None:
  """Whether each draw mixes: Bernoulli(`probability`) from the op's `gate` words (shaped
  like λ), or None when `probability` is 1. The words are drawn whatever `probability`
  is, so the op's other draws do not change with it."""
  if _checks.is_concrete(probability) and float(probability) == 1.0:
    return None
  return _words.bernoulli(words, probability)


def gated(params: MixParams, mixes: jax.Array | None) -> MixParams:
  """`params` with the draws where `mixes` is False turned into the identity."""
  if mixes is None:
    return params
  lam = jnp.where(mixes, params.lam, jnp.where(jnp.isnan(params.lam), params.lam, 1.0))
  box, mask = params.box, params.mask
  if box is not None:
    box = jnp.where(mixes[..., None], box, jnp.zeros_like(box))
  if mask is not None:
    mask = mask & mixes.reshape(mixes.shape + (1,) * (mask.ndim - mixes.ndim))
  return dataclasses.replace(params, lam=lam, box=box, mask=mask)


def sample_mixup_params(
  key: jax.Array,
  batch_size: int,
  *,
  alpha: jax.typing.ArrayLike = 1.0,
  mode: str = "batch",
  pairing: str = "permute",
  probability: jax.typing.ArrayLike = 1.0,
) -> MixParams:
  """Samples the parameters of a mixup (Zhang et al. 2017) of a batch.

  Args:
    key: a PRNG key.
    batch_size: B.
    alpha: Beta(α, α) concentration; 0 disables mixing.
    mode: `"batch"` (one λ) or `"elem"` (one λ per example).
    pairing: `"permute"`, `"flip"` or `"roll"`, see :func:`sample_partners`.
    probability: the probability that the batch (or, in elem mode, each example) is
      mixed; the others keep λ = 1.

  Returns:
    :class:`MixParams` with `box=None`.
  """
  _checks.check_key(key)
  shape = _check_mix(batch_size, mode, pairing, alpha=alpha, probability=probability)
  words = _words.draw(
    key,
    lam=lambda_field(shape),
    partner=partner_field(batch_size, pairing),
    gate=shape,
  )
  lam = lambda_from_words(words["lam"], alpha, shape)
  lam = guard(lam, _alpha_ok(alpha), _probability_ok(probability))
  partner = partners_from_words(words["partner"], batch_size, pairing)
  params = MixParams(lam=lam, partner=partner, box=None, pairing=pairing)
  return gated(params, gate(words["gate"], probability))


def _box_fields(
  shape: tuple[int, ...], image_size: tuple[int, ...], minmax: tuple[Any, Any] | None
) -> dict[str, Any]:
  """The words of a CutMix box: λ and a centre per axis, or timm's minmax side and start."""
  if minmax is not None:
    return {"box": minmax_field(shape, image_size)}
  return {"box_lam": lambda_field(shape), "box": box_field(shape, image_size)}


def _cutmix_box(
  words: dict[str, Any],
  alpha: jax.typing.ArrayLike,
  image_size: tuple[int, ...],
  minmax: tuple[Any, Any] | None,
) -> jax.Array:
  """CutMix boxes from λ ~ Beta(α, α), or from timm's minmax when it is given."""
  if minmax is not None:
    return minmax_box_from_words(words["box"], image_size, minmax)
  lam = lambda_from_words(words["box_lam"], alpha, words["box"].shape[1:])
  return box_from_words(words["box"], lam, image_size)


def _switch(
  words: jax.Array, switch_prob: Any, mixup_alpha: Any, cutmix_alpha: Any, minmax: Any
) -> jax.Array:
  """Where CutMix is used: Bernoulli(`switch_prob`) when both methods are on (timm's rule)."""
  mixup_on = _mixes(mixup_alpha)
  cutmix_on = True if minmax is not None else _mixes(cutmix_alpha)
  drawn = _words.bernoulli(words, switch_prob)
  return jnp.where(mixup_on, drawn & cutmix_on, cutmix_on)


def sample_cutmix_params(
  key: jax.Array,
  batch_size: int,
  image_size: tuple[int, ...],
  *,
  alpha: jax.typing.ArrayLike = 1.0,
  mode: str = "batch",
  pairing: str = "permute",
  cutmix_minmax: tuple[Any, Any] | None = None,
  probability: jax.typing.ArrayLike = 1.0,
) -> MixParams:
  """Samples the parameters of a CutMix (Yun et al. 2019) of a batch.

  Args:
    key: a PRNG key.
    batch_size: B.
    image_size: the spatial shape: `(H, W)` for images, `(L,)` for sequences, `(T, H, W)`
      for video.
    alpha: Beta(α, α) concentration of the kept volume; 0 disables mixing.
    mode: `"batch"` (one box) or `"elem"` (one box per example).
    pairing: `"permute"`, `"flip"` or `"roll"` (see :func:`mixjax.sample_partners`).
    cutmix_minmax: None, or `(lo, hi)`: box sides drawn between these fractions of the
      sides, without λ (timm's `cutmix_minmax`, see :func:`sample_box_minmax`).
    probability: the probability that the batch (or each example) is mixed.

  Returns:
    :class:`MixParams` with `lam` all ones (nothing is blended) and the boxes.
  """
  _checks.check_key(key)
  shape = _check_mix(batch_size, mode, pairing, alpha=alpha, probability=probability)
  image_size = _checks.check_image_size(image_size, None)
  minmax = check_minmax(cutmix_minmax)
  words = _words.draw(
    key,
    **_box_fields(shape, image_size, minmax),
    partner=partner_field(batch_size, pairing),
    gate=shape,
  )
  box = _cutmix_box(words, alpha, image_size, minmax)
  partner = partners_from_words(words["partner"], batch_size, pairing)
  ok = (_alpha_ok(alpha), _probability_ok(probability), _minmax_ok(minmax))
  lam = guard(jnp.ones(shape, jnp.float32), *ok)
  params = MixParams(lam=lam, partner=partner, box=box, pairing=pairing)
  return gated(params, gate(words["gate"], probability))


def sample_mixup_or_cutmix_params(
  key: jax.Array,
  batch_size: int,
  image_size: tuple[int, ...],
  *,
  mixup_alpha: jax.typing.ArrayLike = 1.0,
  cutmix_alpha: jax.typing.ArrayLike = 1.0,
  switch_prob: jax.typing.ArrayLike = 0.5,
  mode: str = "batch",
  pairing: str = "permute",
  cutmix_minmax: tuple[Any, Any] | None = None,
  probability: jax.typing.ArrayLike = 1.0,
) -> MixParams:
  """Samples either mixup or CutMix parameters, CutMix with probability `switch_prob`.

  The choice is a traced Bernoulli draw (per batch, or per example in elem mode), so
  there is no Python branch on a random value and one compiled graph serves both.
  `image_size`, `cutmix_minmax` and `probability` are as in :func:`sample_cutmix_params`.
  As in timm, a method whose α is 0 is off and the other one is always used (CutMix is on
  with `cutmix_minmax` whatever its α); with both off nothing is mixed.

  Returns:
    :class:`MixParams` where the examples that drew CutMix have `lam == 1` and a box,
    and the others have their mixup λ and an empty box.
  """
  _checks.check_key(key)
  shape = _check_mix(
    batch_size,
    mode,
    pairing,
    switch_prob=switch_prob,
    probability=probability,
    mixup_alpha=mixup_alpha,
    cutmix_alpha=cutmix_alpha,
  )
  image_size = _checks.check_image_size(image_size, None)
  minmax = check_minmax(cutmix_minmax)
  words = _words.draw(
    key,
    switch=shape,
    lam=lambda_field(shape),
    **_box_fields(shape, image_size, minmax),
    partner=partner_field(batch_size, pairing),
    gate=shape,
  )
  use_cutmix = _switch(words["switch"], switch_prob, mixup_alpha, cutmix_alpha, minmax)
  mixup_lam = lambda_from_words(words["lam"], mixup_alpha, shape)
  box = _cutmix_box(words, cutmix_alpha, image_size, minmax)
  ok = [_alpha_ok(a) for a in (mixup_alpha, cutmix_alpha)]
  ok += [_probability_ok(switch_prob), _probability_ok(probability), _minmax_ok(minmax)]
  params = MixParams(
    lam=guard(jnp.where(use_cutmix, 1.0, mixup_lam), *ok),
    partner=partners_from_words(words["partner"], batch_size, pairing),
    box=jnp.where(use_cutmix[..., None], box, jnp.zeros_like(box)),
    pairing=pairing,
  )
  return gated(params, gate(words["gate"], probability))
