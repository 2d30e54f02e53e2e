"""Tests for mixjax._checks: each check's message, and traced values passing unchecked."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mixjax import _checks


def _traced(check, *values):
  """Runs `check` on traced copies of `values` under jit; returns what it returned."""
  seen = []
  jax.jit(lambda *v: seen.append(check(*v)))(*values)
  return seen[0]


def test_is_concrete():
  assert _checks.is_concrete(1.0) and _checks.is_concrete(np.ones(2))
  assert _checks.is_concrete(jnp.ones(2))
  assert not _traced(_checks.is_concrete, 1.0)


# ---------------------------------------------------------------------------------------
# Integers


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int32(1)])
def test_check_int_returns_a_python_int(value):
  out = _checks.check_int(value, "n", low=1)
  assert out == value and type(out) is int


@pytest.mark.parametrize(
  "value,low,high,match",
  [
    (0, 1, None, r"`n` must be a positive int, got 0\."),
    (True, 1, None, r"`n` must be a positive int, got True\."),
    (2.0, 1, None, r"`n` must be a positive int, got 2\.0\."),
    (-1, 0, None, r"`n` must be an int >= 0, got -1\."),
    (6, 2, 5, r"`n` must be an int in \[2, 5\], got 6\."),
    (1, None, 0, r"`n` must be an int in \(-inf, 0\], got 1\."),
    ("3", None, None, r"`n` must be an int in \(-inf, inf\), got '3'\."),
  ],
)
def test_check_int_message(value, low, high, match):
  with pytest.raises(ValueError, match=match):
    _checks.check_int(value, "n", low=low, high=high)


def test_is_int_and_positive_int():
  assert _checks.is_int(3, low=1, high=3) and not _checks.is_int(4, high=3)
  assert not _checks.is_int(True) and not _checks.is_int(1.0)
  assert _checks.check_positive_int(np.int16(2), "k") == 2
  with pytest.raises(ValueError, match=r"`k` must be a positive int, got -2\."):
    _checks.check_positive_int(-2, "k")
  with pytest.raises(ValueError, match=r"`batch_size` must be a positive int, got 0\."):
    _checks.check_batch_size(0)


# ---------------------------------------------------------------------------------------
# Numbers and intervals


@pytest.mark.parametrize(
  "value,kwargs,match",
  [
    (-0.5, {"low": 0.0}, r"`x` must be a finite number in \[0, inf\), got -0\.5\."),
    (0.0, {"low": 0.0, "low_open": True}, r"`x` must be a finite number in \(0, inf\), got 0\.0"),
    (1.0, {"high": 1.0, "high_open": True}, r"in \(-inf, 1\), got 1\.0"),
    (float("nan"), {}, r"`x` must be a finite number in \(-inf, inf\), got nan\."),
    (float("inf"), {"low": 0.0}, r"got inf\."),
    (np.float32(2.5), {"high": 2.0, "expected": "at most 2"}, r"`x` must be at most 2, got 2\.5\."),
  ],
)
def test_check_number_message(value, kwargs, match):
  with pytest.raises(ValueError, match=match):
    _checks.check_number(value, "x", **kwargs)


def test_check_number_passes_good_and_traced_values_and_checks_shapes():
  assert _checks.check_number(0.5, "x", low=0.0, high=1.0) == 0.5
  assert _checks.check_number(jnp.float32(1.0), "x", low=0.0, high=1.0) == 1.0
  # A traced value that would fail when concrete passes: its shape is all that is known.
  _traced(lambda v: _checks.check_number(v, "x", low=0.0), -1.0)
  with pytest.raises(ValueError, match=r"`x` must be a scalar, got shape \(2,\)\."):
    _checks.check_number(np.ones(2), "x")
  with pytest.raises(ValueError, match=r"`x` must be a scalar, got shape \(3,\)\."):
    _traced(lambda v: _checks.check_number(v, "x"), jnp.ones(3))


def test_alpha_and_probability_messages():
  with pytest.raises(ValueError, match=r"`alpha` must be finite and >= 0, got -1\.0\."):
    _checks.check_alpha(-1.0)
  with pytest.raises(ValueError, match=r"`beta` must be finite and >= 0, got nan\."):
    _checks.check_alpha(float("nan"), "beta")
  with pytest.raises(ValueError, match=r"`p` must be in \[0, 1\], got 1\.5\."):
    _checks.check_probability(1.5, "p")
  _checks.check_alpha(0.0)
  _checks.check_probability(1.0, "p")
  _traced(lambda a, p: (_checks.check_alpha(a), _checks.check_probability(p, "p")), -1.0, 2.0)


_UNIT = {"low": 0.0, "low_open": True, "high": 1.0, "expected": "fractions with 0 < lo <= hi <= 1"}


@pytest.mark.parametrize("value", [(0.1, 0.5), [0.5, 0.5], np.array([0.2, 1.0]), jnp.ones(2)])
def test_check_interval_returns_the_pair(value):
  lo, hi = _checks.check_interval(value, "r", **_UNIT)
  assert float(lo) == float(value[0]) and float(hi) == float(value[1])


@pytest.mark.parametrize(
  "value,match",
  [
    ((0.0, 0.5), r"`r` must be fractions with 0 < lo <= hi <= 1, got \(0\.0, 0\.5\)\."),
    ((0.6, 0.5), r"`r` must be fractions .*, got \(0\.6, 0\.5\)\."),
    ((0.5, 1.5), r"got \(0\.5, 1\.5\)"),
    ((0.5, float("nan")), r"got \(0\.5, nan\)"),
    (0.3, r"`r` must be a pair \(low, high\), got shape \(\)\."),
    ("ab", r"`r` must be a pair \(low, high\), got 'ab'\."),
    ((0.1, 0.2, 0.3), r"`r` must be a pair \(low, high\), got \(0\.1, 0\.2, 0\.3\)\."),
    (np.ones(3), r"`r` must be a pair \(low, high\), got shape \(3,\)\."),
    ((0.1, np.ones(2)), r"`r` must hold two scalars, got an element of shape \(2,\)\."),
  ],
)
def test_check_interval_message(value, match):
  with pytest.raises(ValueError, match=match):
    _checks.check_interval(value, "r", **_UNIT)


def test_check_interval_without_upper_bound_needs_finite_values():
  assert _checks.check_interval((1.0, 1e9), "r", low=0.0, expected="e") == (1.0, 1e9)
  with pytest.raises(ValueError, match=r"`r` must be e, got \(1\.0, inf\)\."):
    _checks.check_interval((1.0, float("inf")), "r", low=0.0, expected="e")


def test_check_interval_passes_traced_values():
  lo, hi = _traced(lambda v: _checks.check_interval(v, "r", **_UNIT), jnp.array([0.9, 0.1]))
  assert isinstance(lo, jax.core.Tracer) and isinstance(hi, jax.core.Tracer)
  # One traced end: the pair cannot be compared, so it passes too.
  _traced(lambda a: _checks.check_interval((a, 0.5), "r", **_UNIT), 2.0)


# ---------------------------------------------------------------------------------------
# Choices, shapes and sizes


def test_check_choice_and_lam_shape():
  _checks.check_choice("elem", "mode", _checks.MODES)
  with pytest.raises(ValueError, match=r"`mode` must be one of \('batch', 'elem'\), got 'px'\."):
    _checks.check_choice("px", "mode", _checks.MODES)
  assert _checks.lam_shape(5, "batch") == () and _checks.lam_shape(5, "elem") == (5,)
  with pytest.raises(ValueError, match=r"`mode` must be one of \('batch', 'elem'\), got 'x'"):
    _checks.lam_shape(5, "x")


@pytest.mark.parametrize("image_size", [(16,), (0, 4), (4, 2.0), (True, 4), 8, "ab"])
def test_check_image_size_message(image_size):
  match = re.escape(f"`image_size` must be (height, width), two positive ints, got {image_size!r}.")
  with pytest.raises(ValueError, match=match):
    _checks.check_image_size(image_size)
  assert _checks.check_image_size([np.int64(3), 5]) == (3, 5)


def test_check_labels():
  assert _checks.check_labels(jnp.zeros((4, 3))) == 4
  assert _traced(_checks.check_labels, jnp.zeros((2, 3))) == 2
  for bad, shape, dtype in (
    (jnp.zeros(4), r"\(4,\)", "float32"),
    (jnp.zeros((4, 3), int), r"\(4, 3\)", "int32"),
  ):
    with pytest.raises(
      ValueError, match=rf"`labels` must be a 2-D floating .*got shape {shape} and dtype {dtype}"
    ):
      _checks.check_labels(bad)


def test_check_inputs():
  _checks.check_inputs({"a": jnp.zeros((3, 2)), "b": (jnp.zeros(3),)}, 3)
  with pytest.raises(ValueError, match=r"`inputs` must hold at least one array, got \{\}\."):
    _checks.check_inputs({}, 3)
  with pytest.raises(TypeError, match=r"`x`\['a'\] must be floating to be mixed, got dtype int32"):
    _checks.check_inputs({"a": jnp.zeros((3,), jnp.int32)}, 3, "x")
  with pytest.raises(ValueError, match=r"`inputs`\[0\] has shape \(2,\), .*`labels`, 3\."):
    _checks.check_inputs([jnp.zeros(2)], 3)


def test_check_rank4_and_images():
  assert _checks.check_rank4(jnp.zeros((2, 3, 4, 1), jnp.uint8)) == (2, 3, 4, 1)
  assert _checks.check_images(jnp.zeros((2, 3, 4, 1))) == (2, 3, 4, 1)
  with pytest.raises(
    ValueError, match=r"`x` must be rank 4 \[batch, height, width, channels\], got shape \(3, 4\)\."
  ):
    _checks.check_rank4(jnp.zeros((3, 4)), "x")
  with pytest.raises(TypeError, match=r"`images` must be floating, got dtype uint8; .*astype"):
    _checks.check_images(jnp.zeros((2, 3, 4, 1), jnp.uint8))


def test_check_array():
  _checks.check_array(jnp.zeros((3, 2), jnp.int32), "o", (3, 2), "integer")
  _checks.check_array(jnp.zeros(3, bool), "f", (3,), "boolean")
  with pytest.raises(
    ValueError,
    match=r"`o` must be an integer array of shape \(3, 2\) \(top, left\), got shape \(3, 2\) "
    r"and dtype float32\.",
  ):
    _checks.check_array(jnp.zeros((3, 2)), "o", (3, 2), "integer", " (top, left)")
  with pytest.raises(
    ValueError,
    match=r"`f` must be a boolean array of shape \(3,\), got shape \(4,\) and dtype bool\.",
  ):
    _checks.check_array(jnp.zeros(4, bool), "f", (3,), "boolean")


def test_check_int_rows():
  out = _checks.check_int_rows(np.zeros((5, 4), np.int64), "boxes", 5)
  assert out.dtype == jnp.int32 and out.shape == (5, 4)
  assert _checks.check_int_rows(np.arange(4), "grid", 5).shape == (4,)
  with pytest.raises(TypeError, match=r"`boxes` must be an integer array, got dtype float32\."):
    _checks.check_int_rows(jnp.zeros(4), "boxes", 5)
  with pytest.raises(
    ValueError,
    match=r"`grid` must have shape \(4,\) or \(5, 4\) to match the images, got \(5, 3\)\.",
  ):
    _checks.check_int_rows(jnp.zeros((5, 3), int), "grid", 5)
  with pytest.raises(ValueError, match=r"`boxes` must be an array, got a NoneType: None\."):
    _checks.check_int_rows(None, "boxes", 5)


def test_check_field_names_the_shapes_and_the_dtype():
  _checks.check_field(np.zeros((2, 3), bool), "mask", [(3,), (2, 3)], kind=jnp.bool_, against="x")
  _checks.check_field(0.5, "lam", [(), (2,)], against="x")
  with pytest.raises(TypeError, match=r"^`mask` must be a boolean array, got dtype int32\.$"):
    _checks.check_field(jnp.zeros(3, int), "mask", [(3,)], kind=jnp.bool_, against="x")
  with pytest.raises(
    ValueError, match=r"^`lam` must have shape \(\) or \(2,\) to match x, got \(3,\)\.$"
  ):
    _checks.check_field(jnp.zeros(3), "lam", [(), (2,)], against="x")


# ---------------------------------------------------------------------------------------
# Fills


def test_check_fill():
  for fill in (0.0, 1, np.float32(2), jnp.ones(3), jnp.arange(3)):
    _checks.check_fill(fill, "fill", 3)
  _traced(lambda f: _checks.check_fill(f, "fill", 3), jnp.ones(3))
  with pytest.raises(ValueError, match=r"`fill` must be a number or a \[3\] vector, got 'black'\."):
    _checks.check_fill("black", "fill", 3)
  _checks.check_fill([1, 2, 3], "fill", 3)  # A list is a vector.
  with pytest.raises(ValueError, match=r"`fill` must be a scalar or a per-channel vector"):
    _checks.check_fill([1, 2], "fill", 3)
  with pytest.raises(TypeError, match=r"`fill` must be a real number or array, got \[True"):
    _checks.check_fill([True, False, True], "fill", 3)
  with pytest.raises(TypeError, match=r"`fill` must be a real number or array, got dtype bool\."):
    _checks.check_fill(jnp.ones(3, bool), "fill", 3)
  with pytest.raises(
    ValueError,
    match=r"`v` must be a scalar or a per-channel vector of shape \(3,\), got shape \(2,\)\.",
  ):
    _checks.check_fill(jnp.ones(2), "v", 3)


def test_check_masking():
  images, grid = _checks.check_masking(
    np.ones((2, 4, 4, 3)), np.array([4, 2, 0, 0]), "grid", 0.0, "fill"
  )
  assert isinstance(images, jax.Array) and grid.dtype == jnp.int32
  for fill in (jnp.ones(3), jnp.ones((4, 3)), jnp.ones((2, 4, 4, 3))):  # Anything that broadcasts.
    _checks.check_masking(images, grid, "grid", fill, "fill")
  with pytest.raises(
    ValueError,
    match=r"`value` must broadcast to the images' shape \(2, 4, 4, 3\) .*got shape \(2,\)\.",
  ):
    _checks.check_masking(images, grid, "grid", jnp.ones(2), "value")
  with pytest.raises(ValueError, match=r"`value` must broadcast .*got shape \(3, 4, 4, 3\)\."):
    _checks.check_masking(images, grid, "grid", jnp.ones((3, 4, 4, 3)), "value")
  with pytest.raises(TypeError, match=r"`value` must be a number or an array, got 'random'\."):
    _checks.check_masking(images, grid, "grid", "random", "value")
  with pytest.raises(TypeError, match=r"`images` must be floating"):
    _checks.check_masking(images.astype(jnp.int32), grid, "grid", 0.0, "fill")


@pytest.mark.parametrize("value", [True, np.bool_(False), "0.4", "abc", None, {"a": 1}, 1 + 2j])
def test_check_number_takes_real_numbers_only(value):
  with pytest.raises(ValueError, match="`x` must be a (real )?number"):
    _checks.check_number(value, "x", low=0.0)


@pytest.mark.parametrize("value", [1e39, -1e39, np.float64(3.5e38)])
def test_check_number_refuses_values_not_finite_in_float32(value):
  with pytest.raises(ValueError, match="`x` must be"):
    _checks.check_number(value, "x")
  _checks.check_number(np.float32(3.4e38), "x")  # The largest float32 values pass.


def test_valid_is_true_for_concrete_values_and_traced_otherwise():
  assert _checks.valid(0.5, low=0.0, high=1.0) is True
  check = jax.jit(lambda v: _checks.valid(v, low=0.0, high=1.0, high_open=True))
  assert [bool(check(jnp.float32(v))) for v in (0.0, 0.5, 1.0, -0.1, np.nan, np.inf)] == [
    True,
    True,
    False,
    False,
    False,
    False,
  ]


def test_check_interval_strict_and_numeric():
  with pytest.raises(ValueError, match="`r` must be increasing"):
    _checks.check_interval((0.5, 0.5), "r", strict=True, expected="increasing")
  _checks.check_interval((0.5, 0.5), "r", expected="ordered")
  with pytest.raises(ValueError, match="`r` must be a number, got '1'"):
    _checks.check_interval(("1", 2), "r", expected="ordered")


def test_valid_interval_and_all_valid():
  assert _checks.valid_interval((0.5, 0.1), low=0.0) is True  # Concrete: already checked.
  traced = jax.jit(
    lambda lo, hi: _checks.valid_interval((lo, hi), low=0.0, high=1.0, low_open=True, strict=True)
  )
  cases = [((0.2, 0.8), True), ((0.8, 0.2), False), ((0.0, 0.5), False), ((0.5, 0.5), False)]
  cases += [((0.2, float("nan")), False), ((0.2, 1.0), True), ((0.2, 1.5), False)]
  for (lo, hi), expected in cases:
    assert bool(traced(lo, hi)) is expected, (lo, hi)
  assert _checks.all_valid(True, True) is True
  assert not bool(_checks.all_valid(True, jnp.array(True), jnp.array(False)))


# ---------------------------------------------------------------------------------------
# PRNG keys


@pytest.mark.parametrize(
  "key",
  [jax.random.key(0), jax.random.PRNGKey(0), np.zeros(2, np.uint32), jax.random.key(0, impl="rbg")],
  ids=["typed", "raw", "numpy-raw", "typed-rbg"],
)
def test_check_key_takes_one_typed_or_raw_key(key):
  _checks.check_key(key)
  _traced(_checks.check_key, key)


@pytest.mark.parametrize(
  "key,error,match",
  [
    (
      jax.random.split(jax.random.key(0), 2),
      ValueError,
      r"single PRNG key, got a key array "
      r"of shape \(2,\); to use several keys, `jax.vmap`",
    ),
    (
      jax.random.split(jax.random.PRNGKey(0), 3),
      ValueError,
      r"single PRNG key, got raw keys "
      r"of shape \(3, 2\) \(one is \(2,\)\)",
    ),
    (0, TypeError, r"PRNG key, e.g. `jax.random.key\(seed\)` .*got 0 \(a Python int\)"),
    (None, TypeError, r"got None\.$"),
    (jnp.zeros(2), TypeError, r"got an array of shape \(2,\) and dtype float32"),
    (
      np.zeros(3, np.uint32),
      TypeError,
      r"raw uint32 key of shape \(2,\)\), got an array of shape \(3,\)",
    ),
  ],
  ids=["typed-batch", "raw-batch", "seed", "none", "float", "raw-wrong-size"],
)
def test_check_key_refuses_anything_but_one_key(key, error, match):
  with pytest.raises(error, match=r"^`rng` must be a ") as raised:
    _checks.check_key(key, "rng")
  assert re.search(match, str(raised.value)), str(raised.value)
