"""Tests for mixjax._beta (loop-free Beta(α, α)) and for the loop-free graphs of the ops."""

from __future__ import annotations

import functools
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from jax import export

import mixjax
from mixjax import _beta
from tests.test_sampling import _ks_pvalue

_N = 20_000  # Draws per KS test: critical distance ≈ 0.014 at p = 1e-3.
_ALPHAS = [0.1, 0.2, 0.4, 1.0, 8.0, 32.0]

# α is traced: one compile per function serves every α.
_per_example = jax.jit(lambda key, alpha: mixjax.sample_lambda(key, alpha, (_N,)))
_per_key = jax.jit(jax.vmap(lambda key, alpha: mixjax.sample_lambda(key, alpha), (0, None)))
_keys = jax.random.split(jax.random.key(7), _N)


@pytest.mark.parametrize("alpha", _ALPHAS)
def test_per_example_lambda_is_beta(alpha):
  """One key, many examples (elem mode)."""
  lam = _per_example(jax.random.key(0), alpha)
  assert lam.dtype == jnp.float32 and lam.shape == (_N,)
  assert _ks_pvalue(lam, scipy.stats.beta(alpha, alpha).cdf) > 1e-3


@pytest.mark.parametrize("alpha", _ALPHAS)
def test_per_key_lambda_is_beta(alpha):
  """Many keys, one λ each (batch mode, one draw per step)."""
  lam = _per_key(_keys, alpha)
  assert _ks_pvalue(lam, scipy.stats.beta(alpha, alpha).cdf) > 1e-3


_CLOSED_FORM_ALPHAS = [0.51, 0.55, 1.0, 8.0, 32.0]


@functools.cache
def _closed_form(alpha: float, per_key: bool):
  """λ samplers with α a Python number (static): Ulrich's closed form for α > 1/2."""
  if per_key:
    return jax.jit(jax.vmap(lambda key: mixjax.sample_lambda(key, alpha)))
  return jax.jit(lambda key: mixjax.sample_lambda(key, alpha, (_N,)))


@pytest.mark.parametrize("per_key", [False, True], ids=["per_example", "per_key"])
@pytest.mark.parametrize("alpha", _CLOSED_FORM_ALPHAS)
def test_closed_form_lambda_is_beta(alpha, per_key):
  """A static α > 1/2 takes the closed form (2 words per λ); it has the same law."""
  lam = _closed_form(alpha, per_key)(_keys if per_key else jax.random.key(0))
  assert lam.dtype == jnp.float32 and np.all((lam >= 0) & (lam <= 1))
  assert _ks_pvalue(lam, scipy.stats.beta(alpha, alpha).cdf) > 1e-3
  wrong = 1.25 * alpha  # negative control
  assert _ks_pvalue(lam, scipy.stats.beta(wrong, wrong).cdf) < 1e-6


@pytest.mark.parametrize("alpha", [0.3, 0.7, 4.0, 0.5 + 1e-9])
def test_traced_and_static_alpha_draw_the_same_lambda(alpha):
  """Both methods' words are always drawn, so jit with a traced α (both methods, selected)
  and a static α (one method) give the same λ, up to float32 rounding (α is compared in
  float32 in both: 0.5 + 1e-9 is 0.5 there, the pool's)."""
  key = jax.random.key(4)
  static = mixjax.sample_lambda(key, alpha, (1000,))
  traced = _per_example_small(key, alpha)
  np.testing.assert_allclose(traced, static, rtol=2e-6, atol=1e-7)


_per_example_small = jax.jit(lambda key, alpha: mixjax.sample_lambda(key, alpha, (1000,)))


@pytest.mark.parametrize("alpha", [1e-30, 2e-38])
def test_a_vanishing_alpha_gives_the_limit_law(alpha):
  """Below ~1e-37 both log(U)/α overflow; λ is still 0 or 1, each about half the time."""
  key = jax.random.key(5)
  for lam in (mixjax.sample_lambda(key, alpha, (1000,)), _per_example_small(key, alpha)):
    lam = np.asarray(lam)
    assert set(np.unique(lam).tolist()) == {0.0, 1.0}
    assert 400 < lam.sum() < 600


def test_a_subnormal_alpha_counts_as_zero():
  """XLA:CPU flushes float32 subnormals (below 1.2e-38) to zero: α = 0, no mixing."""
  key = jax.random.key(5)
  for lam in (mixjax.sample_lambda(key, 1e-45, (100,)), _per_example_small(key, 1e-45)):
    np.testing.assert_array_equal(lam, 1.0)


