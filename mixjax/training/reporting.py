"""What a run leaves in its workdir: metrics.jsonl, TensorBoard events, curves.png, summary.json.

Also the markdown tables that the comparison tools print (`markdown_table`).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

import numpy as np

# Redrawing the plot costs ~0.2 s; short epochs redraw it at most this often.
PLOT_EVERY_SECONDS = 30.0


class MetricsLog:
  """Per-epoch records, appended to `metrics.jsonl` and TensorBoard.

  On resume, records past the restored epoch (written after the last checkpoint by a
  run that was then killed) are dropped so the log matches the restored state.

  Args:
    workdir: the run's directory.
    enabled: False on every process but the first of a multi-process run.
  """

  def __init__(self, workdir: str, *, enabled: bool = True):
    self.path = os.path.join(workdir, "metrics.jsonl")
    self.workdir = workdir
    self.enabled = enabled
    self.records: list[dict[str, Any]] = []
    self._tb = None
    self._last_plot = 0.0

  def resume(self, epoch: int) -> None:
    """Keeps the records of epochs `< epoch` (1-based `epoch` fields `<= epoch`)."""
    if os.path.exists(self.path):
      with open(self.path) as f:
        records = [json.loads(line) for line in f if line.strip()]
      self.records = [r for r in records if r["epoch"] <= epoch]
    if self.enabled:
      self._rewrite()

  def _rewrite(self) -> None:
    tmp = self.path + ".tmp"
    with open(tmp, "w") as f:
      for record in self.records:
        f.write(json.dumps(record) + "\n")
    os.replace(tmp, self.path)

  def write(self, record: dict[str, Any]) -> None:
    """Appends one epoch's record and refreshes the TensorBoard events and curves."""
    self.records.append(record)
    if not self.enabled:
      return
    with open(self.path, "a") as f:
      f.write(json.dumps(record) + "\n")
    if self._tb is None:
      from tensorboardX import SummaryWriter

      self._tb = SummaryWriter(os.path.join(self.workdir, "tensorboard"))
    for key, value in record.items():
      if key not in ("epoch", "step") and isinstance(value, int | float):
        self._tb.add_scalar(key, value, record["step"])
    self._tb.flush()
    if time.monotonic() - self._last_plot > PLOT_EVERY_SECONDS:
      self.plot()

  def plot(self) -> None:
    """Redraws curves.png (every PLOT_EVERY_SECONDS during a run, and at its end)."""
    if self.enabled and self.records:
      plot_curves(self.records, os.path.join(self.workdir, "curves.png"))
      self._last_plot = time.monotonic()

  def summary(self) -> dict[str, Any]:
    """The run's summary: best/last accuracy and the paper's median-of-last-10 error."""
    accuracy = np.array([r["test_accuracy"] for r in self.records])
    return {
      "best_test_accuracy": float(accuracy.max()),
      "last_test_accuracy": float(accuracy[-1]),
      "median_last10_test_error": float(np.median(1.0 - accuracy[-10:])),
      "epochs": len(self.records),
      "wall_seconds": float(self.records[-1]["wall_seconds"]),
      "images_per_sec": float(np.median([r["images_per_sec"] for r in self.records])),
    }

  def close(self) -> None:
    self.plot()
    if self._tb is not None:
      self._tb.close()


def plot_curves(records: list[dict[str, Any]], path: str) -> None:
  """Train loss and test error per epoch, side by side."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  epochs = [r["epoch"] for r in records]
  fig, (ax_loss, ax_err) = plt.subplots(1, 2, figsize=(9, 3.5))
  ax_loss.plot(epochs, [r["train_loss"] for r in records], label="train (mixed targets)")
  ax_loss.plot(epochs, [r["test_loss"] for r in records], label="test")
  ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
  ax_loss.legend()
  ax_err.plot(epochs, [100 * (1 - r["test_accuracy"]) for r in records])
  ax_err.set(xlabel="epoch", ylabel="%", title="test error")
  for ax in (ax_loss, ax_err):
    ax.grid(alpha=0.3)
  fig.tight_layout()
  tmp = path + ".tmp.png"
  fig.savefig(tmp, dpi=100)
  plt.close(fig)
  os.replace(tmp, path)


def write_json(path: str, obj: Any) -> None:
  """Writes JSON atomically (a killed run never leaves a half-written file)."""
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(obj, f, indent=2, sort_keys=True)
    f.write("\n")
  os.replace(tmp, path)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
  """A markdown table: the first column left-aligned, the others right-aligned.

  Args:
    header: the column titles.
    rows: the cells of each row, already formatted, as many as `header`.

  Returns:
    The table's lines joined by newlines (no trailing newline).
  """
  lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
  for row in rows:
    if len(row) != len(header):
      raise ValueError(f"a row of {len(header)} cells expected, got {len(row)}: {row!r}.")
    lines.append("| " + " | ".join(row) + " |")
  return "\n".join(lines)


def mean_std(values: Iterable[float]) -> tuple[float, float]:
  """Mean and (population) standard deviation; std is 0 for a single value."""
  array = np.asarray(list(values), np.float64)
  if array.size == 0:
    return math.nan, math.nan
  return float(array.mean()), float(array.std())


def format_mean_std(values: Iterable[float], digits: int = 2, *, scale: float = 1.0) -> str:
  """`"0.85 ± 0.03"` over the values (times `scale`, e.g. 100 for percentages).

  A single value is shown without `± 0`.
  """
  values = [float(v) * scale for v in values]
  mean, std = mean_std(values)
  if len(values) <= 1:
    return f"{mean:.{digits}f}"
  return f"{mean:.{digits}f} ± {std:.{digits}f}"
