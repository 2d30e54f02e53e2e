"""Device prefetch: a background thread places the next batches on the devices ahead of the step.

:func:`prefetch` iterates a host batch stream through `put` (e.g. `Parallel.put_batch`) on a
daemon thread and hands the placed batches over through a queue of `size` slots, so that
while the step runs, the next `size` batches are already being built and copied (plus one
more in the thread's hand). The order is the stream's order: one producer, first in first
out, so the training data (and bit-exact resume) are unchanged.

An exception in the stream or in `put` is raised in the consumer, at the position where the
failed batch would have come, with its own traceback. An iterator that is closed, or dropped
without being exhausted (e.g. a step failed mid-epoch), stops its thread: the thread checks a
stop flag between batches and while it waits for a free slot, and closes the stream.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

from mixjax import _checks

# How often (seconds) a producer waiting for a free slot looks at its stop flag.
_POLL_SECONDS = 0.05
_END = object()


class _Failure:
  """What the producer sends in place of a batch when the stream or `put` raised."""

  def __init__(self, error: BaseException):
    self.error = error


def _offer(slots: queue.Queue, item: Any, stop: threading.Event) -> bool:
  """Puts `item` in the next free slot; False (item dropped) once `stop` is set."""
  while not stop.is_set():
    try:
      slots.put(item, timeout=_POLL_SECONDS)
      return True
    except queue.Full:
      continue
  return False


def _produce(batches: Iterator, put: Callable, slots: queue.Queue, stop: threading.Event) -> None:
  """The thread's body: `put` each batch into the slots, then the end marker (or the error)."""
  try:
    for batch in batches:
      if stop.is_set() or not _offer(slots, put(batch), stop):
        return
    _offer(slots, _END, stop)
  except BaseException as error:  # noqa: BLE001 - handed to the consumer, which raises it.
    _offer(slots, _Failure(error), stop)
  finally:
    close = getattr(batches, "close", None)
    if close is not None:
      close()


class Prefetcher(Iterator):
  """The iterator :func:`prefetch` returns.

  Attributes:
    thread: the producer thread (a daemon); it has ended once the stream is exhausted, an
      error was handed over, or the iterator was closed or garbage-collected.
  """

  def __init__(self, batches: Iterable, put: Callable, size: int):
    self._slots: queue.Queue = queue.Queue(maxsize=size)
    self._stop = threading.Event()
    self._done = False
    self.thread = threading.Thread(
      target=_produce,
      args=(iter(batches), put, self._slots, self._stop),
      name="mixjax-prefetch",
      daemon=True,
    )
    self.thread.start()

  def __next__(self):
    if self._done:
      raise StopIteration
    item = self._slots.get()
    if item is _END:
      self.close()
      raise StopIteration
    if isinstance(item, _Failure):
      self.close()
      raise item.error
    return item

  def close(self) -> None:
    """Stops the producer and waits for its thread to end (it finishes its current batch)."""
    self._done = True
    self._stop.set()
    if self.thread is not threading.current_thread():
      self.thread.join()

  def __enter__(self) -> Prefetcher:
    return self

  def __exit__(self, *exc_info) -> None:
    self.close()

  def __del__(self):
    # No join here: a finaliser must not block. The thread sees the flag within _POLL_SECONDS
    # of its next wait, or after the batch it is building.
    self._stop.set()


def prefetch(batches: Iterable, put: Callable[[Any], Any], *, size: int = 2) -> Prefetcher:
  """Iterates `put(batch)` for each batch of `batches`, computed ahead on a background thread.

  Args:
    batches: the host batches, in training order (e.g. `source.train_batches(...)`).
    put: places one batch on the devices (e.g. `Parallel.put_batch`); called on the
      thread, in order.
    size: how many placed batches wait ahead of the consumer (≥ 1).

  Returns:
    An iterator over `put(batch)` in the order of `batches`; also a context manager whose
    exit (like `close()`) stops the thread.

  Raises:
    ValueError: `size` is not a positive int.
  """
  _checks.check_positive_int(size, "size")
  return Prefetcher(batches, put, size)
