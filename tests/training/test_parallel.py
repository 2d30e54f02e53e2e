"""The per-device train step under pmap and shard_map on 8 fake CPU devices."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from mixjax.training import parallel as parallel_lib
from mixjax.training import step as step_lib

NUM_DEVICES = 8
NUM_CLASSES = 3


class TinyNet(nn.Module):
  @nn.compact
  def __call__(self, x, *, train: bool):
    x = x.reshape((x.shape[0], -1))
    x = nn.Dense(8)(x)
    x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
    x = nn.Dropout(0.2, deterministic=not train)(nn.relu(x))
    return nn.Dense(NUM_CLASSES)(x)


def make_state(seed=0):
  model = TinyNet()
  variables = model.init(jax.random.key(seed), jnp.zeros((1, 4, 4, 1)), train=False)
  return step_lib.TrainState.create(
    apply_fn=model.apply,
    params=variables["params"],
    tx=optax.sgd(0.1, momentum=0.9),
    batch_stats=variables["batch_stats"],
    rng=jax.random.key_data(jax.random.key(seed + 1)),
  )


def make_batch(size=16, seed=0):
  rng = np.random.default_rng(seed)
  return {
    "image": rng.normal(size=(size, 4, 4, 1)).astype(np.float32),
    "label": rng.integers(0, NUM_CLASSES, size).astype(np.int32),
  }


def run_steps(kind, cfg, hparams, num_steps=3):
  assert jax.device_count() == NUM_DEVICES
  parallel = parallel_lib.Parallel(kind, cfg)
  state = parallel.put_state(jax.tree.map(np.asarray, make_state()))
  losses = []
  for i in range(num_steps):
    state, metrics = parallel.train(state, make_batch(seed=i), hparams)
    losses.append(float(metrics["loss"]))
  return parallel.get_state(state), losses


@pytest.mark.parametrize("mix", ["none", "mixup", "cutmix", "mixup_or_cutmix"])
def test_pmap_and_shard_map_give_the_same_state(mix):
  cfg = step_lib.StepConfig(num_classes=NUM_CLASSES, mix=mix, mix_mode="elem")
  hparams = {"mixup_alpha": 1.0, "cutmix_alpha": 1.0}
  pmap_state, pmap_losses = run_steps("pmap", cfg, hparams)
  shmap_state, shmap_losses = run_steps("shard_map", cfg, hparams)
  assert int(pmap_state.step) == 3
  np.testing.assert_allclose(pmap_losses, shmap_losses, rtol=1e-5)
  for a, b in zip(jax.tree.leaves(pmap_state), jax.tree.leaves(shmap_state), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_alpha_zero_is_exactly_erm():
  """Mixing switched off through the traced α (mix_off_epochs) equals mix='none'."""
  off = {"mixup_alpha": 0.0, "cutmix_alpha": 0.0}
  mixed_cfg = step_lib.StepConfig(num_classes=NUM_CLASSES, mix="mixup_or_cutmix")
  erm_cfg = step_lib.StepConfig(num_classes=NUM_CLASSES, mix="none")
  mixed_off, _ = run_steps("pmap", mixed_cfg, off, num_steps=2)
  erm, _ = run_steps("pmap", erm_cfg, off, num_steps=2)
  on, _ = run_steps("pmap", mixed_cfg, {"mixup_alpha": 1.0, "cutmix_alpha": 1.0}, num_steps=2)
  for a, b in zip(jax.tree.leaves(mixed_off), jax.tree.leaves(erm), strict=True):
    np.testing.assert_array_equal(a, b)
  assert not np.allclose(on.params["Dense_0"]["kernel"], erm.params["Dense_0"]["kernel"])


def test_gradients_are_averaged_over_devices():
  """One pmapped step equals one step on the whole batch's mean of per-shard gradients."""
  cfg = step_lib.StepConfig(num_classes=NUM_CLASSES, mix="none")
  state = make_state()
  batch = make_batch()
  new_state, _ = run_steps("pmap", cfg, {"mixup_alpha": 0.0, "cutmix_alpha": 0.0}, num_steps=1)

  def shard_grad(images, labels, index):
    key = jax.random.fold_in(jax.random.fold_in(jax.random.wrap_key_data(state.rng), 0), index)
    _, dropout_key = jax.random.split(key)

    def loss_fn(params):
      logits, _ = state.apply_fn(
        {"params": params, "batch_stats": state.batch_stats},
        images,
        train=True,
        rngs={"dropout": dropout_key},
        mutable=["batch_stats"],
      )
      return optax.softmax_cross_entropy(logits, jax.nn.one_hot(labels, NUM_CLASSES)).mean()

    return jax.grad(loss_fn)(state.params)

  shards = [
    shard_grad(batch["image"][2 * i : 2 * i + 2], batch["label"][2 * i : 2 * i + 2], i)
    for i in range(NUM_DEVICES)
  ]
  mean_grad = jax.tree.map(lambda *g: sum(g) / NUM_DEVICES, *shards)
  expected = state.apply_gradients(grads=mean_grad)
  np.testing.assert_allclose(
    new_state.params["Dense_1"]["kernel"],
    expected.params["Dense_1"]["kernel"],
    rtol=1e-4,
    atol=1e-6,
  )


def test_devices_mix_with_different_keys():
  cfg = step_lib.StepConfig(num_classes=NUM_CLASSES)
  state = make_state()
  keys = jax.pmap(lambda _: jax.random.key_data(step_lib.step_key(state)), axis_name="data")(
    jnp.zeros(NUM_DEVICES)
  )
  assert len({tuple(np.asarray(k)) for k in keys}) == NUM_DEVICES
  del cfg


@pytest.mark.parametrize("kind", ["pmap", "shard_map"])
def test_eval_counts_only_unmasked_examples(kind):
  parallel = parallel_lib.Parallel(kind, step_lib.StepConfig(num_classes=NUM_CLASSES))
  state = parallel.put_state(jax.tree.map(np.asarray, make_state()))
  batch = make_batch()
  batch["mask"] = np.arange(16) < 11
  sums = parallel.eval(state, batch)
  assert sums["count"] == 11
  host = parallel.get_state(state)
  logits = host.apply_fn(
    {"params": host.params, "batch_stats": host.batch_stats}, batch["image"], train=False
  )
  correct = (np.argmax(logits, -1) == batch["label"])[:11].sum()
  assert sums["correct"] == correct


def test_batch_not_divisible_by_devices_is_an_error():
  parallel = parallel_lib.Parallel("pmap", step_lib.StepConfig(num_classes=NUM_CLASSES))
  with pytest.raises(ValueError, match="batch_size"):
    parallel.check_batch_size(12)


def test_unknown_parallel_kind():
  with pytest.raises(ValueError, match="parallel"):
    parallel_lib.Parallel("vmap", step_lib.StepConfig(num_classes=NUM_CLASSES))
