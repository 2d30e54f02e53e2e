"""The ops inside jax.pmap and jax.shard_map, one shard per (fake CPU) device.

Each device mixes only its own shard, with the key folded with its axis index, so no
communication is needed; the result must equal mixing that shard eagerly with the same
folded key. tests/conftest.py provides 8 CPU devices.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

import mixjax

NUM_DEVICES = 8
SHARD = 3  # Examples per device: odd on purpose.

OPS = {
  "mixup": functools.partial(mixjax.mixup, alpha=0.4, mode="elem", pairing="permute"),
  "cutmix": functools.partial(mixjax.cutmix, alpha=1.0, mode="elem", pairing="flip"),
  "mixup_or_cutmix": functools.partial(
    mixjax.mixup_or_cutmix, switch_prob=0.5, mode="batch", pairing="permute"
  ),
}


@pytest.fixture(autouse=True)
def _needs_devices():
  # Asked at test time, not at import: initialising JAX's backends during collection would
  # fix the device count before other modules get to configure it.
  if jax.device_count() < NUM_DEVICES:
    pytest.skip(f"needs {NUM_DEVICES} devices (see tests/conftest.py)")


def _data(leading: tuple[int, ...], pytree: bool):
  key_x, key_v, key_y = jax.random.split(jax.random.key(0), 3)
  images = jax.random.uniform(key_x, (*leading, 6, 5, 2))
  labels = jax.nn.softmax(jax.random.normal(key_y, (*leading, 4)) * 3)
  if pytree:  # mixup takes any pytree; the vector leaf must follow the images.
    return {"images": images, "vector": jax.random.normal(key_v, leading)}, labels
  return images, labels


def _per_device(op):
  def step(key, inputs, labels):
    key = jax.random.fold_in(key, jax.lax.axis_index("data"))
    return op(key, inputs, labels)

  return step


def _eager_shard(op, key, inputs, labels, device):
  """What device `device` must produce: its shard mixed eagerly with its folded key."""
  take = lambda x: x[device]
  return op(jax.random.fold_in(key, device), jax.tree.map(take, inputs), take(labels))


def _mesh():
  return jax.make_mesh((NUM_DEVICES,), ("data",), axis_types=(jax.sharding.AxisType.Auto,))


# The compiled steps are built once per op, so that tests with the same shapes share them.
@functools.cache
def _pmapped(name):
  return jax.pmap(_per_device(OPS[name]), axis_name="data", in_axes=(None, 0, 0))


@functools.cache
def _shard_mapped(name):
  return jax.jit(
    jax.shard_map(
      _per_device(OPS[name]),
      mesh=_mesh(),
      in_specs=(P(), P("data"), P("data")),
      out_specs=P("data"),
    )
  )


def _run_pmap(name, key, inputs, labels):
  """Inputs `[D, b, ...]`; outputs `[D, b, ...]`."""
  return _pmapped(name)(key, inputs, labels)


def _run_shard_map(name, key, inputs, labels):
  """Inputs `[D, b, ...]` flattened to `[D·b, ...]` and sharded; outputs back to `[D, b, ...]`."""
  flat = lambda x: x.reshape((-1, *x.shape[2:]))
  unflat = lambda x: x.reshape((NUM_DEVICES, -1, *x.shape[1:]))
  out = _shard_mapped(name)(key, jax.tree.map(flat, inputs), flat(labels))
  return jax.tree.map(unflat, out)


def _assert_matches_eager(op, key, inputs, labels, out):
  for device in range(NUM_DEVICES):
    expected_x, expected_y = _eager_shard(op, key, inputs, labels, device)
    got_x, got_y = jax.tree.map(lambda x, d=device: x[d], out)
    if op.func is mixjax.cutmix:  # CutMix copies pixels: nothing to round differently.
      np.testing.assert_array_equal(got_x, expected_x)
    else:
      for g, e in zip(jax.tree.leaves(got_x), jax.tree.leaves(expected_x), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got_y, expected_y, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("runner", [_run_pmap, _run_shard_map], ids=["pmap", "shard_map"])
def test_each_device_mixes_its_shard_with_its_folded_key(name, runner):
  op = OPS[name]
  inputs, labels = _data((NUM_DEVICES, SHARD), pytree=name == "mixup")
  key = jax.random.key(42)
  out = runner(name, key, inputs, labels)
  assert jax.tree.structure(out) == jax.tree.structure((inputs, labels))
  _assert_matches_eager(op, key, inputs, labels, out)


@pytest.mark.parametrize("runner", [_run_pmap, _run_shard_map], ids=["pmap", "shard_map"])
def test_devices_draw_different_mixes(runner):
  """The same shard on every device is mixed differently: the fold-in reaches the op."""
  inputs, labels = _data((1, SHARD), pytree=True)
  repeat = lambda x: jnp.repeat(x, NUM_DEVICES, axis=0)
  out_x, _ = runner("mixup", jax.random.key(1), jax.tree.map(repeat, inputs), repeat(labels))
  flat = np.asarray(out_x["images"]).reshape(NUM_DEVICES, -1)
  assert len({row.tobytes() for row in flat}) == NUM_DEVICES


def test_shard_map_gradient_equals_per_shard_gradient():
  op = OPS["cutmix"]
  inputs, labels = _data((NUM_DEVICES, SHARD), pytree=False)
  flat_inputs = inputs.reshape((-1, *inputs.shape[2:]))
  flat_labels = labels.reshape((-1, labels.shape[-1]))
  key = jax.random.key(3)
  step = jax.shard_map(
    _per_device(op), mesh=_mesh(), in_specs=(P(), P("data"), P("data")), out_specs=P("data")
  )
  weights = jax.random.normal(jax.random.key(4), flat_inputs.shape)
  loss = lambda x: jnp.sum(weights * step(key, x, flat_labels)[0])
  grad = np.asarray(jax.jit(jax.grad(loss))(flat_inputs)).reshape(inputs.shape)
  shard_weights = weights.reshape(inputs.shape)
  for device in range(NUM_DEVICES):
    folded = jax.random.fold_in(key, device)
    shard_loss = lambda x, d=device, k=folded: jnp.sum(shard_weights[d] * op(k, x, labels[d])[0])
    np.testing.assert_allclose(grad[device], jax.grad(shard_loss)(inputs[device]), rtol=1e-6)
  assert np.all(np.any(grad != 0, axis=(1, 2, 3, 4)))
