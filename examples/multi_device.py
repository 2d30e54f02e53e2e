"""pmap and shard_map over several devices, each device mixing its shard with its own key.

    python examples/multi_device.py [--devices 8] [--steps 5]

On a CPU the devices are faked (`--xla_force_host_platform_device_count`, set below before
jax is imported). One per-device body, `device_step`, runs under `jax.pmap` and under
`jax.shard_map` on a 1-D mesh: it folds the step into the base key and the device index into
that, mixes its shard with mixup, and averages the gradients over the devices with
`lax.pmean`. Both drivers must end with the same parameters, and every device must have drawn
its own λ. Needs jax, optax and numpy only.
"""

from __future__ import annotations

import argparse
import os
import sys


def _fake_devices(argv: list[str]) -> int:
  """Reads --devices and asks XLA for that many CPU devices (before jax is imported)."""
  count = 8
  for i, arg in enumerate(argv):
    if arg == "--devices" and i + 1 < len(argv):
      count = int(argv[i + 1])
    elif arg.startswith("--devices="):
      count = int(arg.split("=", 1)[1])
  flags = os.environ.get("XLA_FLAGS", "")
  if "xla_force_host_platform_device_count" not in flags:
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()
  return count


_fake_devices(sys.argv[1:])

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from jax.sharding import Mesh  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import mixjax  # noqa: E402

AXIS = "data"
NUM_CLASSES = 10


def device_step(params, images, labels, key, step):
  """One device's step: its own key, its shard mixed, gradients averaged over the devices."""
  key = jax.random.fold_in(jax.random.fold_in(key, step), jax.lax.axis_index(AXIS))
  targets = mixjax.one_hot(labels, NUM_CLASSES)
  mix = mixjax.sample_mixup_params(key, labels.shape[0], alpha=1.0)
  images, targets = mixjax.apply_mix(images, targets, mix)
  # Differentiate a per-device copy: under shard_map the gradient of a replicated
  # (device-invariant) value would come back already summed over the devices.
  params = jax.lax.pcast(params, AXIS, to="varying")

  def loss_fn(p):
    logits = images.reshape(images.shape[0], -1) @ p
    return optax.softmax_cross_entropy(logits, targets).mean()

  grads = jax.lax.pmean(jax.grad(loss_fn)(params), AXIS)
  return jax.lax.pmean(params - 0.5 * grads, AXIS), mix.lam[None]


def run_pmap(params, images, labels, key, steps):
  n = jax.device_count()
  step_fn = jax.pmap(device_step, AXIS, in_axes=(None, 0, 0, None, None))
  shards = lambda x: x.reshape((n, -1) + x.shape[1:])  # noqa: E731
  for step in range(steps):
    params, lams = step_fn(params, shards(images), shards(labels), key, step)
    params = params[0]  # Identical on every device after the pmean.
  return params, lams.reshape(-1)


def run_shard_map(params, images, labels, key, steps):
  mesh = Mesh(np.array(jax.devices()), (AXIS,))
  specs = (P(), P(AXIS), P(AXIS), P(), P())
  step_fn = jax.jit(jax.shard_map(device_step, mesh=mesh, in_specs=specs, out_specs=(P(), P(AXIS))))
  for step in range(steps):
    params, lams = step_fn(params, images, labels, key, step)
  return params, lams


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--devices", type=int, default=8)
  parser.add_argument("--steps", type=int, default=5)
  parser.add_argument("--per_device_batch", type=int, default=16)
  args = parser.parse_args()

  n = jax.device_count()
  rng = np.random.default_rng(0)
  images = jnp.asarray(rng.random((n * args.per_device_batch, 8, 8, 1), np.float32))
  labels = jnp.asarray(rng.integers(0, NUM_CLASSES, n * args.per_device_batch))
  params = jnp.zeros((8 * 8, NUM_CLASSES))
  key = jax.random.key(0)
  p_pmap, lam_pmap = run_pmap(params, images, labels, key, args.steps)
  p_shard, lam_shard = run_shard_map(params, images, labels, key, args.steps)
  diff = float(jnp.abs(p_pmap - p_shard).max())
  distinct = len(np.unique(np.asarray(lam_shard)))
  print(f"{n} devices, {args.steps} steps: max |pmap - shard_map| = {diff:.2e}")
  print("last step's λ per device:", " ".join(f"{v:.3f}" for v in np.asarray(lam_shard)))
  same_lams = bool(np.array_equal(np.asarray(lam_pmap), np.asarray(lam_shard)))
  print(f"RESULT devices={n} max_diff={diff:.3e} distinct_lams={distinct} same_lams={same_lams}")


if __name__ == "__main__":
  main()
