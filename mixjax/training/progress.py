"""What a run shows while it trains: the compile line, a whole-run bar with ETA, the summary.

On a terminal (process 0) a tqdm bar counts every train step of the whole run (resumed
steps included) with its ETA; otherwise the per-epoch lines carry the ETA. The first step
of a session compiles the train step (~20 s for a ResNet): a line says so.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def format_duration(seconds: float) -> str:
  """`1h02m`, `3m05s` or `12s`."""
  seconds = max(0, int(round(seconds)))
  hours, rest = divmod(seconds, 3600)
  minutes, secs = divmod(rest, 60)
  if hours:
    return f"{hours}h{minutes:02d}m"
  return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Progress:
  """Progress of the whole run, counted in train steps.

  Args:
    total_steps: the run's train steps, all epochs.
    done_steps: those already done before this session (a resumed run).
    enabled: whether this process shows anything (process 0).
  """

  def __init__(self, total_steps: int, done_steps: int, *, enabled: bool):
    self.total, self.done, self.enabled = total_steps, done_steps, enabled
    self._bar = None
    self._compile_start: float | None = None
    self._timed: tuple[float, int] | None = None  # (time, done) after the first step.
    if enabled and sys.stderr.isatty() and done_steps < total_steps:
      from tqdm import tqdm

      self._bar = tqdm(
        total=total_steps, initial=done_steps, desc="training", unit="step", dynamic_ncols=True
      )

  def print(self, line: str) -> None:
    """Prints `line` on stdout (above the bar on a terminal)."""
    if not self.enabled:
      return
    if self._bar is not None:
      self._bar.write(line, file=sys.stdout)
    else:
      print(line, flush=True)

  def before_step(self) -> None:
    """Before each step: the first of the session prints the compile line."""
    if self._timed is None and self._compile_start is None:
      self._compile_start = time.time()
      self.print("compiling the train step...")

  def after_step(self, loss: Any = None) -> bool:
    """Counts one step; returns True after the first step of the session (compiled)."""
    self.done += 1
    first = self._timed is None
    if first:
      self._timed = (time.time(), self.done)
      self.print(f"compiled in {time.time() - self._compile_start:.1f} s")
    if self._bar is not None:
      self._bar.update(1)
      if loss is not None and self.done % 10 == 0:
        self._bar.set_postfix(loss=f"{float(loss):.3f}", refresh=False)
    return first

  def eta_seconds(self) -> float | None:
    """Seconds left at this session's pace (evaluation included), or None (too early)."""
    if self._timed is None or self.done <= self._timed[1]:
      return None
    start, done = self._timed
    rate = (self.done - done) / max(time.time() - start, 1e-9)
    return (self.total - self.done) / rate

  def eta(self) -> str:
    """`  ETA 3m05s` for the epoch lines ("" when unknown or finished)."""
    seconds = self.eta_seconds()
    return "" if seconds is None or self.done >= self.total else f"  ETA {format_duration(seconds)}"

  def close(self) -> None:
    if self._bar is not None:
      self._bar.close()
      self._bar = None


def summary_lines(summary: dict[str, Any], workdir: str, *, eval_label: str = "test") -> list[str]:
  """The end-of-run summary printed on stdout (and again when a finished run is rerun)."""
  median = 100 * (1 - summary["median_last10_test_error"])
  return [
    f"finished: {summary['epochs']} epochs in {format_duration(summary['wall_seconds'])}, "
    f"{summary['images_per_sec']:,.0f} img/s (median over epochs)",
    f"  {eval_label} accuracy: best {100 * summary['best_test_accuracy']:.2f}%, last "
    f"{100 * summary['last_test_accuracy']:.2f}%, median of the last 10 epochs {median:.2f}%",
    f"  summary:     {os.path.join(workdir, 'summary.json')}",
    f"  curves:      {os.path.join(workdir, 'curves.png')}",
    f"  TensorBoard: tensorboard --logdir {os.path.join(workdir, 'tensorboard')}",
  ]
