"""A plain jax + optax loop, no Flax: an MLP held as a dict of arrays, mixup on table rows.

    python examples/optax_loop.py [--steps 400] [--alpha 0.2]

The data are three noisy interleaved spirals in 2-D (generated here with NumPy). The inputs
are a pytree (`{"xy": [B, 2]}`): `mixjax.mixup` mixes every leaf with the same λ and partner.
The step is one `jax.jit` function of (params, opt_state, batch, key); the key is
`fold_in(base_key, step)`, so a rerun draws the same λs. Needs jax, optax and numpy only.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax

import mixjax

NUM_CLASSES = 3


def spirals(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """n points per class on three interleaved spiral arms, with Gaussian noise."""
  rng = np.random.default_rng(seed)
  radius = rng.uniform(0.1, 1.0, (NUM_CLASSES, n))
  angle = 3.0 * radius + 2 * np.pi * np.arange(NUM_CLASSES)[:, None] / NUM_CLASSES
  xy = np.stack([radius * np.cos(angle), radius * np.sin(angle)], -1)
  xy += rng.normal(0.0, 0.03, xy.shape)
  labels = np.repeat(np.arange(NUM_CLASSES), n)
  return xy.reshape(-1, 2).astype(np.float32), labels


def init_mlp(key: jax.Array, sizes: tuple[int, ...]) -> list[dict[str, jax.Array]]:
  keys = jax.random.split(key, len(sizes) - 1)
  return [
    {"w": jax.random.normal(k, (m, n)) * jnp.sqrt(2.0 / m), "b": jnp.zeros(n)}
    for k, m, n in zip(keys, sizes[:-1], sizes[1:], strict=True)
  ]


def mlp(params: list[dict[str, jax.Array]], inputs: dict[str, jax.Array]) -> jax.Array:
  x = inputs["xy"]
  for layer in params[:-1]:
    x = jax.nn.relu(x @ layer["w"] + layer["b"])
  return x @ params[-1]["w"] + params[-1]["b"]


def make_step(optimizer: optax.GradientTransformation, alpha: float):
  @jax.jit
  def step(params, opt_state, inputs, labels, key):
    targets = mixjax.one_hot(labels, NUM_CLASSES)
    inputs, targets = mixjax.mixup(key, inputs, targets, alpha=alpha, mode="elem")

    def loss_fn(p):
      return optax.softmax_cross_entropy(mlp(p, inputs), targets).mean()

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  return step


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps", type=int, default=400)
  parser.add_argument("--batch_size", type=int, default=128)
  parser.add_argument("--alpha", type=float, default=0.2)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()

  x_train, y_train = spirals(500, args.seed)
  x_test, y_test = spirals(200, args.seed + 1)
  params = init_mlp(jax.random.key(args.seed), (2, 64, 64, NUM_CLASSES))
  optimizer = optax.adam(3e-3)
  opt_state = optimizer.init(params)
  step = make_step(optimizer, args.alpha)
  base_key = jax.random.key(args.seed + 1)
  rng = np.random.default_rng(args.seed)
  losses = []
  for i in range(args.steps):
    idx = rng.choice(len(x_train), args.batch_size, replace=False)
    key = jax.random.fold_in(base_key, i)
    params, opt_state, loss = step(params, opt_state, {"xy": x_train[idx]}, y_train[idx], key)
    losses.append(float(loss))
  predictions = mlp(params, {"xy": jnp.asarray(x_test)}).argmax(-1)
  test_accuracy = float((predictions == jnp.asarray(y_test)).mean())
  head, tail = np.mean(losses[:20]), np.mean(losses[-20:])
  print(f"mixed train loss: first 20 steps {head:.3f}, last 20 steps {tail:.3f}")
  print(f"RESULT first_loss={head:.4f} last_loss={tail:.4f} test_accuracy={test_accuracy:.4f}")


if __name__ == "__main__":
  main()
