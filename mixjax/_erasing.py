"""Random Erasing (Zhong et al. 2017): overwrite one random rectangle per image.

A rectangle is an int32 box `(top, left, bottom, right)`, half-open, as in CutMix: pixel
(h, w) is erased iff `top <= h < bottom` and `left <= w < right`. The sampler returns
`[B, 4]`, one box per example; an example that is not erased gets the empty box
`(0, 0, 0, 0)`. The fill value, noise included, is an input of the applying half. The box
mask is the row mask of `mixjax._masks` that CutMix uses. Labels are not affected.

:func:`random_erasing` checks the images and the fill, samples with the public
:func:`sample_erasing_params` (which checks the distribution's arguments) and applies the
boxes unchecked, so every argument is checked once.
"""

from __future__ import annotations

import functools
import math
import statistics
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mixjax import _checks
from mixjax import _masks
from mixjax import _words


def _check_ranges(area_range: Any, aspect_range: Any) -> tuple[Any, Any]:
  """Checks the area and aspect ranges (when concrete) and returns them as pairs."""
  area = _checks.check_interval(
    area_range,
    "area_range",
    low=0.0,
    low_open=True,
    high=1.0,
    expected="(low, high) area fractions with 0 < low <= high <= 1",
  )
  aspect = _checks.check_interval(
    aspect_range,
    "aspect_range",
    low=0.0,
    low_open=True,
    expected="(low, high) height/width ratios with 0 < low <= high < inf",
  )
  return area, aspect


def _hyperparameters_ok(probability: Any, area: Any, aspect: Any) -> Any:
  """True, or a traced boolean where a traced hyperparameter is out of range."""
  return _checks.all_valid(
    _checks.valid(probability, low=0.0, high=1.0),
    _checks.valid_interval(area, low=0.0, low_open=True, high=1.0),
    _checks.valid_interval(aspect, low=0.0, low_open=True),
  )


def sample_erasing_params(
  key: jax.Array,
  batch_size: int,
  image_size: tuple[int, int],
  *,
  probability: jax.typing.ArrayLike = 0.5,
  area_range: Any = (0.02, 0.4),
  aspect_range: Any = (0.3, 3.3),
  mode: str = "elem",
) -> jax.Array:
  """Samples the rectangles of a Random Erasing of a batch.

  With probability `probability` an example is erased. Its rectangle has area fraction
  `s ~ U(area_range)` and aspect ratio (height / width) `r` with `log r ~ U(log
  aspect_range)`, so tall and wide rectangles are equally likely; its side lengths are
  `h = round(sqrt(s·H·W·r))` and `w = round(sqrt(s·H·W/r))`, clipped to `[1, H]` and
  `[1, W]`; its top-left corner is uniform over the positions where it fits,
  `top ~ U{0, ..., H-h}` and `left ~ U{0, ..., W-w}`.

  The paper redraws `s` and `r` until the rectangle fits; clipping instead keeps the graph
  loop-free, and makes a rectangle smaller than `s·H·W` only when a side would exceed the
  image (for square images: never when `area_high · max(aspect_high, 1/aspect_low) <= 1`).

  Args:
    key: a PRNG key.
    batch_size: B, a positive Python int.
    image_size: `(H, W)`, positive Python ints.
    probability: chance that an example (or, in batch mode, the batch) is erased, in
      [0, 1]; may be traced (changing it does not recompile).
    area_range: `(low, high)` with `0 < low <= high <= 1`; may be traced.
    aspect_range: `(low, high)` height/width ratios with `0 < low <= high`; may be traced.
    mode: `"elem"` (an independent decision and rectangle per example) or `"batch"` (one
      decision and one rectangle shared by the whole batch).

  Returns:
    int32 `[B, 4]` boxes `(top, left, bottom, right)`, half-open; `(0, 0, 0, 0)` for the
    examples that are not erased. In batch mode all rows are equal.

  Raises:
    ValueError: at trace time, for a bad `batch_size`, `image_size`, `probability`,
      `area_range`, `aspect_range` or `mode`.

  References:
    Zhong, Zheng, Kang, Li and Yang, "Random Erasing Data Augmentation", AAAI 2020,
    arXiv:1708.04896.
  """
  _checks.check_key(key)
  _checks.check_batch_size(batch_size)
  height, width = _checks.check_image_size(image_size)
  _checks.check_probability(probability, "probability")
  area, aspect = _check_ranges(area_range, aspect_range)
  shape = _checks.lam_shape(batch_size, mode)
  words = _words.draw(key, erase=shape, area=shape, aspect=shape, top=shape, left=shape)
  erase = _words.bernoulli(words["erase"], probability)
  area = _words.uniform_in(words["area"], *area) * (height * width)
  log_aspect = _words.uniform_in(
    words["aspect"], *(jnp.log(jnp.asarray(a, jnp.float32)) for a in aspect)
  )
  aspect = jnp.exp(log_aspect)
  box_h = jnp.clip(jnp.round(jnp.sqrt(area * aspect)), 1, height).astype(jnp.int32)
  box_w = jnp.clip(jnp.round(jnp.sqrt(area / aspect)), 1, width).astype(jnp.int32)
  # Uniform offsets in [0, H-h] x [0, W-w]: a uniform in [0, 1) scaled by the number of
  # positions and floored (the min guards against float rounding up to the bound).
  top = jnp.floor(_words.uniform(words["top"]) * (height - box_h + 1)).astype(jnp.int32)
  left = jnp.floor(_words.uniform(words["left"]) * (width - box_w + 1)).astype(jnp.int32)
  top = jnp.minimum(top, height - box_h)
  left = jnp.minimum(left, width - box_w)
  boxes = jnp.stack([top, left, top + box_h, left + box_w], axis=-1)
  boxes = jnp.where(erase[..., None], boxes, jnp.zeros_like(boxes))
  return jnp.broadcast_to(boxes, (batch_size, 4))


