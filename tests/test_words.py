"""Tests for mixjax._words: the threefry draw behind every op and the word transforms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mixjax import _words


def _jax_bits(key, shape):
  return jax.random.bits(key, shape, jnp.uint32)


@pytest.mark.parametrize("shape", [(1,), (3,), (2, 5), (4, 3, 2), (1624,), (70_001,)])
@pytest.mark.parametrize("seed", [0, 1, 2**31 + 5])
def test_bits_are_jax_random_bits(shape, seed):
  key = jax.random.key(seed)
  words = jax.jit(_words.bits, static_argnums=1)(key, shape)
  assert words.dtype == jnp.uint32 and words.shape == shape
  np.testing.assert_array_equal(words, _jax_bits(key, shape))
  np.testing.assert_array_equal(_words.bits(key, shape), words)  # Eager == jit.


def test_bits_of_a_raw_uint32_key_and_under_vmap():
  raw = jax.random.PRNGKey(3)
  np.testing.assert_array_equal(_words.bits(raw, (9,)), _jax_bits(raw, (9,)))
  keys = jax.random.split(jax.random.key(4), 5)
  ours = jax.vmap(lambda k: _words.bits(k, (7,)))(keys)
  np.testing.assert_array_equal(ours, jax.vmap(lambda k: _jax_bits(k, (7,)))(keys))


def test_bits_hash_in_the_graph_without_a_loop():
  text = jax.jit(lambda k: _words.bits(k, (64,))).lower(jax.random.key(0)).as_text()
  assert "stablehlo.while" not in text and "threefry2x32" not in text
  # The negative control: jax's own threefry is a call to its (on CPU rolled) hash.
  assert "threefry2x32" in jax.jit(lambda k: _jax_bits(k, (64,))).lower(jax.random.key(0)).as_text()


@pytest.mark.parametrize("impl", ["rbg", "unsafe_rbg"])
def test_other_key_implementations_fall_back_to_jax(impl):
  key = jax.random.key(5, impl=impl)
  assert _words._key_words(key) is None
  np.testing.assert_array_equal(_words.bits(key, (6,)), _jax_bits(key, (6,)))


def test_the_original_threefry_scheme_falls_back_to_jax():
  with jax.threefry_partitionable(False):
    key = jax.random.key(6)
    assert _words._key_words(key) is None
    np.testing.assert_array_equal(_words.bits(key, (6,)), _jax_bits(key, (6,)))


def test_a_batch_of_keys_gets_jax_s_error():
  keys = jax.random.split(jax.random.key(0), 2)
  with pytest.raises(Exception) as ours:
    _words.bits(keys, (3,))
  with pytest.raises(Exception) as theirs:
    _jax_bits(keys, (3,))
  assert type(ours.value) is type(theirs.value)


@pytest.mark.parametrize(
  "make_key", [jax.random.key, jax.random.PRNGKey, lambda s: jax.random.key(s, impl="rbg")]
)
def test_draw_cuts_one_draw_into_fields_in_order(make_key):
  key = make_key(8)
  fields = jax.jit(lambda k: _words.draw(k, a=(2, 3), b=(4,), c=()))(key)
  words = np.asarray(_jax_bits(key, (11,)))
  np.testing.assert_array_equal(fields["a"], words[:6].reshape(2, 3))
  np.testing.assert_array_equal(fields["b"], words[6:10])
  np.testing.assert_array_equal(fields["c"], words[10])


def test_permutation_is_a_permutation_and_below_is_in_range():
  words = _words.bits(jax.random.key(9), (_words.permutation_rounds(100), 100))
  np.testing.assert_array_equal(np.sort(_words.permutation(words)), np.arange(100))
  below = _words.below(_words.bits(jax.random.key(10), (1000,)), 7)
  assert below.dtype == jnp.int32 and set(np.asarray(below).tolist()) == set(range(7))


@pytest.mark.parametrize("num", [1, 2, 5])
def test_split_is_jax_random_split(num):
  key = jax.random.key(11)
  ours = jax.jit(_words.split, static_argnums=1)(key, num)
  theirs = jax.random.split(key, num)
  assert ours.dtype == theirs.dtype and ours.shape == (num,)
  np.testing.assert_array_equal(jax.random.key_data(ours), jax.random.key_data(theirs))
  raw = jax.random.PRNGKey(12)
  np.testing.assert_array_equal(_words.split(raw, num), jax.random.split(raw, num))
  rbg = jax.random.key(13, impl="rbg")
  np.testing.assert_array_equal(
    jax.random.key_data(_words.split(rbg, num)), jax.random.key_data(jax.random.split(rbg, num))
  )
