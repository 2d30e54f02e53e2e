"""What a run leaves in its workdir: metrics.jsonl, TensorBoard events, curves.png, summary.json.

metrics.jsonl is strict JSON (a non-finite number is written as null). The TensorBoard
events are written with the `tensorboard` package's own record writer: no TensorFlow and
no torch is imported (`tensorboard --logdir WORKDIR/tensorboard` shows them).
Also the markdown tables that the comparison tools print (`markdown_table`).
"""

from __future__ import annotations

import glob
import itertools
import json
import math
import os
import socket
import time
import warnings
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

import numpy as np

from mixjax.training import workdir as workdir_lib

# Redrawing the plot costs ~0.2 s; short epochs redraw it at most this often.
PLOT_EVERY_SECONDS = 30.0


class MetricsLog:
  """Per-epoch records, appended to `metrics.jsonl` and TensorBoard.

  On resume, records past the restored epoch (written after the last checkpoint by a
  run that was then killed) are dropped so the log matches the restored state; the
  TensorBoard events are rewritten from the kept records, so that no reader (whether it
  purges orphaned steps or not) shows a step twice.

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
      self.records = [r for r in _read_records(self.path) if r["epoch"] <= epoch]
    if self.enabled:
      if self._tb is not None:  # Resumed by the same log: its events file is rewritten too.
        self._tb.close()
        self._tb = None
      self._rewrite()
      self._rewrite_events()

  def _rewrite(self) -> None:
    write_text(self.path, "".join(strict_json(record) + "\n" for record in self.records))

  def _rewrite_events(self) -> None:
    logdir = os.path.join(self.workdir, "tensorboard")
    old = glob.glob(os.path.join(glob.escape(logdir), "events.out.tfevents.*"))
    if not old:
      return
    writer = EventWriter(logdir)
    for record in self.records:  # Read back from metrics.jsonl: non-finite values are None.
      values = {k: math.nan if v is None else v for k, v in record.items()}
      writer.scalars(_scalars(values), record["step"])
    writer.close()
    for path in old:
      os.remove(path)
    _sync_dir(logdir)

  def write(self, record: dict[str, Any]) -> None:
    """Appends one epoch's record and refreshes the TensorBoard events and curves."""
    self.records.append(record)
    if not self.enabled:
      return
    with open(self.path, "a") as f:
      f.write(strict_json(record) + "\n")
      _sync(f)  # On disk before the epoch's checkpoint, which records the epoch as done.
    if self._tb is None:
      self._tb = EventWriter(os.path.join(self.workdir, "tensorboard"))
    self._tb.scalars(_scalars(record), record["step"])
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
      self._tb = None


def _scalars(record: dict[str, Any]) -> dict[str, float]:
  """The numbers of an epoch's record, as TensorBoard tags (bools as 0 / 1)."""
  return {
    key: float(value)
    for key, value in record.items()
    if key not in ("epoch", "step") and isinstance(value, int | float)
  }


# Numbers the events files of one process: two writers never share a name, and names sort
# in the order the files were started (as TensorBoard reads them).
_WRITER_NUMBERS = itertools.count()


class EventWriter:
  """TensorBoard scalars in an events file of `logdir`, with tensorboard's record writer.

  Args:
    logdir: the directory (created); each writer starts a new events file, as TensorBoard
      expects of a resumed run.
  """

  def __init__(self, logdir: str):
    from tensorboard.compat.proto import event_pb2
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.summary.writer import record_writer

    self._event_pb2, self._summary_pb2 = event_pb2, summary_pb2
    os.makedirs(logdir, exist_ok=True)
    name = (
      f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}."
      f"{next(_WRITER_NUMBERS):06d}"
    )
    self.path = os.path.join(logdir, name)
    self._file = open(self.path, "wb")  # noqa: SIM115 - closed by close().
    self._writer = record_writer.RecordWriter(self._file)
    self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

  def _write(self, event: Any) -> None:
    self._writer.write(event.SerializeToString())

  def scalars(self, values: dict[str, float], step: int) -> None:
    """Writes `values` (tag -> number) at `step` and flushes (non-finite ones included)."""
    value = self._summary_pb2.Summary.Value
    summary = self._summary_pb2.Summary(
      value=[value(tag=tag, simple_value=v) for tag, v in values.items()]
    )
    self._write(self._event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
    self._writer.flush()

  def close(self) -> None:
    """Flushes the events to the disk (fsync) and closes the file."""
    self._writer.flush()
    os.fsync(self._file.fileno())
    self._writer.close()


def _finite_or_none(value: Any) -> Any:
  if isinstance(value, float) and not math.isfinite(value):
    return None
  if isinstance(value, dict):
    return {k: _finite_or_none(v) for k, v in value.items()}
  if isinstance(value, list | tuple):
    return [_finite_or_none(v) for v in value]
  return value


def strict_json(obj: Any, **kwargs: Any) -> str:
  """`json.dumps` that never writes NaN / Infinity tokens: non-finite floats become null."""
  return json.dumps(_finite_or_none(obj), allow_nan=False, **kwargs)


def plot_curves(records: list[dict[str, Any]], path: str) -> None:
  """Train loss and test error per epoch, side by side."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  epochs = [r["epoch"] for r in records]
  column = lambda key: np.array([r[key] for r in records], dtype=float)  # noqa: E731 - null: NaN.
  fig, (ax_loss, ax_err) = plt.subplots(1, 2, figsize=(9, 3.5))
  ax_loss.plot(epochs, column("train_loss"), label="train (mixed targets)")
  ax_loss.plot(epochs, column("test_loss"), label="test")
  ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
  ax_loss.legend()
  ax_err.plot(epochs, 100 * (1 - column("test_accuracy")))
  ax_err.set(xlabel="epoch", ylabel="%", title="test error")
  for ax in (ax_loss, ax_err):
    ax.grid(alpha=0.3)
  fig.tight_layout()
  tmp = path + ".tmp.png"
  fig.savefig(tmp, dpi=100)
  plt.close(fig)
  os.replace(tmp, path)


def _sync(f: Any) -> None:
  f.flush()
  os.fsync(f.fileno())


def _sync_dir(path: str) -> None:
  """fsyncs a directory, so that a rename or removal in it survives a crash (POSIX)."""
  fd = os.open(path, os.O_RDONLY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)


def write_text(path: str, text: str) -> None:
  """Writes `text` atomically and durably: no crash leaves a half-written file."""
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    f.write(text)
    _sync(f)
  os.replace(tmp, path)
  _sync_dir(os.path.dirname(os.path.abspath(path)))


def write_json(path: str, obj: Any) -> None:
  """Writes JSON atomically and durably (see :func:`write_text`)."""
  write_text(path, strict_json(obj, indent=2, sort_keys=True) + "\n")


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


def _read_records(path: str) -> list[dict[str, Any]]:
  """The records of a metrics.jsonl; a torn last line (a run stopped mid-append) is dropped.

  Raises:
    workdir.WorkdirError: a line before the last is not JSON (the file is damaged), naming it.
  """
  with open(path) as f:
    lines = [line for line in f if line.strip()]
  records = []
  for number, line in enumerate(lines, 1):
    try:
      records.append(json.loads(line))
    except json.JSONDecodeError as error:
      if number < len(lines):
        raise workdir_lib.WorkdirError(
          f"{path}: line {number} is not JSON ({error}); the file is damaged: repair or "
          "delete that line, then rerun to resume (the checkpoints are kept)."
        ) from error
      warnings.warn(f"{path}: dropped its torn last line ({line[:60]!r}...).", stacklevel=3)
  return records
