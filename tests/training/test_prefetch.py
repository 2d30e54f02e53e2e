"""Device prefetch: same stream in the same order, errors surface, abandoned threads end."""

import gc
import time

import jax
import numpy as np
import pytest

from mixjax.training import parallel as parallel_lib
from mixjax.training import prefetch as prefetch_lib
from tests.training import helpers

_DEADLINE_SECONDS = 10.0


def _host_batches(count, size=16):
  for i in range(count):
    yield helpers.make_batch(size=size, seed=i)


def _wait_for(condition) -> bool:
  deadline = time.monotonic() + _DEADLINE_SECONDS
  while not condition():
    if time.monotonic() > deadline:
      return False
    time.sleep(0.01)
  return True


def test_the_prefetched_stream_is_the_plain_stream_in_order():
  plain = list(_host_batches(7))
  fetched = list(prefetch_lib.prefetch(_host_batches(7), lambda b: {**b, "image": b["image"] * 2}))
  assert len(fetched) == len(plain)
  for got, want in zip(fetched, plain, strict=True):
    np.testing.assert_array_equal(got["image"], 2 * want["image"])
    np.testing.assert_array_equal(got["label"], want["label"])


@pytest.mark.parametrize("kind", ["pmap", "shard_map"])
def test_device_batches_hold_the_host_batches_in_order(kind):
  parallel = parallel_lib.Parallel(kind, helpers.step_config())
  fetched = list(parallel.prefetch(_host_batches(3)))
  for got, want in zip(fetched, _host_batches(3), strict=True):
    assert isinstance(got, parallel_lib.DeviceBatch)
    assert sorted(got) == sorted(want)
    for name in ("image", "label"):
      array = got.arrays[name]
      assert isinstance(array, jax.Array)
      assert len(array.sharding.device_set) == helpers.NUM_DEVICES
      np.testing.assert_array_equal(np.asarray(array).reshape(want[name].shape), want[name])
      np.testing.assert_array_equal(got[name], want[name])


@pytest.mark.parametrize("kind", ["pmap", "shard_map"])
def test_training_on_prefetched_batches_is_bit_exact(kind):
  cfg = helpers.step_config(mix="mixup")
  hparams = {"mixup_alpha": 1.0, "cutmix_alpha": 0.0}
  plain_state, plain_losses = helpers.run_steps(kind, cfg, hparams, num_steps=3)
  parallel = parallel_lib.Parallel(kind, cfg)
  state = parallel.put_state(jax.tree.map(np.asarray, helpers.make_state()))
  losses = []
  for batch in parallel.prefetch(_host_batches(3)):
    state, metrics = parallel.train(state, batch, hparams)
    losses.append(float(metrics["loss"]))
  assert losses == plain_losses
  got, want = jax.tree.leaves(parallel.get_state(state)), jax.tree.leaves(plain_state)
  assert len(got) == len(want)
  for a, b in zip(got, want, strict=True):
    np.testing.assert_array_equal(a, b)


def test_the_thread_keeps_size_batches_ahead_and_no_more():
  placed = []

  def put(batch):
    placed.append(batch)
    return batch

  with prefetch_lib.prefetch(iter(range(100)), put, size=2) as fetched:
    assert next(fetched) == 0
    # Two waiting in the queue, one more in the thread's hand.
    assert _wait_for(lambda: len(placed) == 4)
    time.sleep(0.2)
    assert len(placed) == 4
    assert next(fetched) == 1
    assert _wait_for(lambda: len(placed) == 5)


@pytest.mark.parametrize("where", ["stream", "put"])
def test_an_error_in_the_producer_surfaces_in_the_consumer(where):
  class Broken(Exception):
    pass

  def stream():
    yield from range(3)
    if where == "stream":
      raise Broken("the source broke after 3 batches")
    yield 3

  def put(i):
    if where == "put" and i == 3:
      raise Broken("put broke on batch 3")
    return i

  fetched = prefetch_lib.prefetch(stream(), put)
  assert [next(fetched) for _ in range(3)] == [0, 1, 2]
  with pytest.raises(Broken, match="broke"):
    next(fetched)
  assert not fetched.thread.is_alive()
  with pytest.raises(StopIteration):
    next(fetched)


def test_an_abandoned_iterator_stops_its_thread_and_closes_the_stream():
  closed = []

  def endless():
    try:
      i = 0
      while True:
        yield i
        i += 1
    finally:
      closed.append(True)

  fetched = prefetch_lib.prefetch(endless(), lambda i: i)
  assert next(fetched) == 0
  thread = fetched.thread
  del fetched
  gc.collect()
  thread.join(_DEADLINE_SECONDS)
  assert not thread.is_alive()
  assert closed == [True]


def test_close_stops_the_thread_at_once():
  fetched = prefetch_lib.prefetch(iter(range(10**6)), lambda i: i, size=1)
  assert next(fetched) == 0
  fetched.close()
  assert not fetched.thread.is_alive()
  with pytest.raises(StopIteration):
    next(fetched)


@pytest.mark.parametrize("size", [0, -1, 1.5, True])
def test_size_must_be_a_positive_int(size):
  with pytest.raises(ValueError, match="size"):
    prefetch_lib.prefetch(iter(()), lambda b: b, size=size)
