"""Tests for the sampling half of the ops: λ, partners, boxes and MixParams."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats

import mixjax

_N = 20_000  # Draws for the statistical tests: KS critical distance ≈ 0.014 at p = 1e-3.


def _ks_pvalue(samples, cdf) -> float:
  """Kolmogorov-Smirnov p-value of float32 samples against a continuous CDF.

  `scipy.stats.kstest` takes every sample as an exact real number. A float32 draw is
  not: every real in (1 - 2^-25, 1] rounds to exactly 1.0, which holds about 2% of the
  mass of Beta(0.2, 0.2), and that one atom makes `kstest` reject a correct sampler
  (p ~ 1e-6 at n = 20000). Here each value stands for the reals that round to it, so the
  empirical CDF after a value is compared with the CDF at the upper edge of its rounding
  interval, and before the value with the CDF at the lower edge. For values that are not
  tied this is `kstest`'s statistic up to half an ulp.
  """
  x = np.sort(np.asarray(samples, np.float32))
  n = x.size
  x64 = x.astype(np.float64)
  lower = (x64 + np.nextafter(x, np.float32(-np.inf)).astype(np.float64)) / 2
  upper = (x64 + np.nextafter(x, np.float32(np.inf)).astype(np.float64)) / 2
  rank = np.arange(1, n + 1)
  distance = max(np.max(rank / n - cdf(upper)), np.max(cdf(lower) - (rank - 1) / n))
  return float(scipy.stats.kstwo(n).sf(distance))


# ---------------------------------------------------------------------------------------
# sample_lambda


@pytest.mark.parametrize("alpha", [0.2, 1.0, 32.0])
def test_lambda_is_beta_distributed(alpha):
  lam = mixjax.sample_lambda(jax.random.key(0), alpha, (_N,))
  chex.assert_shape(lam, (_N,))
  chex.assert_type(lam, jnp.float32)
  assert float(lam.min()) >= 0.0 and float(lam.max()) <= 1.0
  assert _ks_pvalue(lam, scipy.stats.beta(alpha, alpha).cdf) > 1e-3
  if alpha >= 1.0:  # No float32 atom worth the name: the plain scipy test agrees.
    assert scipy.stats.kstest(np.asarray(lam), scipy.stats.beta(alpha, alpha).cdf).pvalue > 1e-3


@pytest.mark.parametrize("alpha", [0.2, 1.0, 32.0])
def test_ks_test_rejects_a_different_alpha(alpha):
  """Negative control: the KS test above has the power to see a 25% change of α."""
  lam = mixjax.sample_lambda(jax.random.key(0), alpha, (_N,))
  wrong = 1.25 * alpha
  assert _ks_pvalue(lam, scipy.stats.beta(wrong, wrong).cdf) < 1e-6


def test_lambda_alpha_zero_is_exactly_one():
  lam = mixjax.sample_lambda(jax.random.key(3), 0.0, (_N,))
  np.testing.assert_array_equal(lam, np.ones(_N, np.float32))
  traced = jax.jit(lambda key, a: mixjax.sample_lambda(key, a, (64,)))(jax.random.key(3), 0.0)
  np.testing.assert_array_equal(traced, np.ones(64, np.float32))


def test_lambda_scalar_default_shape():
  lam = mixjax.sample_lambda(jax.random.key(1), 1.0)
  chex.assert_shape(lam, ())
  chex.assert_type(lam, jnp.float32)


def test_lambda_is_deterministic_per_key():
  # Shapes shared with the other tests here, so that nothing new is compiled.
  draw = lambda seed: mixjax.sample_lambda(jax.random.key(seed), 1.0, (_N,))
  np.testing.assert_array_equal(draw(5), draw(5))
  assert not np.array_equal(draw(5), draw(6))


def test_lambda_traced_alpha_does_not_retrace():
  @jax.jit
  @chex.assert_max_traces(n=1)
  def draw(key, alpha):
    return mixjax.sample_lambda(key, alpha, (4000,))

  means = [float(draw(jax.random.key(i), a).var()) for i, a in enumerate((0.2, 1.0, 8.0))]
  # Var Beta(α, α) = 1 / (4 (2α + 1)): the traced α really is used.
  expected = [1 / (4 * (2 * a + 1)) for a in (0.2, 1.0, 8.0)]
  np.testing.assert_allclose(means, expected, rtol=0.1)


@pytest.mark.parametrize("alpha", [-0.5, float("nan"), float("inf"), -float("inf")])
def test_lambda_bad_alpha_raises(alpha):
  with pytest.raises(ValueError, match=rf"`alpha` must be finite and >= 0, got {alpha}"):
    mixjax.sample_lambda(jax.random.key(0), alpha)


def test_lambda_non_scalar_alpha_raises():
  with pytest.raises(ValueError, match=r"`alpha` must be a scalar, got shape \(2,\)"):
    mixjax.sample_lambda(jax.random.key(0), jnp.array([1.0, 2.0]))


# ---------------------------------------------------------------------------------------
# sample_partners


@pytest.mark.parametrize("batch_size", [1, 2, 7, 64])
def test_permute_partners_are_a_permutation(batch_size):
  partner = mixjax.sample_partners(jax.random.key(batch_size), batch_size)
  chex.assert_shape(partner, (batch_size,))
  chex.assert_type(partner, jnp.int32)
  np.testing.assert_array_equal(np.sort(partner), np.arange(batch_size))


def test_permute_partners_differ_across_keys():
  draws = {tuple(np.asarray(mixjax.sample_partners(jax.random.key(s), 16))) for s in range(20)}
  assert len(draws) == 20
  np.testing.assert_array_equal(
    mixjax.sample_partners(jax.random.key(3), 16), mixjax.sample_partners(jax.random.key(3), 16)
  )


def test_permute_partners_are_uniform():
  """Every example is the partner of slot 0 about equally often (chi-square)."""
  keys = jax.random.split(jax.random.key(0), 4000)
  first = jax.jit(jax.vmap(lambda k: mixjax.sample_partners(k, 5)[0]))(keys)
  counts = np.bincount(np.asarray(first), minlength=5)
  assert scipy.stats.chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize("batch_size", [1, 2, 5, 8])
def test_flip_partners_are_reversed(batch_size):
  partner = mixjax.sample_partners(jax.random.key(0), batch_size, pairing="flip")
  chex.assert_type(partner, jnp.int32)
  np.testing.assert_array_equal(partner, np.arange(batch_size)[::-1])


@pytest.mark.parametrize("batch_size", [1, 2, 5, 8])
def test_roll_partners_are_the_previous_example(batch_size):
  partner = mixjax.sample_partners(jax.random.key(0), batch_size, pairing="roll")
  chex.assert_type(partner, jnp.int32)
  np.testing.assert_array_equal(partner, (np.arange(batch_size) - 1) % batch_size)


def test_partners_bad_pairing_raises():
  with pytest.raises(ValueError, match=r"`pairing` must be one of .*'permute'.*got 'shuffle'"):
    mixjax.sample_partners(jax.random.key(0), 4, pairing="shuffle")


@pytest.mark.parametrize("batch_size", [0, -2, 4.0])
def test_partners_bad_batch_size_raises(batch_size):
  with pytest.raises(ValueError, match=rf"`batch_size` must be a positive .*, got {batch_size}"):
    mixjax.sample_partners(jax.random.key(0), batch_size)


# ---------------------------------------------------------------------------------------
# sample_box


def _box_sides(box):
  box = np.asarray(box)
  return box[..., 2] - box[..., 0], box[..., 3] - box[..., 1]


def test_box_shape_and_bounds():
  height, width = 13, 9
  lam = mixjax.sample_lambda(jax.random.key(0), 1.0, (_N,))
  box = mixjax.sample_box(jax.random.key(1), lam, (height, width))
  chex.assert_shape(box, (_N, 4))
  chex.assert_type(box, jnp.int32)
  top, left, bottom, right = np.asarray(box).T
  assert np.all((0 <= top) & (top <= bottom) & (bottom <= height))
  assert np.all((0 <= left) & (left <= right) & (right <= width))
  chex.assert_shape(mixjax.sample_box(jax.random.key(1), lam[0], (height, width)), (4,))


def test_unclipped_box_has_area_one_minus_lambda():
  """A box away from the borders has sides floor(H·sqrt(1-λ)) by floor(W·sqrt(1-λ))."""
  height, width = 64, 48
  lam = mixjax.sample_lambda(jax.random.key(0), 1.0, (_N,))
  box = np.asarray(mixjax.sample_box(jax.random.key(1), lam, (height, width)))
  inside = (box[:, 0] > 0) & (box[:, 1] > 0) & (box[:, 2] < height) & (box[:, 3] < width)
  assert inside.sum() > 100
  cut = np.sqrt(1.0 - np.asarray(lam, np.float64))[inside]
  box_h, box_w = _box_sides(box[inside])
  # Allow one pixel where H·sqrt(1-λ) is within float32 rounding of an integer.
  assert np.all(np.abs(box_h - np.floor(height * cut)) <= 1)
  assert np.all(np.abs(box_w - np.floor(width * cut)) <= 1)
  assert np.mean(box_h == np.floor(height * cut)) > 0.99
  area = box_h * box_w / (height * width)
  tolerance = 2 / min(height, width) + 1e-3  # floor() loses less than a pixel per side.
  np.testing.assert_allclose(area, 1.0 - np.asarray(lam)[inside], atol=tolerance)


def test_box_extremes():
  height, width = 10, 7
  lam = jnp.array([1.0, 1.0, 0.0, 0.0, 0.0])
  box = mixjax.sample_box(jax.random.key(0), lam, (height, width))
  box_h, box_w = _box_sides(box)
  np.testing.assert_array_equal(box_h[:2] * box_w[:2], 0)  # λ = 1: nothing pasted.
  # λ = 0: a full-size box around a random centre, clipped: at least half of each side.
  assert np.all(box_h[2:] >= height - height // 2) and np.all(box_w[2:] >= width - width // 2)


@pytest.mark.parametrize(
  "call, match",
  [
    (lambda k: mixjax.sample_lambda(k, 0.4, 5), "`shape` must be a tuple"),
    (lambda k: mixjax.sample_lambda(k, 0.4, (-1,)), "`shape` must be a tuple"),
    (lambda k: mixjax.sample_box(k, 1.5, (8, 8)), r"`lam` must be in \[0, 1\]"),
    (lambda k: mixjax.sample_box(k, jnp.array([0.5, -1.0]), (8, 8)), "`lam` must be in"),
    (lambda k: mixjax.sample_box(k, 0.5, (8.5, 8)), "`image_size` must be"),
    (lambda k: mixjax.sample_box_minmax(k, (), (8, 8), (-1.0, 2.0)), "`cutmix_minmax` must be"),
    (lambda k: mixjax.sample_box_minmax(k, (), (8, 8), (0.8, 0.2)), "`cutmix_minmax` must be"),
    (lambda k: mixjax.sample_box_minmax(k, (), (8, 8), None), "`cutmix_minmax` must be"),
    (lambda k: mixjax.sample_box_minmax(k, (), (0, 8), (0.2, 0.8)), "`image_size` must be"),
    (lambda k: mixjax.sample_box_minmax(k, 4, (8, 8), (0.2, 0.8)), "`shape` must be"),
  ],
)
def test_box_samplers_check_their_arguments(call, match):
  with pytest.raises(ValueError, match=match):
    call(jax.random.key(0))


@pytest.mark.parametrize("alpha", [0.2, 1.0])
def test_clipped_box_mean_area(alpha):
  """The pasted (clipped) area averages E[(r - r²/4)²], r = sqrt(1-λ), not 1 - E[λ].

  A side of length r (relative to the image) centred uniformly in [0, 1] keeps
  r - r²/4 of its length on average after clipping. With u = 1-λ ~ Beta(α, α):
  E[u - u^1.5 / 2 + u² / 16], all Beta moments.
  """
  lam = mixjax.sample_lambda(jax.random.key(0), alpha, (_N,))
  box_h, box_w = _box_sides(mixjax.sample_box(jax.random.key(1), lam, (200, 200)))
  area = box_h * box_w / 200**2
  moment_15 = scipy.special.beta(alpha + 1.5, alpha) / scipy.special.beta(alpha, alpha)
  moment_2 = (alpha + 1) / (2 * (2 * alpha + 1))
  expected = 0.5 - moment_15 / 2 + moment_2 / 16
  assert abs(area.mean() - expected) < 0.01, (area.mean(), expected)
  # Before clipping the box area averages 1 - E[λ] = 0.5; clipping visibly shrinks it.
  assert area.mean() < 0.45


def test_box_centres_cover_the_image():
  lam = jnp.full((_N,), 0.96)  # Boxes of 2 x 2 pixels on a 10 x 10 image.
  box = np.asarray(mixjax.sample_box(jax.random.key(0), lam, (10, 10)))
  box_h, box_w = _box_sides(box)
  assert np.all(box_h <= 2) and np.all(box_w <= 2)
  np.testing.assert_array_equal(np.unique(box[:, 2]), np.arange(1, 11))
  np.testing.assert_array_equal(np.unique(box[:, 3]), np.arange(1, 11))


# ---------------------------------------------------------------------------------------
# sample_*_params


@pytest.mark.parametrize("pairing", ["permute", "flip", "roll"])
def test_mixup_params_modes(pairing):
  batch = mixjax.sample_mixup_params(jax.random.key(0), 6, alpha=1.0, pairing=pairing)
  chex.assert_shape(batch.lam, ())
  assert batch.box is None and batch.pairing == pairing
  np.testing.assert_array_equal(np.sort(batch.partner), np.arange(6))
  elem = mixjax.sample_mixup_params(jax.random.key(0), 6, alpha=1.0, mode="elem", pairing=pairing)
  chex.assert_shape(elem.lam, (6,))
  assert len(np.unique(elem.lam)) == 6  # One λ per example.
  if pairing == "flip":
    np.testing.assert_array_equal(elem.partner, np.arange(6)[::-1])
  if pairing == "roll":
    np.testing.assert_array_equal(elem.partner, [5, 0, 1, 2, 3, 4])


def test_elem_mode_lambda_is_beta_per_example():
  lam = mixjax.sample_mixup_params(jax.random.key(0), _N, alpha=0.5, mode="elem").lam
  assert _ks_pvalue(lam, scipy.stats.beta(0.5, 0.5).cdf) > 1e-3


def test_cutmix_params():
  params = mixjax.sample_cutmix_params(jax.random.key(0), 5, (8, 6), alpha=1.0, mode="elem")
  np.testing.assert_array_equal(params.lam, np.ones(5, np.float32))
  chex.assert_shape(params.box, (5, 4))
  box_h, box_w = _box_sides(params.box)
  assert np.any(box_h * box_w > 0)
  batch = mixjax.sample_cutmix_params(jax.random.key(0), 5, (8, 6), alpha=1.0)
  chex.assert_shape([batch.lam, batch.box], [(), (4,)])
  off = mixjax.sample_cutmix_params(jax.random.key(0), 5, (8, 6), alpha=0.0, mode="elem")
  np.testing.assert_array_equal(np.prod(_box_sides(off.box), axis=0), 0)


def test_mixup_or_cutmix_params_switch_extremes():
  sample = lambda p: mixjax.sample_mixup_or_cutmix_params(
    jax.random.key(0), 64, (8, 8), switch_prob=p, mode="elem"
  )
  mixup_only = sample(0.0)
  np.testing.assert_array_equal(np.asarray(mixup_only.box), 0)
  assert np.all(np.asarray(mixup_only.lam) < 1.0)
  cutmix_only = sample(1.0)
  np.testing.assert_array_equal(cutmix_only.lam, np.ones(64, np.float32))
  box_h, box_w = _box_sides(cutmix_only.box)
  assert np.mean(box_h * box_w > 0) > 0.9


@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize(
  ("mixup_alpha", "cutmix_alpha", "minmax", "expected"),
  [
    (1.0, 0.0, None, "mixup"),
    (0.0, 1.0, None, "cutmix"),
    (0.0, 0.0, (0.2, 0.8), "cutmix"),  # timm: minmax turns CutMix on whatever its α.
    (0.0, 0.0, None, "identity"),
    (1.0, 1e-40, None, "mixup"),  # Below float32's smallest normal: 0.
  ],
)
def test_mixup_or_cutmix_with_one_alpha_zero_always_uses_the_other(
  mixup_alpha, cutmix_alpha, minmax, expected, traced
):
  def sample(mixup_alpha, cutmix_alpha):
    return mixjax.sample_mixup_or_cutmix_params(
      jax.random.key(3),
      64,
      (8, 8),
      mixup_alpha=mixup_alpha,
      cutmix_alpha=cutmix_alpha,
      cutmix_minmax=minmax,
      mode="elem",
    )

  params = (jax.jit(sample) if traced else sample)(mixup_alpha, cutmix_alpha)
  pasted = np.prod(_box_sides(params.box), axis=0) > 0
  lam = np.asarray(params.lam)
  if expected == "cutmix":
    np.testing.assert_array_equal(lam, 1.0)
    assert pasted.mean() > 0.9  # A box of Beta(1, 1) area can round to nothing.
  else:
    assert not pasted.any()
    assert np.all(lam < 1.0) if expected == "mixup" else np.all(lam == 1.0)


@pytest.mark.parametrize("switch_prob", [0.1, 0.5, 0.8])
def test_mixup_or_cutmix_switch_fraction_elem(switch_prob):
  params = mixjax.sample_mixup_or_cutmix_params(
    jax.random.key(1), 4000, (16, 16), switch_prob=switch_prob, mode="elem"
  )
  cutmix_count = int(np.sum(np.asarray(params.lam) == 1.0))  # Mixup λ < 1 almost surely.
  assert scipy.stats.binomtest(cutmix_count, 4000, switch_prob).pvalue > 1e-3


def test_mixup_or_cutmix_switch_fraction_batch():
  keys = jax.random.split(jax.random.key(2), 2000)
  sample = lambda k: mixjax.sample_mixup_or_cutmix_params(k, 4, (16, 16), switch_prob=0.3)
  lam = np.asarray(jax.jit(jax.vmap(sample))(keys).lam)
  chex.assert_shape(lam, (2000,))
  assert scipy.stats.binomtest(int(np.sum(lam == 1.0)), 2000, 0.3).pvalue > 1e-3


@pytest.mark.parametrize("switch_prob", [-0.1, 1.5, float("nan")])
def test_bad_switch_prob_raises(switch_prob):
  with pytest.raises(ValueError, match=rf"`switch_prob` must be in \[0, 1\], got {switch_prob}"):
    mixjax.sample_mixup_or_cutmix_params(jax.random.key(0), 4, (8, 8), switch_prob=switch_prob)


@pytest.mark.parametrize("name", ["mixup_alpha", "cutmix_alpha"])
def test_mixup_or_cutmix_params_bad_alpha_raises(name):
  with pytest.raises(ValueError, match=rf"`{name}` must be finite and >= 0, got -1.0"):
    mixjax.sample_mixup_or_cutmix_params(jax.random.key(0), 4, (8, 8), **{name: -1.0})


def test_params_bad_mode_raises():
  with pytest.raises(ValueError, match=r"`mode` must be one of \('batch', 'elem'\), got 'pixel'"):
    mixjax.sample_mixup_params(jax.random.key(0), 4, mode="pixel")


@pytest.mark.parametrize("alphas", [(0.4, 0.4), (0.4, 2.0)])
def test_mixup_or_cutmix_each_branch_has_its_own_beta(alphas):
  """Per example: the mixup λ is Beta(α_mixup) and the CutMix box has the law of
  `sample_cutmix_params` at α_cutmix (two-sample KS on the pasted area), whether the two
  α share one draw (equal) or not; and the branches of neighbours are uncorrelated."""
  mixup_alpha, cutmix_alpha = alphas
  params = mixjax.sample_mixup_or_cutmix_params(
    jax.random.key(5),
    20_000,
    (64, 64),
    mixup_alpha=mixup_alpha,
    cutmix_alpha=cutmix_alpha,
    mode="elem",
  )
  area = lambda box: (box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])
  lam, pasted = np.asarray(params.lam, np.float64), area(np.asarray(params.box))
  use_cutmix = pasted > 0
  law = scipy.stats.beta(mixup_alpha, mixup_alpha)
  # Mixup draws whose λ rounded to 1.0 look like CutMix draws with an empty box: compare
  # the λ < 1 part with the conditional law.
  mixed = lam[~use_cutmix & (lam < 1.0)]
  assert scipy.stats.kstest(mixed, lambda t: law.cdf(t) / law.cdf(1 - 2**-25)).pvalue > 1e-3
  reference = mixjax.sample_cutmix_params(
    jax.random.key(6), 20_000, (64, 64), alpha=cutmix_alpha, mode="elem"
  )
  want = area(np.asarray(reference.box))
  assert scipy.stats.ks_2samp(pasted[use_cutmix], want[want > 0]).pvalue > 1e-3
  assert abs(np.corrcoef(lam[:-1], pasted[1:])[0, 1]) < 0.05