def test_closed_form_keeps_small_lambda_precise():
  """Near 0 the closed form has no cancellation: at α = 0.55 the mass below 1e-6 and below
  1e-9 is the Beta law's (a `(1 + r·cos)/2` formula rounds those λ to multiples of 6e-8)."""
  alpha, n = 0.55, 10 * _N
  lam = np.asarray(mixjax.sample_lambda(jax.random.key(3), alpha, (n,)), np.float64)
  law = scipy.stats.beta(alpha, alpha)
  for t in (1e-6, 1e-9):
    assert scipy.stats.binomtest(int(np.sum(lam < t)), n, law.cdf(t)).pvalue > 1e-3
  assert np.sum((lam > 0) & (lam < 1e-7)) > 0  # values finer than float32's 1 - ε spacing


@pytest.mark.parametrize("alpha", [0.1, 8.0])
def test_ks_rejects_a_different_alpha(alpha):
  """Negative control at the ends the sampling tests do not cover."""
  lam = _per_example(jax.random.key(0), alpha)
  wrong = 1.25 * alpha
  assert _ks_pvalue(lam, scipy.stats.beta(wrong, wrong).cdf) < 1e-6


def test_float32_atom_at_one_has_the_beta_mass():
  """λ rounds to 1.0 iff λ > 1 − 2⁻²⁵: P = I_{2^-25}(α, α) (9% at α = 0.1). A sigmoid that
  rounds twice doubles the interval and gives 9.6%: 10 standard errors more at n = 10⁵."""
  alpha, n = 0.1, 5 * _N
  lam = np.concatenate([np.asarray(_per_example(jax.random.key(s), alpha)) for s in range(5)])
  expected = scipy.stats.beta(alpha, alpha).cdf(2.0**-25)
  assert scipy.stats.binomtest(int(np.sum(lam == 1.0)), n, expected).pvalue > 1e-3
  assert np.all((lam >= 0.0) & (lam <= 1.0))


_gamma = jax.jit(
  lambda key, alpha: _beta.log_gammas(
    jax.random.bits(key, (_beta.words_for(_N),), jnp.uint32), alpha, _N
  )
)


@pytest.mark.parametrize("alpha", [0.1, 1.0, 32.0])
def test_log_gamma_is_gamma(alpha):
  """exp of the boosted log-space draw is Gamma(α) (KS on log G, which avoids underflow)."""
  log_g = np.asarray(_gamma(jax.random.key(1), alpha), np.float64)
  assert np.all(np.isfinite(log_g))
  cdf = lambda t: scipy.stats.gamma(alpha).cdf(np.exp(t))
  assert scipy.stats.kstest(log_g, cdf).pvalue > 1e-3


_acceptance = jax.jit(
  lambda key, alpha: _beta._candidates(*jax.random.bits(key, (2, _N), jnp.uint32), alpha)[2].mean()
)


@pytest.mark.parametrize("alpha,rate", [(1e-6, 0.951668), (1.0, 0.981660), (8.0, 0.996720)])
def test_candidate_acceptance_rate_is_the_documented_one(alpha, rate):
  """The per-candidate acceptance rate of Marsaglia-Tsang at shape α + 1 (numerical
  integration); the pool sizes assume the worst one, 1 − REJECTION."""
  accepted = float(_acceptance(jax.random.key(2), alpha))
  assert scipy.stats.binomtest(round(accepted * _N), _N, rate).pvalue > 1e-3
  assert 1 - rate <= _beta.REJECTION


@pytest.mark.parametrize("count", [2, 256, 2048, 20_000])
def test_pool_is_the_smallest_that_rarely_runs_short(count):
  """P(fewer than `count` acceptances) <= 2^-35 for the pool, not for one candidate less;
  the binomial tail agrees with scipy's."""
  pool = _beta.pool_size(count)
  q = _beta.REJECTION
  assert _beta.shortfall(count, pool) <= _beta.SHORTFALL < _beta.shortfall(count, pool - 1)
  want = scipy.stats.binom.sf(pool - count, pool, q)
  np.testing.assert_allclose(_beta.shortfall(count, pool), want, rtol=1e-9)
  assert _beta.pool_size(2) == 10 and _beta.pool_size(256) == 300  # the docstring's


def test_a_short_pool_falls_back_to_finite_values():
  """Words that reject every candidate (acceptance uniforms of 1, so log u = 0 > the bound
  for some x) still give finite λ in [0, 1]: the documented fallback G₁ = d."""
  count = 8
  pool = _beta.pool_size(count)
  words = jnp.concatenate(
    [
      jnp.full((pool,), 0, jnp.uint32),  # normals near -5.4: v = 1 + c·x <= 0, rejected
      jnp.full((pool,), 2**32 - 1, jnp.uint32),
      jnp.full((count,), 2**31, jnp.uint32),
    ]
  )
  log_g = _beta.log_gammas(words, jnp.float32(0.01), count)
  assert np.all(np.isfinite(np.asarray(log_g)))
  d = 0.01 + 2 / 3
  np.testing.assert_allclose(log_g, np.log(d) + np.log(0.5) / 0.01, rtol=1e-5)


