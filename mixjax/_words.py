"""Random words for an op's parameters: one threefry draw, cut into named fields.

Every random parameter of a mix (λ's Beta candidates, the partner permutation, the box
positions, the `probability` gate, ...) is computed from uint32 words of one draw, so a
mixing op needs no `jax.random.split` per parameter: word `i` of the draw is the threefry
hash of counter `i`, and each field hashes its own counters where it is used (:func:`draw`).
The fields and their shapes are fixed by the op's static arguments, never by a
hyperparameter's value or by whether it is traced, so changing `probability` leaves the
other draws as they were, and jit and eager draw the same values.

The words are those of `jax.random.bits(key, shape, jnp.uint32)`, bit for bit
(:func:`bits`), but the Threefry-2x32 hash (Salmon et al. 2011, "Parallel random numbers:
as easy as 1, 2, 3") is written out here in `jnp`: XLA:CPU lowers jax's own as a rolled
loop of five iterations, whose body fusions XLA:CPU splits across its threads once a draw
has a few dozen words, paying a cross-thread hand-off per iteration, and whose every
iteration makes a pass over the words. `benchmarks/bench_words.py` (medians per call, two
cores / one core): 1,624 words 295 / 47 µs with jax's, 135 / 28 µs written out; 6.4 M words
(FMix's noise at ImageNet size) 35 / 63 ms against 6.8 / 9.5 ms.
Written out, the hash is one straight-line elementwise fusion on every backend and no op
holds a `while` loop on any of them. Keys of another implementation (`rbg`, ...) or a
process with `jax_threefry_partitionable` off fall back to `jax.random.bits` itself.

From a word `w`:

* a uniform in [0, 1) is `(w >> 8)·2⁻²⁴`, as `jax.random.uniform` makes float32 ones;
* an integer in [0, n) is `w mod n`: its law is uniform to within a relative `n·2⁻³²`
  (7e-9 for a side of 32 pixels);
* a permutation of `arange(B)` sorts it by `R` rows of B words (a stable sort), as
  `jax.random.permutation` does, with its number of rounds.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))  # Threefry-2x32's, per group of 4 rounds.
_PARITY = 0x1BD11BDA  # The key schedule's constant (Threefish's C240, 32-bit).


def _threefry2x32(
  key: tuple[jax.Array, jax.Array], x: tuple[jax.Array, jax.Array]
) -> tuple[jax.Array, jax.Array]:
  """Threefry-2x32 with 20 rounds of the counter pairs `x` under the key pair `key`."""
  keys = (key[0], key[1], key[0] ^ key[1] ^ jnp.uint32(_PARITY))
  x0, x1 = x[0] + keys[0], x[1] + keys[1]
  for block in range(5):
    for rotation in _ROTATIONS[block % 2]:
      x0 = x0 + x1
      x1 = ((x1 << rotation) | (x1 >> (32 - rotation))) ^ x0
    x0 = x0 + keys[(block + 1) % 3]
    x1 = x1 + keys[(block + 2) % 3] + jnp.uint32(block + 1)
  return x0, x1


def _key_words(key: jax.Array) -> jax.Array | None:
  """The uint32 `[2]` threefry key data of `key`, or None where `jax.random.bits` would
  hash otherwise (another key implementation, `jax_threefry_partitionable` off, not a
  single key)."""
  # Read as attributes, as jax asks for flags with a context manager (not in jax's stubs).
  if not jax.config.jax_threefry_partitionable:  # type: ignore[attr-defined]
    return None
  if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
    if key.shape != () or str(jax.random.key_impl(key)) != "threefry2x32":
      return None
    return jax.random.key_data(key)
  if key.shape != (2,) or key.dtype != jnp.uint32:
    return None
  default = jax.config.jax_default_prng_impl  # type: ignore[attr-defined]
  return key if default == "threefry2x32" else None


def _counter_hash(key_words: jax.Array, count: int, start: int = 0) -> tuple[jax.Array, jax.Array]:
  """`threefry(key, (0, i))` for `start <= i < start + count`: the two uint32 `[count]`
  halves."""
  index = jax.lax.iota(jnp.uint32, count) + jnp.uint32(start)
  return _threefry2x32((key_words[0], key_words[1]), (jnp.zeros_like(index), index))


def bits(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
  """uint32 words `shape`, equal to `jax.random.bits(key, shape, jnp.uint32)` bit for bit.

  Word `i` (row-major) is `t₀ ^ t₁` for `(t₀, t₁) = threefry(key, (0, i))`, as jax's
  partitionable threefry makes 32-bit words.
  """
  key_words = _key_words(key)
  size = math.prod(shape)
  if key_words is None or size >= 2**32:
    return jax.random.bits(key, shape, jnp.uint32)
  t0, t1 = _counter_hash(key_words, size)
  return (t0 ^ t1).reshape(shape)


def split(key: jax.Array, num: int = 2) -> jax.Array:
  """`num` keys, equal to `jax.random.split(key, num)` bit for bit (key `i` is
  `threefry(key, (0, i))`), of the same kind as `key` (typed or raw uint32)."""
  key_words = _key_words(key)
  if key_words is None:
    return jax.random.split(key, num)
  data = jnp.stack(_counter_hash(key_words, num), axis=-1)
  if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
    return jax.random.wrap_key_data(data, impl=jax.random.key_impl(key))
  return data


def draw(key: jax.Array, **fields: Any) -> dict[str, Any]:
  """Draws uint32 words for each named field, cut from one draw (:func:`bits`) in order.

  Word `i` of the draw is `threefry(key, (0, i))`, so each field hashes its own counters:
  the fusion that uses a field holds that field's hash alone, and XLA's cost model does
  not see the whole draw in every consumer (which made it split small sampler fusions
  across threads). Other key implementations cut one `jax.random.bits` draw.

  Args:
    key: a PRNG key.
    **fields: the shape of each field, in the order the words are laid out, or a tuple of
      shapes: consecutive parts of one field (used apart, so each is hashed alone).

  Returns:
    `{name: uint32 array of that shape}`, a tuple of arrays for a field of parts.
  """
  parts = [(name, shape) for name, field in fields.items() for shape in _parts(field)]
  sizes = [math.prod(shape) for _, shape in parts]
  starts = [sum(sizes[:i]) for i in range(len(sizes))]
  key_words = _key_words(key)
  if key_words is None or sum(sizes) >= 2**32:
    words = jax.random.bits(key, (sum(sizes),), jnp.uint32)
    flat = [words[a : a + n] for a, n in zip(starts, sizes, strict=True)]
  else:
    flat = [
      jnp.bitwise_xor(*_counter_hash(key_words, n, a)) for a, n in zip(starts, sizes, strict=True)
    ]
  cut: dict[str, list[jax.Array]] = {name: [] for name in fields}
  for (name, shape), part in zip(parts, flat, strict=True):
    cut[name].append(part.reshape(shape))
  return {
    name: tuple(cut[name]) if _is_compound(field) else cut[name][0]
    for name, field in fields.items()
  }


def _is_compound(field: Any) -> bool:
  return len(field) > 0 and isinstance(field[0], tuple)


def _parts(field: Any) -> tuple[tuple[int, ...], ...]:
  return tuple(field) if _is_compound(field) else (tuple(field),)


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
