"""FMix (Harris et al. 2020, arXiv 2002.12047): paste a low-frequency Fourier mask.

A mask is grey noise with a `1 / f^decay_power` spectrum (random complex normal
coefficients, inverse real FFT over the spatial axes, `jnp.fft.irfftn`), binarised so
that exactly `round(λ·N)` of the N pixels, those with the largest values, keep the
example (the λ-quantile); the rest is pasted from the partner. The label weight is the
exact kept count over N. Any number of spatial axes, as for CutMix; one mask per batch,
or per example in elem mode, all in the compiled graph.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mixjax import _apply
from mixjax import _beta
from mixjax import _checks
from mixjax import _ops
from mixjax import _sampling
from mixjax import _words
from mixjax._sampling import MixParams


def _spectrum_shape(image_size: tuple[int, ...]) -> tuple[int, ...]:
  """The rfft frequency grid of `image_size`: the last axis halved (plus one)."""
  return (*image_size[:-1], image_size[-1] // 2 + 1)


def _spectrum_scale(image_size: tuple[int, ...], decay_power: jax.typing.ArrayLike) -> jax.Array:
  """`1 / max(f, 1/max(size))^decay_power` over the rfft frequency grid."""
  axes = [np.fft.fftfreq(n) for n in image_size[:-1]] + [np.fft.rfftfreq(image_size[-1])]
  grid = np.meshgrid(*axes, indexing="ij")
  freq = np.sqrt(sum(g**2 for g in grid)).astype(np.float32)
  freq = np.maximum(freq, 1.0 / max(image_size)).astype(np.float32)
  power = -jnp.asarray(decay_power, jnp.float32)
  # The largest value, max(size)^δ, overflows float32 beyond δ ≈ 88.7 / ln max(size) (16 at
  # 224 pixels). There the frequencies are taken relative to the lowest: the same spectrum
  # up to a constant factor, which the λ-quantile threshold ignores. Below, as it was.
  overflows = -power * np.float32(math.log(max(image_size))) > 80.0
  return jnp.where(
    overflows,
    jnp.power(jnp.asarray(freq * max(image_size)), power),
    jnp.power(jnp.asarray(freq), power),
  )


def fmix_mask(
  key: jax.Array,
  lam: jax.Array,
  image_size: tuple[int, ...],
  *,
  decay_power: jax.typing.ArrayLike = 3.0,
) -> jax.Array:
  """FMix masks: True where the partner is pasted, exactly `N - round(λ·N)` pixels.

  Args:
    key: a PRNG key.
    lam: float32 `[]` or `[B]`, the kept fraction of each mask.
    image_size: the spatial shape (N = its product).
    decay_power: the spectrum's decay δ > 0 (larger: smoother masks); may be traced.

  Returns:
    bool `lam.shape + image_size`.
  """
  _checks.check_key(key)
  _checks.check_lam(lam)
  image_size = _checks.check_image_size(image_size, None)
  _checks.check_number(decay_power, "decay_power", low=0.0, low_open=True, expected="> 0")
  lam = jnp.asarray(lam, jnp.float32)
  words = _words.bits(key, noise_field(lam.shape, image_size))
  return mask_from_words(words, lam, image_size, decay_power)


def noise_field(shape: tuple[int, ...], image_size: tuple[int, ...]) -> tuple[int, ...]:
  """The shape of the words of the masks `shape`: a complex normal per frequency."""
  return (*shape, *_spectrum_shape(image_size), 2)


def mask_from_words(
  words: jax.Array, lam: jax.Array, image_size: tuple[int, ...], decay_power: Any
) -> jax.Array:
  """:func:`fmix_mask` from words `noise_field(lam.shape, image_size)`."""
  scale = _spectrum_scale(image_size, decay_power)
  noise = _beta.normal(words)
  spectrum = scale * jax.lax.complex(noise[..., 0], noise[..., 1])
  axes = tuple(range(-len(image_size), 0))
  grey = jnp.fft.irfftn(spectrum, s=image_size, axes=axes).astype(jnp.float32)
  pixels = math.prod(image_size)
  grey = grey.reshape(lam.shape + (pixels,))
  kept = jnp.round(lam * pixels).astype(jnp.int32)
  return (~_top_count(grey, kept)).reshape(lam.shape + tuple(image_size))


def _order_key(x: jax.Array) -> jax.Array:
  """float32 -> uint32 keys in the same order (-0.0 and +0.0 share one key)."""
  bits = jax.lax.bitcast_convert_type(jnp.where(x == 0, jnp.float32(0), x), jnp.uint32)
  return jnp.where((bits >> 31) == 1, ~bits, bits | jnp.uint32(0x80000000))


def _top_count(grey: jax.Array, count: jax.Array) -> jax.Array:
  """True at exactly `count` of the largest values of each row `[..., N]`.

  The count-th largest value t is found bit by bit, from the top bit of its order key
  down: 32 counting passes over the row (a sort of a row is far slower on XLA:CPU). All
  values above t are kept, and of those equal to t (ties: rare for continuous noise, but
  possible in float32) the first ones in index order, as many as are still needed.
  """
  key = _order_key(grey)
  threshold = jnp.zeros(count.shape + (1,), jnp.uint32)
  for bit in reversed(range(32)):
    candidate = threshold | jnp.uint32(1 << bit)
    enough = jnp.sum(key >= candidate, axis=-1, keepdims=True) >= count[..., None]
    threshold = jnp.where(enough, candidate, threshold)
  greater, equal = key > threshold, key == threshold
  needed = count[..., None] - jnp.sum(greater, axis=-1, keepdims=True)
  top = greater | (equal & (jnp.cumsum(equal, axis=-1) <= needed))
  return top & (count[..., None] > 0)


def sample_fmix_params(
  key: jax.Array,
  batch_size: int,
  image_size: tuple[int, ...],
  *,
  alpha: jax.typing.ArrayLike = 1.0,
  decay_power: jax.typing.ArrayLike = 3.0,
  mode: str = "batch",
  pairing: str = "permute",
  probability: jax.typing.ArrayLike = 1.0,
) -> MixParams:
  """Samples the parameters of an FMix: λ ~ Beta(α, α), a mask, the partners.

  Args:
    key: a PRNG key.
    batch_size: B.
    image_size: the spatial shape, e.g. `(H, W)`.
    alpha: Beta(α, α) concentration of the kept fraction; 0 disables mixing.
    decay_power: the spectrum's decay δ > 0, see :func:`fmix_mask`.
    mode: `"batch"` (one mask) or `"elem"` (one mask per example).
    pairing: `"permute"`, `"flip"` or `"roll"` (see :func:`mixjax.sample_partners`).
    probability: the probability that the batch (or each example) is mixed.

  Returns:
    :class:`mixjax.MixParams` with `lam` all ones and the `mask`; apply it with
    :func:`mixjax.apply_mix`.
  """
  _checks.check_key(key)
  shape = _sampling._check_mix(batch_size, mode, pairing, alpha=alpha, probability=probability)
  image_size = _checks.check_image_size(image_size, None)
  _checks.check_number(decay_power, "decay_power", low=0.0, low_open=True, expected="> 0")
  words = _words.draw(
    key,
    lam=_sampling.lambda_field(shape),
    partner=_sampling.partner_field(batch_size, pairing),
    gate=shape,
    noise=noise_field(shape, image_size),
  )
  lam = _sampling.lambda_from_words(words["lam"], alpha, shape)
  mask = mask_from_words(words["noise"], lam, image_size, decay_power)
  ok = (
    _sampling._alpha_ok(alpha),
    _sampling._probability_ok(probability),
    _checks.valid(decay_power, low=0.0, low_open=True),
  )
  params = MixParams(
    lam=_sampling.guard(jnp.ones(shape, jnp.float32), *ok),
    partner=_sampling.partners_from_words(words["partner"], batch_size, pairing),
    pairing=pairing,
    mask=mask,
  )
  return _sampling.gated(params, _sampling.gate(words["gate"], probability))


def fmix(
  key: jax.Array,
  images: Any,
  labels: jax.Array,
  *,
  alpha: jax.typing.ArrayLike = 1.0,
  decay_power: jax.typing.ArrayLike = 3.0,
  mode: str = "batch",
  pairing: str = "permute",
  probability: jax.typing.ArrayLike = 1.0,
) -> tuple[Any, jax.Array]:
  """FMix: paste the partner through a thresholded low-frequency Fourier mask.

  Args:
    key: a PRNG key.
    images: floating `[B, *spatial, C]`, channels last, or a pytree sharing `[B, *spatial]`.
    labels: floating `[B, K]` (weighted by the exact kept count / N), dense soft maps
      `[B, *spatial, K]` or integer class maps `[B, *spatial]` (pasted per pixel).
    alpha: Beta(α, α) concentration of the kept fraction λ; 0 returns the batch unchanged.
    decay_power: the spectrum's decay δ > 0 (the paper uses 3).
    mode: `"batch"` or `"elem"`.
    pairing: `"permute"`, `"flip"` or `"roll"` (see :func:`mixjax.sample_partners`).
    probability: the probability that the batch (or each example) is mixed.

  Returns:
    `(images, labels)` mixed, same structure, shapes and dtypes.

  Example:
    >>> x, y = mixjax.fmix(key, images, mixjax.one_hot(labels, 10), alpha=1.0, mode="elem")
    >>> x.shape, y.shape
    ((8, 32, 32, 3), (8, 10))
    >>> bool(jnp.allclose(y.sum(axis=-1), 1.0))  # still a distribution over the classes
    True
  """
  batch_size, image_size = _ops.check_pasting(images, labels)
  params = sample_fmix_params(
    key,
    batch_size,
    image_size,
    alpha=alpha,
    decay_power=decay_power,
    mode=mode,
    pairing=pairing,
    probability=probability,
  )
  return _apply._apply_mix(images, labels, params)