def _hash32(words: jax.Array) -> jax.Array:
  """A 32-bit integer hash with full avalanche (Wellons' `lowbias32`, hash-prospector)."""
  words = (words ^ (words >> 16)) * jnp.uint32(0x7FEB352D)
  words = (words ^ (words >> 15)) * jnp.uint32(0x846CA68B)
  return words ^ (words >> 16)


NOISE_BITS = 12
"""The noise fill's resolution: each value is one of `2**NOISE_BITS` levels."""


@functools.cache
def noise_levels(bits: int = NOISE_BITS) -> np.ndarray:
  """The `2**bits` float32 values of the noise fill, increasing (`bits` other than
  `NOISE_BITS` for benchmarks).

  Level `k` is the mean of N(0, 1) over its `k`-th of `n = 2**bits` equiprobable
  bins `(Φ⁻¹(k/n), Φ⁻¹((k+1)/n))`, that is `n·(φ(lo) − φ(hi))`, and the levels are then
  scaled to a second moment of exactly 1. So, drawn uniformly, they have mean 0 and
  variance 1, are symmetric (`levels[n-1-k] == -levels[k]`) and each lies inside its bin.
  For the fill's 4,096 levels the scale is 1.000015, their CDF is within 1.52·10⁻⁴ of the
  normal's everywhere (1/(2n) = 1.22·10⁻⁴ for the bins' medians), and `|level| <= 3.74`
  (|N(0, 1)| exceeds 3.74 with probability 1.8·10⁻⁴).
  """
  n = 1 << bits
  normal = statistics.NormalDist()
  edges = [normal.inv_cdf(k / n) for k in range(1, n // 2)]
  density = np.array([0.0] + [normal.pdf(e) for e in edges] + [normal.pdf(0.0)])
  lower = n * (density[:-1] - density[1:])  # The bins below 0, from the left.
  levels = np.concatenate([lower, -lower[::-1]])
  levels = (levels / math.sqrt(np.mean(levels**2))).astype(np.float32)
  levels.setflags(write=False)  # Cached: shared by every call.
  return levels


def pixel_noise(key: jax.Array, image_shape: tuple[int, int, int, int]) -> jax.Array:
  """Standard normal noise `[B, H, W, C]` float32, a pure function of the pixel index.

  Each value is `levels[hash(hash(i ^ s₁) ^ s₂) >> 20]`: `i` is the value's index within
  its image, `(s₁, s₂)` two 32-bit words drawn per example from `key` with threefry,
  `hash` a 32-bit avalanche hash, and `levels` the 4,096 values of :func:`noise_levels`
  (a 16 KB table, the normal's inverse CDF to 12 bits). So the noise is N(0, 1) to 12 bits:
  mean 0 and variance 1, a CDF within 1.52·10⁻⁴ of the normal's, tails cut at ±3.74, and 16
  times finer than 8-bit image data. Values are independent across pixels, channels and
  examples as far as a keyed integer hash goes (not cryptographic, unlike threefry). Being
  elementwise in the index, it fuses into the select that uses it: no batch of noise is
  materialised, and the per-pixel cost is a few integer operations and one table load
  (on a CPU at ImageNet size, the table adds 0.6-0.9 of a copy's time to a constant fill,
  an exact `√2·erfinv` 4.4-6.2: `benchmarks/bench_noise_fill.py`). For exact normal
  noise, pass `jax.random.normal(key, shape)` as :func:`apply_erasing`'s `value`.
  """
  return noise_from_words(pixel_words(key, image_shape))


def noise_from_words(words: jax.Array, bits: int = NOISE_BITS) -> jax.Array:
  """uint32 words -> float32 noise: each word's top `bits` bits pick a level of
  :func:`noise_levels` (`bits` other than `NOISE_BITS` for benchmarks)."""
  index = (words >> (32 - bits)).astype(jnp.int32)
  return jnp.asarray(noise_levels(bits)).at[index].get(mode="promise_in_bounds")


def pixel_words(key: jax.Array, image_shape: tuple[int, int, int, int]) -> jax.Array:
  """The uint32 words `hash(hash(i ^ s₁) ^ s₂)` `[B, H, W, C]` of :func:`pixel_noise`."""
  batch, height, width, channels = image_shape
  seeds = _words.bits(key, (2, batch, 1, 1, 1))
  index = jax.lax.iota(jnp.uint32, height * width * channels).reshape(image_shape[1:])
  return _hash32(_hash32(index ^ seeds[0]) ^ seeds[1])


def apply_erasing(
  images: jax.Array, boxes: jax.typing.ArrayLike, *, value: jax.typing.ArrayLike = 0.0
) -> jax.Array:
  """Overwrites the pixels inside `boxes` with `value` (deterministic).

  `out[b, h, w, c] = value[b, h, w, c]` (broadcast) if pixel (h, w) lies inside
  `boxes[b]`, else `images[b, h, w, c]`. Pixels outside the boxes, and every pixel of an
  example with an empty box, are returned bit for bit.

  Args:
    images: floating `[B, H, W, C]`.
    boxes: integer `[B, 4]` (or `[4]`, one box for all) half-open `(top, left, bottom,
      right)` boxes, e.g. from :func:`sample_erasing_params`. Boxes may extend past the
      border; only the part inside the image is erased.
    value: what erased pixels become, cast to the images' dtype: a scalar, a per-channel
      `[C]` vector (e.g. the dataset mean) or any array broadcastable to `[B, H, W, C]`,
      such as noise `jax.random.normal(key, images.shape, images.dtype)`. May be traced.

  Returns:
    `[B, H, W, C]` in the images' dtype.

  Raises:
    ValueError, TypeError: at trace time, for bad shapes or dtypes.

  References:
    Zhong, Zheng, Kang, Li and Yang, "Random Erasing Data Augmentation", AAAI 2020,
    arXiv:1708.04896.
  """
  images, boxes = _checks.check_masking(images, boxes, "boxes", value, "value")
  return _masks.fill_where(_masks.box_mask(boxes, images.shape), value, images)


def random_erasing(
  key: jax.Array,
  images: jax.Array,
  *,
  probability: jax.typing.ArrayLike = 0.5,
  area_range: Any = (0.02, 0.4),
  aspect_range: Any = (0.3, 3.3),
  value: str | jax.typing.ArrayLike = "random",
  mode: str = "elem",
) -> jax.Array:
  """Random Erasing (Zhong et al. 2017): overwrite a random rectangle of each image.

  Each example is erased with probability `probability`: a rectangle covering a fraction
  `s ~ U(area_range)` of the image, with height/width ratio `r`, `log r ~
  U(log aspect_range)`, placed uniformly where it fits, is filled with `value`. See
  :func:`sample_erasing_params` for the exact distribution. The defaults are the paper's
  (p = 0.5, s in [0.02, 0.4], r in [0.3, 1/0.3]).

  Args:
    key: a PRNG key; the same key gives the same output.
    images: floating `[B, H, W, C]`, usually normalised (zero mean, unit variance).
    probability: chance that an example is erased, in [0, 1]; may be traced. 0 returns
      the images unchanged, bit for bit.
    area_range: `(low, high)` erased area fractions, `0 < low <= high <= 1`.
    aspect_range: `(low, high)` height/width ratios, `0 < low <= high`.
    value: `"random"`, per-pixel standard normal noise to 12 bits (one of 4,096
      levels), independent across pixels, channels and examples, rounded to the images'
      dtype (the paper fills with uniform random pixel values; on normalised images normal
      noise is the common equivalent; generated by :func:`pixel_noise`, fused into the
      fill), or a constant: a number or a per-channel `[C]` vector.
    mode: `"elem"` (independent per example) or `"batch"` (one decision and one
      rectangle for the whole batch; the noise still differs per pixel and example).

  Returns:
    `[B, H, W, C]` in the images' dtype. Labels are not affected.

  Raises:
    ValueError, TypeError: at trace time, for bad arguments; the message names the
      argument, the value received and what was expected.

  Example:
    >>> images = mixjax.random_erasing(key, images, probability=0.5)

  References:
    Zhong, Zheng, Kang, Li and Yang, "Random Erasing Data Augmentation", AAAI 2020,
    arXiv:1708.04896.
  """
  _checks.check_key(key)
  batch_size, height, width, channels = _checks.check_images(images)
  images = jnp.asarray(images)
  random_value = isinstance(value, str)
  if random_value and value != "random":
    raise ValueError(f"`value` must be 'random', a number or a per-channel vector, got {value!r}.")
  if not random_value:
    _checks.check_fill(value, "value", channels)
  key_boxes, key_noise = _words.split(key)
  boxes = sample_erasing_params(
    key_boxes,
    batch_size,
    (height, width),
    probability=probability,
    area_range=area_range,
    aspect_range=aspect_range,
    mode=mode,
  )
  if random_value:
    value = pixel_noise(key_noise, (batch_size, height, width, channels))
  out = _masks.fill_where(_masks.box_mask(boxes, images.shape), value, images)
  area, aspect = _check_ranges(area_range, aspect_range)
  return _masks.nan_unless(_hyperparameters_ok(probability, area, aspect), out)