def test_normals_are_finite_and_antisymmetric_in_the_word():
  """Every word gives a finite normal, even the 256 largest (whose uniform once rounded to
  1, where erfinv is infinite), and the complement of a word gives the opposite normal."""
  words = jnp.concatenate(
    [jnp.arange(512, dtype=jnp.uint32), jnp.uint32(2**32 - 512) + jnp.arange(512, dtype=jnp.uint32)]
  )
  x, words = np.asarray(_beta.normal(words)), np.asarray(words)
  assert np.all(np.isfinite(x)) and np.abs(x).max() < 5.5
  np.testing.assert_array_equal(x, -np.asarray(_beta.normal(~words)))
  assert np.all(x[words < 2**31] < 0) and np.all(x[words >= 2**31] > 0)


def test_alpha_zero_is_exactly_one():
  np.testing.assert_array_equal(_per_example(jax.random.key(3), 0.0), np.ones(_N, np.float32))
  np.testing.assert_array_equal(_per_key(_keys, 0.0), np.ones(_N, np.float32))


# ---------------------------------------------------------------------------------------
# No loops in the graph of any op.

_B, _H, _W, _C, _CLASSES = 8, 12, 10, 3, 5


def _mixing_ops():
  ops = {}
  for op_name in ("mixup", "cutmix", "mixup_or_cutmix", "fmix", "resizemix"):
    for mode in ("batch", "elem"):
      for pairing in ("permute", "flip"):
        op = functools.partial(getattr(mixjax, op_name), mode=mode, pairing=pairing)
        ops[f"{op_name} {mode}/{pairing}"] = lambda k, x, y, a, op=op: op(k, x, y)
  ops["mixup traced alpha"] = lambda k, x, y, a: mixjax.mixup(k, x, y, alpha=a, mode="elem")
  ops["sample_lambda"] = lambda k, x, y, a: mixjax.sample_lambda(k, a, (_B,))
  for mode in ("batch", "elem"):
    ops[f"random_erasing {mode}"] = lambda k, x, y, a, m=mode: mixjax.random_erasing(k, x, mode=m)
    ops[f"gridmask {mode}"] = lambda k, x, y, a, m=mode: mixjax.gridmask(k, x, mode=m)
  ops["random_erasing value=0"] = lambda k, x, y, a: mixjax.random_erasing(k, x, value=0.0)
  ops["random_crop_flip"] = lambda k, x, y, a: mixjax.random_crop_flip(k, x)
  ops["random_crop reflect"] = lambda k, x, y, a: mixjax.random_crop(k, x, pad_mode="reflect")
  ops["random_flip"] = lambda k, x, y, a: mixjax.random_flip(k, x)
  return ops


_ARGS = (
  jax.random.key(0),
  jnp.zeros((_B, _H, _W, _C)),
  jnp.zeros((_B, _CLASSES)),
  jnp.float32(0.4),
)


def _exported_text(fn, platform: str) -> str:
  return export.export(jax.jit(fn), platforms=[platform])(*_ARGS).mlir_module()


def _whiles_per_function(text: str) -> dict[str, int]:
  """`stablehlo.while` count of every `func.func` of a module, by name."""
  counts = {}
  for chunk in re.split(r"\n(?=\s*func\.func )", text):
    name = re.search(r"func\.func (?:public |private )?@([\w.$-]+)", chunk)
    if name:
      counts[name.group(1)] = chunk.count("stablehlo.while")
  return counts


@pytest.mark.parametrize("platform", ["cuda", "tpu"])
def test_no_while_loop_on_accelerators(platform):
  for name, fn in _mixing_ops().items():
    whiles = _exported_text(fn, platform).count("stablehlo.while")
    assert whiles == 0, (platform, name, whiles)


def test_the_while_count_sees_jax_random_beta():
  """Negative control: jax's own Beta lowers with a rejection loop per Gamma."""
  beta = lambda k, x, y, a: jax.random.beta(k, a, a, (_B,))
  assert _exported_text(beta, "cuda").count("stablehlo.while") == 2


_JAX_RANDOM_OPS = ("random_crop_flip", "random_crop reflect", "random_flip")  # jax.random's draws.


def test_on_cpu_no_op_of_ours_loops():
  """The ops that draw with `_words.bits` hold no loop on XLA:CPU either."""
  for name, fn in _mixing_ops().items():
    if name not in _JAX_RANDOM_OPS:
      assert jax.jit(fn).lower(*_ARGS).as_text().count("stablehlo.while") == 0, name


def test_on_cpu_the_while_count_sees_jax_threefry():
  """Negative control: XLA:CPU lowers jax's own threefry (crop and flip draw with it) as a
  rolled loop, and nothing else there loops."""
  for name in _JAX_RANDOM_OPS:
    counts = _whiles_per_function(jax.jit(_mixing_ops()[name]).lower(*_ARGS).as_text())
    assert sum(counts.values()) > 0, name
    others = {f: n for f, n in counts.items() if n and not re.fullmatch(r"threefry2x32(_\d+)?", f)}
    assert not others, (name, others)
