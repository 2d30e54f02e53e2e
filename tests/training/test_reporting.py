"""What a run writes: metrics.jsonl (resumable), the summary, curves.png, atomic JSON, tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mixjax.training import reporting
from mixjax.training import workdir
from tests.training import helpers


def _record(epoch, accuracy):
  return {
    "epoch": epoch,
    "step": 10 * epoch,
    "train_loss": 1.0 / epoch,
    "test_loss": 2.0 / epoch,
    "test_accuracy": accuracy,
    "images_per_sec": 100.0 * epoch,
    "wall_seconds": 5.0 * epoch,
  }


def test_log_summary_and_resume(tmp_path):
  accuracies = [0.5, 0.9, 0.7, 0.8]
  log = reporting.MetricsLog(str(tmp_path))
  log.resume(0)
  for epoch, accuracy in enumerate(accuracies, start=1):
    log.write(_record(epoch, accuracy))
  summary = log.summary()
  log.close()
  assert summary == {
    "best_test_accuracy": 0.9,
    "last_test_accuracy": 0.8,
    "median_last10_test_error": pytest.approx(float(np.median([0.5, 0.1, 0.3, 0.2]))),
    "epochs": 4,
    "wall_seconds": 20.0,
    "images_per_sec": 250.0,
  }
  assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
  assert [json.loads(x)["test_accuracy"] for x in lines] == accuracies
  # A rerun restored at epoch 2 drops what was logged after that checkpoint.
  again = reporting.MetricsLog(str(tmp_path))
  again.resume(2)
  assert [r["epoch"] for r in again.records] == [1, 2]
  assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 2


def test_resume_drops_a_torn_last_line_and_names_a_damaged_one(tmp_path):
  lines = [json.dumps(_record(1, 0.5)), json.dumps(_record(2, 0.6)), '{"epoch": 3, "st']
  (tmp_path / "metrics.jsonl").write_text("\n".join(lines))
  log = reporting.MetricsLog(str(tmp_path))
  with pytest.warns(UserWarning, match="torn last line"):
    log.resume(2)
  assert [r["epoch"] for r in log.records] == [1, 2]
  assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 2
  (tmp_path / "metrics.jsonl").write_text("\n".join([lines[0], "not json", lines[1]]))
  with pytest.raises(workdir.WorkdirError, match="line 2 is not JSON .*delete that line"):
    reporting.MetricsLog(str(tmp_path)).resume(2)


def test_a_disabled_log_writes_nothing(tmp_path):
  log = reporting.MetricsLog(str(tmp_path), enabled=False)
  log.resume(0)
  log.write(_record(1, 0.5))
  log.close()
  assert log.summary()["epochs"] == 1
  assert list(tmp_path.iterdir()) == []


def test_write_json_replaces_the_file_whole(tmp_path):
  path = tmp_path / "summary.json"
  reporting.write_json(str(path), {"b": 1, "a": [1, 2]})
  reporting.write_json(str(path), {"c": 3})
  assert json.loads(path.read_text()) == {"c": 3}
  assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temporary left


def test_markdown_table():
  table = reporting.markdown_table(("name", "a", "b"), [("x", "1", "2"), ("y", "3", "4")])
  assert table == "| name | a | b |\n|---|---:|---:|\n| x | 1 | 2 |\n| y | 3 | 4 |"
  with pytest.raises(ValueError, match="3 cells"):
    reporting.markdown_table(("name", "a", "b"), [("x", "1")])


TENSORBOARD_CODE = """
import sys
sys.path.insert(0, {root!r})
from mixjax.training import reporting
log = reporting.MetricsLog({workdir!r})
for epoch in (1, 2):
  log.write({{"epoch": epoch, "step": 10 * epoch, "train_loss": 1.0 / epoch, "test_loss": 0.5,
             "test_accuracy": 0.25 * epoch, "images_per_sec": 7.0, "wall_seconds": 1.0,
             "mixing": True}})
