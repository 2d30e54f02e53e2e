"""Tests for mixjax._crop_flip: random crop with padding and random horizontal flip."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import mixjax

KEY = jax.random.key(0)


def _images(shape=(6, 5, 7, 2), dtype=jnp.float32, seed=1) -> jax.Array:
  """Images with distinct pixel values, so every window and flip is identifiable."""
  values = np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) + 1
  return jnp.asarray(values, dtype)


def _matching_offsets(image: np.ndarray, out: np.ndarray, padded: np.ndarray, padding: int):
  height, width = image.shape[:2]
  return [
    (top, left)
    for top in range(2 * padding + 1)
    for left in range(2 * padding + 1)
    if np.array_equal(padded[top : top + height, left : left + width], out)
  ]


@pytest.mark.parametrize(
  "fn",
  [
    functools.partial(mixjax.random_crop, padding=3),
    functools.partial(mixjax.random_crop, padding=2, pad_mode="reflect"),
    functools.partial(mixjax.random_flip, probability=0.5),
    functools.partial(mixjax.random_crop_flip, padding=2),
  ],
  ids=["crop", "crop_reflect", "flip", "crop_flip"],
)
def test_jit_equals_eager_and_key_determines_output(fn):
  images = _images()
  eager = fn(KEY, images)
  np.testing.assert_array_equal(jax.jit(fn)(KEY, images), eager)
  np.testing.assert_array_equal(fn(KEY, images), eager)
  assert not np.array_equal(fn(jax.random.key(1), images), eager)


def test_padding_zero_is_identity():
  images = _images()
  np.testing.assert_array_equal(mixjax.random_crop(KEY, images, padding=0), images)
  np.testing.assert_array_equal(
    mixjax.random_crop(KEY, images, padding=0, pad_mode="reflect"), images
  )


@pytest.mark.parametrize("pad_mode", ["constant", "reflect"])
def test_each_crop_is_a_window_of_the_padded_image(pad_mode):
  padding = 3
  images = _images((8, 5, 7, 2))
  out = np.asarray(mixjax.random_crop(KEY, images, padding=padding, pad_mode=pad_mode))
  padded = np.pad(
    np.asarray(images), ((0, 0), (padding, padding), (padding, padding), (0, 0)), mode=pad_mode
  )
  offsets = []
  for i in range(images.shape[0]):
    matches = _matching_offsets(np.asarray(images[i]), out[i], padded[i], padding)
    assert len(matches) == 1, (i, matches)
    offsets.append(matches[0])
  assert len(set(offsets)) > 1  # Offsets are drawn per example.
  np.testing.assert_array_equal(
    mixjax.sample_crop_offsets(KEY, 8, padding=padding), np.asarray(offsets)
  )


def test_pad_and_crop_matches_numpy_for_every_offset():
  padding = 2
  side = 2 * padding + 1
  offsets = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1)
  offsets = offsets.reshape(-1, 2).astype(np.int32)
  images = np.asarray(_images((len(offsets), 4, 6, 3)))
  out = np.asarray(mixjax.pad_and_crop(images, offsets, padding=padding))
  padded = np.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
  for i, (top, left) in enumerate(offsets):
    np.testing.assert_array_equal(out[i], padded[i, top : top + 4, left : left + 6])
  centre = np.full((len(offsets), 2), padding, np.int32)
  np.testing.assert_array_equal(mixjax.pad_and_crop(images, centre, padding=padding), images)


def test_crop_offsets_are_uniform():
  padding = 4
  offsets = np.asarray(mixjax.sample_crop_offsets(KEY, 9000, padding=padding))
  assert offsets.min() == 0 and offsets.max() == 2 * padding
  counts = np.bincount(offsets.ravel(), minlength=2 * padding + 1)
  expected = offsets.size / (2 * padding + 1)
  assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected)), counts


def test_flip_probability_zero_and_one():
  images = _images()
  np.testing.assert_array_equal(mixjax.random_flip(KEY, images, probability=0.0), images)
  np.testing.assert_array_equal(
    mixjax.random_flip(KEY, images, probability=1.0), images[:, :, ::-1, :]
  )


@pytest.mark.parametrize("probability", [0.2, 0.5, 0.9])
def test_fraction_flipped_matches_probability(probability):
  batch_size = 8000
  row = jnp.arange(2, dtype=jnp.float32)[None, None, :, None]
  images = jnp.broadcast_to(row, (batch_size, 1, 2, 1))
  out = np.asarray(jax.jit(mixjax.random_flip)(KEY, images, probability=probability))
  flipped = out[:, 0, 0, 0] == 1.0
  assert np.all(out[:, 0, 1, 0] == np.where(flipped, 0.0, 1.0))
  sigma = np.sqrt(probability * (1 - probability) / batch_size)
  assert abs(flipped.mean() - probability) < 5 * sigma


def test_traced_probability_does_not_recompile():
  images = _images()
  traces = []

  @jax.jit
  def flip(probability):
    traces.append(None)
    return mixjax.random_flip(KEY, images, probability=probability)

  np.testing.assert_array_equal(flip(0.0), images)
  np.testing.assert_array_equal(flip(1.0), images[:, :, ::-1, :])
  assert len(traces) == 1


def test_crop_flip_is_crop_then_flip_with_split_keys():
  images = _images()
  key_crop, key_flip = jax.random.split(KEY)
  expected = mixjax.random_flip(
    key_flip, mixjax.random_crop(key_crop, images, padding=2), probability=0.3
  )
  np.testing.assert_array_equal(
    mixjax.random_crop_flip(KEY, images, padding=2, probability=0.3), expected
  )


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.uint8])
@pytest.mark.parametrize(
  "fn",
  [
    mixjax.random_crop,
    functools.partial(mixjax.random_crop, pad_mode="reflect"),
    mixjax.random_flip,
    mixjax.random_crop_flip,
  ],
  ids=["crop", "crop_reflect", "flip", "crop_flip"],
)
def test_dtype_and_shape_kept(fn, dtype):
  images = _images((4, 8, 8, 3), dtype=jnp.float32).astype(dtype)
  out = fn(KEY, images)
  assert out.dtype == dtype
  assert out.shape == images.shape


def test_bfloat16_values_are_moved_not_changed():
  images = _images((4, 6, 6, 1)).astype(jnp.bfloat16) / 7
  out = mixjax.random_crop_flip(KEY, images, padding=2, pad_mode="reflect")
  assert set(np.asarray(out, np.float32).ravel()) <= set(np.asarray(images, np.float32).ravel())


@pytest.mark.parametrize(
  "call, match",
  [
    (lambda x: mixjax.random_crop(KEY, x[0]), r"`images` must be rank 4.*\(5, 7, 2\)"),
    (lambda x: mixjax.random_flip(KEY, x[0]), r"`images` must be rank 4"),
    (lambda x: mixjax.random_crop_flip(KEY, x[..., 0]), r"`images` must be rank 4"),
    (lambda x: mixjax.random_crop(KEY, x, padding=-1), r"`padding` must be an int >= 0, got -1\."),
    (lambda x: mixjax.random_crop(KEY, x, padding=1.5), r"`padding`.*1.5"),
    (lambda x: mixjax.random_crop(KEY, x, padding=True), r"`padding`.*True"),
    (lambda x: mixjax.random_crop_flip(KEY, x, padding=-2), r"`padding`.*-2"),
    (lambda x: mixjax.random_crop(KEY, x, pad_mode="wrap"), r"`pad_mode` must be .*'wrap'"),
    (lambda x: mixjax.random_flip(KEY, x, probability=1.5), r"`probability`.*\[0, 1\].*1.5"),
    (lambda x: mixjax.random_flip(KEY, x, probability=-0.1), r"`probability`.*-0.1"),
    (lambda x: mixjax.random_flip(KEY, x, probability=jnp.ones(2)), r"`probability`.*scalar"),
    (lambda x: mixjax.random_crop_flip(KEY, x, probability=2.0), r"`probability`.*2.0"),
    (lambda x: mixjax.pad_and_crop(x, jnp.zeros((6, 3), jnp.int32)), r"`offsets`.*\(6, 2\)"),
    (lambda x: mixjax.pad_and_crop(x, jnp.zeros((6, 2))), r"`offsets` must be an integer"),
    (lambda x: mixjax.flip_left_right(x, jnp.ones(6)), r"`flip` must be a boolean"),
    (lambda x: mixjax.sample_crop_offsets(KEY, 0), r"`batch_size`.*0"),
  ],
)
def test_bad_arguments_raise_naming_the_argument(call, match):
  with pytest.raises(ValueError, match=match):
    call(_images())


def test_errors_raise_at_trace_time_under_jit():
  with pytest.raises(ValueError, match="`padding`"):
    jax.jit(functools.partial(mixjax.random_crop, padding=-1))(KEY, _images())
