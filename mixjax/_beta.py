"""λ ~ Beta(α, α) without loops: a closed form for α > 1/2, a pool of rejection candidates.

`jax.random.beta` draws two Gammas with a rejection loop each, which lowers to
`stablehlo.while`: on a GPU or TPU every trip of such a loop waits for its predicate. This
module draws the same law with straight-line code, so the graph of a mixing op has no loop
of its own (on XLA:CPU jax's threefry hash is itself a rolled loop; lowered for GPU or TPU
it is not).

Closed form (α > 1/2, the usual case: CutMix's α = 1, timm's 0.8). Ulrich's
generator (Ulrich 1984; Devroye 1986, *Non-Uniform Random Variate Generation*): with U, V
uniform, `λ = (1 + sqrt(1 − U^(2/(2α−1)))·cos 2πV) / 2` is exactly Beta(α, α). The smaller of
λ and 1 − λ is computed as `(sin² + w·cos²) / (2·(1 + r·|cos|))` (w = U^(2/(2α−1)),
r = sqrt(1 − w)), which has no cancellation, so λ near 0 keeps its relative precision; 2
words per λ, one elementwise pass. A concrete α computes only the method it needs; a traced
α computes both and selects, from the same words, so jit and eager draw the same λ.

Pool (α ≤ 1/2). For X, Y ~ Gamma(α) independent, X / (X + Y) ~ Beta(α, α). Each
Gamma is drawn in log space:

* `log G₁ = log d + 3 log v`, G₁ ~ Gamma(α + 1), by Marsaglia and Tsang's method: with
  `d = α + 2/3`, `c = 1 / sqrt(9d)`, a normal x and a uniform u, the candidate
  `v = 1 + c·x` is accepted iff `v > 0` and
  `log u < x²/2 + d − d·v³ + d·log v³` (the exact test, no squeeze).
* The n Gammas of a draw (2 per λ) share one pool of M candidates: the j-th Gamma takes the
  j-th accepted candidate in pool order, found by one stable sort of the acceptance flags.
  Acceptances are independent, so the accepted candidates are i.i.d. Gamma(α + 1).
* `log G = log G₁ + log(U) / α`, G ~ Gamma(α), U uniform (the boost of Marsaglia and Tsang,
  §6; shape α + 1 ≥ 1 is where their method is valid). Working with logarithms keeps
  `U^(1/α)` representable for small α, where it underflows float32.
* `λ = sigmoid(log X − log Y)`, which equals X / (X + Y), rounded once to float32.

Exactness. A candidate is rejected with probability at most q = 0.04834, the value at shape
α + 1 = 1 (α → 0, the worst case; 0.0183 at α = 1, 0.0033 at α = 8). M is the smallest pool
for which fewer than n acceptances have probability ≤ 2⁻³⁵ ≈ 2.9e-11 at that worst rate
(:func:`pool_size`: 10 candidates for the 2 Gammas of one λ, 300 for 128 λ, 2,228 for
1,024); then the Gammas left over use the fallback `G₁ = d` (close to the median of
Gamma(α + 1)). So a draw is exactly Beta(α, α) for every λ except with probability
≤ 2.9e-11. Words: `2M + n` uint32 per draw (M normals, M acceptance uniforms, n boosts): 856 for
128 λ, 3.3 per Gamma, where 8 candidates per Gamma (this module's first version) took 17.
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

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from mixjax import _checks

REJECTION = 0.04834  # q ≥ 1 − 0.951668, the rejection probability at α → 0 (the largest).
SHORTFALL = 2.0**-35  # The pool runs short (fewer than n acceptances) at most this often.


def _log_binom_pmf(k: int, m: int, q: float) -> float:
  return (
    math.lgamma(m + 1)
    - math.lgamma(k + 1)
    - math.lgamma(m - k + 1)
    + k * math.log(q)
    + (m - k) * math.log1p(-q)
  )


def shortfall(count: int, pool: int, q: float = REJECTION) -> float:
  """P(fewer than `count` of `pool` candidates are accepted), each rejected w.p. `q`."""
  if pool < count:
    return 1.0
  total, r = 0.0, pool - count + 1  # more than pool - count rejections
  term = math.exp(_log_binom_pmf(r, pool, q))
  while r <= pool and term > 0.0:
    total += term
    if term < total * 1e-17:
      break
    term *= (pool - r) / (r + 1) * q / (1.0 - q)
    r += 1
  return total


@functools.cache
def pool_size(count: int) -> int:
  """The fewest candidates M with `shortfall(count, M) <= SHORTFALL`."""
  pool = max(count, math.floor(count / (1.0 - REJECTION)))
  while shortfall(count, pool) > SHORTFALL:
    pool += 1
  return pool


def words_for(count: int) -> int:
  """The uint32 words of `count` Gammas: M normals, M acceptance uniforms, `count` boosts."""
  return 2 * pool_size(count) + count


def _uniform(bits: jax.Array) -> jax.Array:
  """uint32 words -> float32 uniforms in [2⁻³³, 1] (rounded; never 0, so the log is finite)."""
  return bits.astype(jnp.float32) * jnp.float32(2.0**-32) + jnp.float32(2.0**-33)


def normal(bits: jax.Array) -> jax.Array:
  """uint32 words -> float32 standard normals: `√2·erfinv` of the symmetric 24-bit uniform
  `((bits >> 8) + 1/2)·2⁻²³ − 1` in (−1, 1), the transform of `jax.random.normal`.

  The uniform is computed exactly, as the odd integer `2·(bits >> 8) + 1 − 2²⁴` (below 2²⁴
  in magnitude, so a float32) times 2⁻²⁴: it never reaches ±1, where erfinv is infinite,
  and the complement of a word gives the opposite normal.
  """
  odd = ((bits >> 7) | 1).astype(jnp.int32) - (1 << 24)
  centred = odd.astype(jnp.float32) * jnp.float32(2.0**-24)
  return jnp.float32(2.0**0.5) * jax.lax.erf_inv(centred)


def _candidates(
  normal_bits: jax.Array, uniform_bits: jax.Array, alpha: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array]:
  """Marsaglia-Tsang candidates for Gamma(α + 1), one per normal and uniform word.

  Returns:
    `log d` `[]`, `log v³` and whether each candidate is accepted (the words' shape).
  """
  d = alpha + jnp.float32(2.0 / 3.0)  # (α + 1) − 1/3
  c = jax.lax.rsqrt(9.0 * d)
  x = normal(normal_bits)
  log_u = jnp.log(_uniform(uniform_bits))
  v = 1.0 + c * x
  positive = v > 0
  log_v3 = 3.0 * jnp.log(jnp.where(positive, v, 1.0))
  v3 = v * v * v
  accept = positive & (log_u < 0.5 * x * x + d - d * v3 + d * log_v3)
  return jnp.log(d), log_v3, accept


def _log_gamma_parts(words: jax.Array, alpha: jax.Array, count: int) -> tuple[jax.Array, jax.Array]:
  """`(log G_{α+1}, log U)`, float32 `[count]` each: log G = log G_{α+1} + log(U)/α."""
  pool = pool_size(count)
  log_d, log_v3, accept = _candidates(words[:pool], words[pool : 2 * pool], alpha)
  # The accepted candidates first, in pool order (a stable sort); G₁ = d if too few.
  rejected = (~accept).astype(jnp.int32)
  rejected, log_v3 = jax.lax.sort((rejected, log_v3), num_keys=1, is_stable=True)
  chosen = jnp.where(rejected[:count] == 0, log_v3[:count], 0.0)
  return log_d + chosen, jnp.log(_uniform(words[2 * pool :]))


def log_gammas(words: jax.Array, alpha: jax.Array, count: int) -> jax.Array:
  """log G for `count` i.i.d. G ~ Gamma(α), float32 `[count]`, from `words_for(count)`
  uint32 words; α > 0, float32 `[]`."""
  log_g1, log_u = _log_gamma_parts(words, alpha, count)
  return log_g1 + log_u / alpha


def lambda_words(shape: tuple[int, ...]) -> tuple[int, int]:
  """The uint32 words of one draw of λ `shape`: the closed form's 2 per λ, then the pool's.

  Both are always drawn, so a draw does not depend on whether α is traced: a concrete α
  computes only the method it needs, a traced one both, selected by `α > 1/2`.
  """
  count = math.prod(shape)
  return 2 * count, words_for(2 * count)


def ulrich(words: jax.Array, alpha: jax.typing.ArrayLike, shape: tuple[int, ...]) -> jax.Array:
  """Beta(α, α) `shape` from `2·prod(shape)` words by Ulrich's closed form, α > 1/2."""
  words = words.reshape((2, *shape))
  alpha = jnp.asarray(alpha, jnp.float32)
  log_u = jnp.log(_uniform(words[0]))
  theta = (words[1] >> 8).astype(jnp.float32) * jnp.float32(2.0 * math.pi * 2.0**-24)
  w = jnp.exp(log_u * (2.0 / (2.0 * alpha - 1.0)))  # U^(2/(2α−1))
  cos, sin = jnp.cos(theta), jnp.sin(theta)
  r = jnp.sqrt(1.0 - w)
  small = 0.5 * (sin * sin + w * cos * cos) / (1.0 + r * jnp.abs(cos))  # min(λ, 1 − λ)
  return jnp.where(cos > 0, 1.0 - small, small)


def beta_from_words(
  words: tuple[jax.Array, jax.Array], alpha: jax.typing.ArrayLike, shape: tuple[int, ...]
) -> jax.Array:
  """Beta(α, α) `shape` from the two parts of `lambda_words(shape)` uint32 words (unchecked
  α > 0): the closed form where α > 1/2, the pool elsewhere; a concrete α computes only
  its method."""
  closed_words, pool_words = words
  if _checks.is_concrete(alpha):
    # Compared in float32, as the traced branch does: 0.5 + 1e-9 is 0.5 there.
    if float(np.float32(alpha)) > 0.5:  # type: ignore[arg-type]
      return ulrich(closed_words, alpha, shape)
    return pool_beta(pool_words, alpha, shape)
  alpha = jnp.asarray(alpha, jnp.float32)
  closed = alpha > 0.5
  lam_closed = ulrich(closed_words, jnp.where(closed, alpha, 1.0), shape)
  return jnp.where(closed, lam_closed, pool_beta(pool_words, alpha, shape))


def pool_beta(words: jax.Array, alpha: jax.typing.ArrayLike, shape: tuple[int, ...]) -> jax.Array:
  """Beta(α, α) `shape` from `words_for(2·prod(shape))` words by the pool, any α > 0."""
  count = math.prod(shape)
  alpha = jnp.asarray(alpha, jnp.float32)
  log_g1, log_u = _log_gamma_parts(words, alpha, 2 * count)
  log_g = log_g1 + log_u / alpha
  logit = log_g[:count].reshape(shape) - log_g[count:].reshape(shape)
  # α below ~1e-37 sends both log(U)/α to −inf (−inf − −inf is NaN): then the same
  # difference taken before the division, ±inf, λ ∈ {0, 1} (the limit law, Bernoulli(½)).
  late = (log_g1[:count] - log_g1[count:]) + (log_u[:count] - log_u[count:]) / alpha
  logit = jnp.where(jnp.isnan(logit), late.reshape(shape), logit)
  # sigmoid(t) for t > 0 as 1 − sigmoid(−t): one rounding. `1 / (1 + e^−t)` rounds twice
  # and sends all of (1 − 2⁻²⁴, 1] to 1.0, double the float32 atom (visible at α = 0.1).
  return jnp.where(logit > 0, 1.0 - jax.nn.sigmoid(-logit), jax.nn.sigmoid(logit))
