"""λ ~ Beta(α, α) without loops: a fixed number of parallel rejection candidates.

`jax.random.beta` draws two Gammas with a rejection loop each, which lowers to
`stablehlo.while`: on a GPU or TPU every trip of such a loop waits for its predicate. This
module draws the same law with straight-line code, so the graph of a mixing op has no loop
of its own (on XLA:CPU jax's threefry hash is itself a rolled loop; lowered for GPU or TPU
it is not).

Method. For X, Y ~ Gamma(α) independent, X / (X + Y) ~ Beta(α, α). Each Gamma is drawn in
log space:

* `log G₁ = log d + 3 log v`, G₁ ~ Gamma(α + 1), by Marsaglia and Tsang's method: with
  `d = α + 2/3`, `c = 1 / sqrt(9d)`, a normal x and a uniform u, the candidate
  `v = 1 + c·x` is accepted iff `v > 0` and
  `log u < x²/2 + d − d·v³ + d·log v³` (the exact test, no squeeze). `K` candidates are
  drawn at once and the first accepted one is taken: a chain of selects, not a loop.
* `log G = log G₁ + log(U) / α`, G ~ Gamma(α), U uniform (the boost of Marsaglia and Tsang,
  §6; shape α + 1 ≥ 1 is where their method is valid). Working with logarithms keeps
  `U^(1/α)` representable for small α, where it underflows float32.
* `λ = sigmoid(log X − log Y)`, which equals X / (X + Y), rounded once to float32.

Each λ takes `2 × (2K + 1)` uint32 words, laid out `[2K + 1, 2, *shape]` so that both
Gammas are computed as one array; the mixing ops cut them from their one draw of words
(:mod:`mixjax._words`).

Exactness. A candidate is accepted with probability ≥ 0.9517, the value at shape α + 1 = 1
(α → 0, the worst case; the rate rises with α: 0.9817 at α = 1, 0.9967 at α = 8). With
`K = 8` candidates, all are rejected with probability `p ≤ 0.04833⁸ ≈ 3.0e-11` per Gamma
(1.3e-14 at α = 1, 2.9e-25 at α = 32), and then the fallback `G₁ = d` (close to the median
of Gamma(α + 1)) is used. So each Gamma follows `(1 − p)·Gamma(α) + p·fallback`, where the
fallback is `d·U^(1/α)`, and λ is exactly Beta(α, α) except with probability `≤ 2p ≈ 6e-11`.
The uniforms are 32-bit words rounded to float32 (the acceptance and boost uniforms lie in
[2⁻³³, 1]); the normals are `√2·erfinv` of a symmetric 24-bit uniform in (−1, 1), as in
`jax.random.normal`, so |x| ≤ 5.4.

Float32. As with `jax.random.beta`, λ is rounded to float32: every λ in (1 − 2⁻²⁵, 1]
becomes exactly 1.0 (1.6% of Beta(0.2, 0.2), 9% of Beta(0.1, 0.1)), while λ near 0
keeps its relative precision down to the subnormals. So the law is symmetric in the reals
but not bit for bit; tests compare with a KS statistic that accounts for the rounding.

References:
  Marsaglia and Tsang, "A simple method for generating gamma variables", ACM TOMS 26(3),
  2000.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

CANDIDATES = 8  # K: parallel Marsaglia-Tsang candidates per Gamma.
WORDS = 2 * CANDIDATES + 1  # uint32 words per Gamma: K normals, K uniforms, the boost.


def _uniform(bits: jax.Array) -> jax.Array:
  """uint32 words -> float32 uniforms in [2⁻³³, 1] (rounded; never 0, so the log is finite)."""
  return bits.astype(jnp.float32) * jnp.float32(2.0**-32) + jnp.float32(2.0**-33)


def normal(bits: jax.Array) -> jax.Array:
  """uint32 words -> float32 standard normals: `√2·erfinv` of the symmetric 24-bit uniform
  `((bits >> 8) + 1/2)·2⁻²³ − 1` in (−1, 1), the transform of `jax.random.normal`."""
  centred = ((bits >> 8).astype(jnp.float32) + 0.5) * jnp.float32(2.0**-23) - 1.0
  return jnp.float32(2.0**0.5) * jax.lax.erf_inv(centred)


def _candidates(bits: jax.Array, alpha: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  """K Marsaglia-Tsang candidates for Gamma(α + 1) from `bits` `[2K, *shape]`.

  Returns:
    `log d` `[]`, `log v³` `[K, *shape]` and whether each candidate is accepted.
  """
  d = alpha + jnp.float32(2.0 / 3.0)  # (α + 1) − 1/3
  c = jax.lax.rsqrt(9.0 * d)
  x = normal(bits[:CANDIDATES])
  log_u = jnp.log(_uniform(bits[CANDIDATES:]))
  v = 1.0 + c * x
  positive = v > 0
  log_v3 = 3.0 * jnp.log(jnp.where(positive, v, 1.0))
  v3 = v * v * v
  accept = positive & (log_u < 0.5 * x * x + d - d * v3 + d * log_v3)
  return jnp.log(d), log_v3, accept


def log_gamma(bits: jax.Array, alpha: jax.Array) -> jax.Array:
  """log G, G ~ Gamma(α), from `bits` uint32 `[2K + 1, *shape]` (K normals, K uniforms,
  the boost uniform); α > 0, float32 `[]`."""
  log_d, log_v3, accept = _candidates(bits[: 2 * CANDIDATES], alpha)
  # The first accepted candidate: a select chain from the last one back; 0 (G₁ = d) if none.
  chosen = jnp.zeros(bits.shape[1:], jnp.float32)
  for k in reversed(range(CANDIDATES)):
    chosen = jnp.where(accept[k], log_v3[k], chosen)
  log_boost = jnp.log(_uniform(bits[2 * CANDIDATES])) / alpha
  return log_d + chosen + log_boost


def symmetric_beta(key: jax.Array, alpha: jax.Array, shape: tuple[int, ...]) -> jax.Array:
  """Samples Beta(α, α) with no loop in the graph (see the module docstring).

  Nothing is checked: :func:`mixjax.sample_lambda` checks α and maps α = 0 to 1.

  Args:
    key: a PRNG key.
    alpha: float32 scalar α > 0; may be traced.
    shape: the shape of the sample.

  Returns:
    float32 `shape` values in [0, 1].
  """
  return beta_from_words(jax.random.bits(key, (WORDS, 2, *shape), jnp.uint32), alpha)


def beta_from_words(words: jax.Array, alpha: jax.Array) -> jax.Array:
  """Beta(α, α) from uint32 words `[WORDS, 2, *shape]`, float32 `shape` (unchecked α > 0)."""
  log_g = log_gamma(words, jnp.asarray(alpha, jnp.float32))
  logit = log_g[0] - log_g[1]
  # sigmoid(t) for t > 0 as 1 − sigmoid(−t): one rounding. `1 / (1 + e^−t)` rounds twice
  # and sends all of (1 − 2⁻²⁴, 1] to 1.0, double the float32 atom (visible at α = 0.1).
  return jnp.where(logit > 0, 1.0 - jax.nn.sigmoid(-logit), jax.nn.sigmoid(logit))
