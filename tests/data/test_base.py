"""Tests for the checks of the arguments every source takes (`mixjax.data.base`)."""

from __future__ import annotations

import numpy as np
import pytest

from mixjax.data import base


@pytest.mark.parametrize("seed", [0, 2**32 - 1, np.int64(7), np.uint32(3)])
def test_check_seed_accepts_ints_in_range_as_python_ints(seed):
  checked = base.check_seed(seed)
  assert checked == seed and type(checked) is int


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True, "3", None, np.array([1])])
def test_check_seed_refuses(seed):
  with pytest.raises(ValueError, match=r"^`seed` must be an int in \[0, 2\*\*32\), got "):
    base.check_seed(seed)
  with pytest.raises(ValueError, match=r"^`data_seed` must be"):
    base.check_seed(seed, "data_seed")


def test_check_process():
  assert base.check_process(np.int32(1), 3) == (1, 3)
  for index, count, match in [
    (0, 0, r"`process_count` must be a positive int, got 0"),
    (0, True, r"`process_count` must be a positive int, got True"),
    (3, 3, r"`process_index` must be an int in \[0, process_count=3\), got 3"),
    (-1, 3, r"`process_index` must be an int in \[0, process_count=3\), got -1"),
    (0.0, 3, r"`process_index`.*got 0.0"),
  ]:
    with pytest.raises(ValueError, match=match):
      base.check_process(index, count)


def test_check_fraction():
  assert base.check_fraction(np.float32(0.25), "f") == 0.25
  assert type(base.check_fraction(1, "f")) is float
  assert base.check_fraction(0, "f") == 0.0 and base.check_fraction(1.0, "f") == 1.0
  for value, kwargs, match in [
    (1.5, {}, r"^`f` must be a number in \[0, 1\], got 1.5"),
    (-0.1, {}, r"\[0, 1\]"),
    (float("nan"), {}, r"\[0, 1\], got nan"),
    (float("inf"), {}, r"\[0, 1\]"),
    (True, {}, r"\[0, 1\], got True"),
    ("0.5", {}, r"\[0, 1\], got '0.5'"),
    (np.array([0.5]), {}, r"\[0, 1\]"),
    (0.0, dict(low_open=True), r"\(0, 1\], got 0.0"),
    (1.0, dict(high_open=True), r"\[0, 1\), got 1.0"),
    (1.0, dict(low_open=True, high_open=True), r"\(0, 1\), got 1.0"),
  ]:
    with pytest.raises(ValueError, match=match):
      base.check_fraction(value, "f", **kwargs)


def test_check_source_args_checks_each_and_returns_python_numbers():
  checked = base.check_source_args(np.int64(3), np.float64(0.5), np.int32(1), np.int32(2))
  assert checked == (3, 0.5, 1, 2)
  assert [type(x) for x in checked] == [int, float, int, int]
  with pytest.raises(ValueError, match="seed"):
    base.check_source_args(-1, 0.0, 0, 1)
  with pytest.raises(ValueError, match="label_noise"):
    base.check_source_args(0, 2.0, 0, 1)
  with pytest.raises(ValueError, match="process_index"):
    base.check_source_args(0, 0.0, 1, 1)


def test_check_global_batch_size():
  assert base.check_global_batch_size(12, 4) == 3
  assert base.check_global_batch_size(np.int64(8), 2, max_size=8) == 4
  for size, match in [
    (0, r"`global_batch_size` must be a positive int, got 0"),
    (4.0, r"positive int, got 4.0"),
    (10, r"divisible by process_count=4, got 10"),
    (16, r"at most the number of training examples, 12, got 16"),
  ]:
    with pytest.raises(ValueError, match=match):
      base.check_global_batch_size(size, 4, max_size=12)


def test_check_step_and_check_int_word_their_range():
  assert base.check_step(np.int64(5), "start_step", 5) == 5
  with pytest.raises(ValueError, match=r"^`start_step` must be an int in \[0, 5\], got 6\.$"):
    base.check_step(6, "start_step", 5)
  # Large limits are written out in full.
  with pytest.raises(ValueError, match=r"`epoch` must be an int in \[0, 4294967295\], got -1"):
    base.check_step(-1, "epoch", 2**32 - 1)
  with pytest.raises(ValueError, match=r"^`n` must be a positive int, got 0\.$"):
    base.check_int(0, "n", low=1)
  with pytest.raises(ValueError, match=r"^`n` must be None or big, got 2\.$"):
    base.check_int(2, "n", low=3, expected="None or big")


class _Constant(base.Source):
  """A source of nothing but its info, to test the interface's own method."""

  def __init__(self, num_train, process_count):
    self.info = base.DatasetInfo("c", 2, (1,), num_train, 1)
    self.process_count = process_count

  def train_batches(self, *, epoch, global_batch_size, start_step=0):
    raise NotImplementedError

  def eval_batches(self, *, global_batch_size):
    raise NotImplementedError


def test_steps_per_epoch_checks_the_batch_size_and_drops_the_remainder():
  assert _Constant(100, 2).steps_per_epoch(12) == 8
  with pytest.raises(ValueError, match="divisible by process_count=2"):
    _Constant(100, 2).steps_per_epoch(5)
  with pytest.raises(ValueError, match="at most the number of training examples, 100"):
    _Constant(100, 1).steps_per_epoch(101)
  with pytest.raises(TypeError, match="abstract"):
    base.Source()
