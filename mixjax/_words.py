"""Random words for an op's parameters: one `jax.random.bits` call, cut into named fields.

Every random parameter of a mix (λ's Beta candidates, the partner permutation, the box
positions, the `probability` gate, ...) is computed from uint32 words of one draw, so a
mixing op holds one threefry hash instead of one per parameter and per `jax.random.split`
(each is a kernel on a GPU or TPU, a loop on XLA:CPU). The fields and their shapes are
fixed by the op's static arguments, never by a hyperparameter's value or by whether it is
traced, so changing `probability` leaves the other draws as they were, and jit and eager
draw the same values.

From a word `w`:

* a uniform in [0, 1) is `(w >> 8)·2⁻²⁴`, as `jax.random.uniform` makes float32 ones;
* an integer in [0, n) is `w mod n`: its law is uniform to within a relative `n·2⁻³²`
  (7e-9 for a side of 32 pixels);
* a permutation of `arange(B)` sorts it by `R` rows of B words (a stable sort), as
  `jax.random.permutation` does, with its number of rounds.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp


def draw(key: jax.Array, **fields: tuple[int, ...]) -> dict[str, jax.Array]:
  """Draws uint32 words for each named field, in one `jax.random.bits` call.

  Args:
    key: a PRNG key.
    **fields: the shape of each field, in the order the words are laid out.

  Returns:
    `{name: uint32 array of that shape}`.
  """
  sizes = [math.prod(shape) for shape in fields.values()]
  words = jax.random.bits(key, (sum(sizes),), jnp.uint32)
  out, start = {}, 0
  for (name, shape), size in zip(fields.items(), sizes, strict=True):
    out[name] = words[start : start + size].reshape(shape)
    start += size
  return out


def uniform(words: jax.Array) -> jax.Array:
  """float32 uniforms in [0, 1), 24 bits each."""
  return (words >> 8).astype(jnp.float32) * jnp.float32(2.0**-24)


def uniform_in(
  words: jax.Array, low: jax.typing.ArrayLike, high: jax.typing.ArrayLike
) -> jax.Array:
  """float32 uniforms in [low, high) (the bounds may be traced)."""
  low = jnp.asarray(low, jnp.float32)
  return low + (jnp.asarray(high, jnp.float32) - low) * uniform(words)


def bernoulli(words: jax.Array, p: jax.typing.ArrayLike) -> jax.Array:
  """True with probability `p` (a float32 scalar, may be traced)."""
  return uniform(words) < jnp.asarray(p, jnp.float32)


def below(words: jax.Array, n: jax.typing.ArrayLike) -> jax.Array:
  """int32 integers in [0, n), `n >= 1` (may be traced, or an array broadcasting with words)."""
  return (words % jnp.asarray(n, jnp.uint32)).astype(jnp.int32)


def permutation_rounds(batch_size: int) -> int:
  """The rows of words :func:`permutation` sorts by: jax's rule, one below 1,626 items."""
  return max(1, math.ceil(3 * math.log(max(1, batch_size)) / math.log(2**32 - 1)))


def permutation(words: jax.Array) -> jax.Array:
  """A uniformly random permutation of `arange(B)` from words `[R, B]`, int32 `[B]`.

  Each round sorts by a row of words; ties (probability about `B²·2⁻³³` per round) keep
  the previous order, which is why there are `R` rounds (:func:`permutation_rounds`).
  """
  perm = jax.lax.iota(jnp.int32, words.shape[-1])
  for row in words:
    perm = jax.lax.sort((row, perm), num_keys=1, is_stable=True)[1]
  return perm
