"""The whole-run progress: durations, the ETA, the compile line and the end-of-run summary."""

from __future__ import annotations

import pytest

from mixjax.training import progress


@pytest.mark.parametrize(
  "seconds,text", [(0, "0s"), (12.4, "12s"), (185, "3m05s"), (3720, "1h02m"), (-3, "0s")]
)
def test_format_duration(seconds, text):
  assert progress.format_duration(seconds) == text


def test_eta_follows_the_pace_after_the_first_step(monkeypatch, capsys):
  now = [100.0]
  monkeypatch.setattr(progress.time, "time", lambda: now[0])
  bar = progress.Progress(total_steps=110, done_steps=10, enabled=True)
  bar.before_step()
  assert bar.eta() == ""
  now[0] = 120.0  # The first step compiled for 20 s.
  assert bar.after_step() is True
  assert bar.eta() == ""  # Too early to tell.
  for _ in range(49):
    bar.before_step()
    now[0] += 0.5
    assert bar.after_step() is False
  assert bar.eta_seconds() == pytest.approx(50 * 0.5)
  assert bar.eta() == "  ETA 25s"
  out = capsys.readouterr().out
  assert out == "compiling the train step...\ncompiled in 20.0 s\n"


def test_summary_lines_name_the_outputs():
  summary = {
    "epochs": 30,
    "wall_seconds": 125.0,
    "images_per_sec": 1234.5,
    "best_test_accuracy": 0.99,
    "last_test_accuracy": 0.985,
    "median_last10_test_error": 0.0125,
  }
  lines = progress.summary_lines(summary, "/w")
  assert lines[0] == "finished: 30 epochs in 2m05s, 1,234 img/s (median over epochs)"
  assert lines[1] == (
    "  test accuracy: best 99.00%, last 98.50%, median of the last 10 epochs 98.75%"
  )
  assert lines[2:] == [
    "  summary:     /w/summary.json",
    "  curves:      /w/curves.png",
    "  TensorBoard: tensorboard --logdir /w/tensorboard",
  ]
  assert "held-out accuracy" in progress.summary_lines(summary, "/w", eval_label="held-out")[1]