log.close()
print("LOADED", sorted(m for m in ("tensorflow", "torch", "tensorboardX") if m in sys.modules))
"""


def test_tensorboard_events_need_no_tensorflow_nor_torch_and_tensorboard_reads_them(tmp_path):
  code = TENSORBOARD_CODE.format(root=helpers.ROOT, workdir=str(tmp_path))
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
  assert result.returncode == 0, result.stderr
  assert "LOADED []" in result.stdout
  from tensorboard.backend.event_processing import event_accumulator

  events = event_accumulator.EventAccumulator(str(tmp_path / "tensorboard"))
  events.Reload()
  assert {"train_loss", "test_accuracy", "images_per_sec", "mixing"} <= set(
    events.Tags()["scalars"]
  )
  accuracy = events.Scalars("test_accuracy")
  assert [(e.step, e.value) for e in accuracy] == [(10, 0.25), (20, 0.5)]
  assert [e.value for e in events.Scalars("mixing")] == [1.0, 1.0]  # bools as 0 / 1


def test_resume_rewrites_the_tensorboard_events_without_the_dropped_epochs(tmp_path):
  from tensorboard.backend.event_processing import event_accumulator

  log = reporting.MetricsLog(str(tmp_path))
  for epoch, accuracy in ((1, 0.5), (2, 0.6), (3, 0.7)):
    log.write(_record(epoch, accuracy))
  log.close()
  again = reporting.MetricsLog(str(tmp_path))
  again.resume(1)  # The checkpoint was at epoch 1: epochs 2 and 3 are trained again.
  for epoch, accuracy in ((2, 0.65), (3, 0.75)):
    again.write(_record(epoch, accuracy))
  again.close()
  assert len(list((tmp_path / "tensorboard").iterdir())) == 2  # The rewritten one, the new one.
  # Whether the reader purges orphaned steps or not: one point per step, in order.
  for purge in (False, True):
    events = event_accumulator.EventAccumulator(
      str(tmp_path / "tensorboard"), purge_orphaned_data=purge
    )
    events.Reload()
    accuracy = [(e.step, round(e.value, 6)) for e in events.Scalars("test_accuracy")]
    assert accuracy == [(10, 0.5), (20, 0.65), (30, 0.75)]


def test_records_and_json_files_reach_the_disk_before_returning(tmp_path, monkeypatch):
  synced = []
  real_fsync = reporting.os.fsync

  def fsync(fd):
    synced.append(os.readlink(f"/proc/self/fd/{fd}"))
    real_fsync(fd)

  monkeypatch.setattr(reporting.os, "fsync", fsync)
  log = reporting.MetricsLog(str(tmp_path))
  log.write(_record(1, 0.5))
  assert synced == [str(tmp_path / "metrics.jsonl")]
  synced.clear()
  reporting.write_json(str(tmp_path / "summary.json"), {"a": 1})
  assert synced == [str(tmp_path / "summary.json.tmp"), str(tmp_path)]  # The file, its rename.
  synced.clear()
  log.resume(1)  # metrics.jsonl and the events rewritten, each then its directory.
  assert str(tmp_path / "metrics.jsonl.tmp") in synced and str(tmp_path / "tensorboard") in synced
  log.close()


def test_rewritten_events_keep_non_finite_values_and_glob_characters_in_the_path(tmp_path):
  from tensorboard.backend.event_processing import event_accumulator

  workdir = tmp_path / "run[1]"
  workdir.mkdir()
  log = reporting.MetricsLog(str(workdir))
  log.write({**_record(1, 0.5), "train_loss": float("nan")})
  log.write(_record(2, 0.6))
  log.close()
  again = reporting.MetricsLog(str(workdir))
  again.resume(1)
  again.close()
  assert len(list((workdir / "tensorboard").iterdir())) == 1  # The old file was replaced.
  events = event_accumulator.EventAccumulator(str(workdir / "tensorboard"))
  events.Reload()
  assert [e.step for e in events.Scalars("test_accuracy")] == [10]
  assert np.isnan(events.Scalars("train_loss")[0].value)
