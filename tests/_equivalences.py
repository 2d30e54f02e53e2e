"""Equivalences every image op must satisfy: vmap == loop, pmap == per-shard eager, and
bad arguments raising the same error eagerly and at trace time under jit."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import pytest


def assert_vmap_equals_loop(op, images, assert_equal, seed: int = 5):
  """`jax.jit(jax.vmap(op))` over keys and batches `[N, B, ...]` equals a Python loop."""
  keys = jax.random.split(jax.random.key(seed), images.shape[0])
  batched = jax.jit(jax.vmap(op))(keys, images)
  looped = jnp.stack([op(k, x) for k, x in zip(keys, images, strict=True)])
  assert_equal(batched, looped)


def assert_pmap_equals_eager(op, images, assert_equal, seed: int = 7):
  """Each device applies `op` with the key folded with its index: equal to doing it eagerly."""
  n = jax.local_device_count()
  assert n == images.shape[0] == 8, "tests/conftest.py should give 8 fake CPU devices"
  key = jax.random.key(seed)

  def per_device(x):
    return op(jax.random.fold_in(key, jax.lax.axis_index("data")), x)

  sharded = jax.pmap(per_device, axis_name="data")(images)
  eager = jnp.stack([op(jax.random.fold_in(key, i), images[i]) for i in range(n)])
  assert_equal(sharded, eager)


def assert_raises_eagerly_and_under_jit(op, images, kwargs, error, match):
  """`op(key, images, **kwargs)` raises `error` matching `match`, eagerly and under jit."""
  with pytest.raises(error, match=match):
    op(jax.random.key(0), images, **kwargs)
  with pytest.raises(error, match=match):
    jax.jit(functools.partial(op, **kwargs))(jax.random.key(0), images)
