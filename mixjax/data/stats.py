"""Normalisation statistics: the per-channel mean and standard deviation of a split."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# Chunk size (in examples) for the statistics; bounds the float64 temporaries.
_STATS_CHUNK = 4096


def channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Mean and standard deviation of the last axis of `x` over all other axes.

  Works over chunks of examples, so a uint8 dataset is never copied whole to floating
  point.

  Args:
    x: `[N, ..., C]`, any real dtype.

  Returns:
    `(mean, std)`, each float32 `[C]`; see `channel_stats_from_chunks`.
  """
  return channel_stats_from_chunks(
    x[start : start + _STATS_CHUNK] for start in range(0, x.shape[0], _STATS_CHUNK)
  )


def channel_stats_from_chunks(chunks: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
  """Mean and standard deviation of the last axis over all other axes of all chunks.

  A standard deviation of zero (a constant channel) is replaced by one, so that
  normalising never divides by zero.

  Args:
    chunks: arrays `[n_i, ..., C]` with the same C, any real dtype.

  Returns:
    `(mean, std)`, each float32 `[C]`.

  Raises:
    ValueError: the chunks hold no example.
  """
  total = total_sq = low = high = None
  count = 0
  for chunk in chunks:
    # float32 holds uint8 pixels (and their squares) exactly; the sums are float64.
    flat = np.asarray(chunk).reshape(-1, chunk.shape[-1]).astype(np.float32)
    if not flat.shape[0]:
      continue
    if total is None:
      total = np.zeros(flat.shape[1], np.float64)
      total_sq = np.zeros(flat.shape[1], np.float64)
      low, high = flat[0], flat[0]
    total += flat.sum(axis=0, dtype=np.float64)
    total_sq += np.einsum("nc,nc->c", flat, flat, dtype=np.float64)
    low, high = np.minimum(low, flat.min(axis=0)), np.maximum(high, flat.max(axis=0))
    count += flat.shape[0]
  if not count:
    raise ValueError("Cannot compute normalisation statistics of an empty training split.")
  mean = total / count
  std = np.sqrt(np.maximum(total_sq / count - np.square(mean), 0.0))
  # A constant channel is told by its range: E[x²] − E[x]² leaves ~1e-8 of a constant 0.1.
  std = np.where((high > low) & (std > 0), std, 1.0)
  return mean.astype(np.float32), std.astype(np.float32)
