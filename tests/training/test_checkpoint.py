"""Checkpoints: a corrupted newest one falls back to its predecessor; checksums are checked."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import numpy as np

from mixjax.training import checkpoint as checkpoint_lib
from tests.training import helpers


def test_corrupt_checkpoint_falls_back_to_the_previous_one(tmp_path):
  checkpointer = checkpoint_lib.Checkpointer(str(tmp_path))
  states = {step: {"w": np.full((64, 64), step, np.float32)} for step in (1, 2)}
  for step, state in states.items():
    checkpointer.save(step, state, {"epoch": step})
  # Corrupt every data file of the newest checkpoint in place (same size, other bytes).
  newest = tmp_path / "checkpoints" / "2"
  for path in newest.rglob("*"):
    if path.is_file() and path.stat().st_size > 0 and "d" in path.parts[-2:-1][0]:
      data = bytearray(path.read_bytes())
      path.write_bytes(bytes(b ^ 0xFF for b in data))
  restored = checkpointer.restore_latest({"w": np.zeros((64, 64), np.float32)})
  assert restored is not None
  state, meta = restored
  assert meta["epoch"] == 1
  np.testing.assert_array_equal(state["w"], states[1]["w"])


def test_checksum_mismatch_is_detected(tmp_path):
  checkpointer = checkpoint_lib.Checkpointer(str(tmp_path))
  checkpointer.save(1, {"w": np.ones(3, np.float32)}, {"epoch": 1})
  checkpointer.save(2, {"w": np.full(3, 2.0, np.float32)}, {"epoch": 2})
  meta_dir = next((tmp_path / "checkpoints" / "2" / "meta").rglob("*"))
  record = json.loads(meta_dir.read_text())
  record["fingerprint"] = "0" * 64
  meta_dir.write_text(json.dumps(record))
  _, meta = checkpointer.restore_latest({"w": np.zeros(3, np.float32)})
  assert meta["epoch"] == 1


def test_restore_of_an_empty_workdir_is_none_and_save_round_trips(tmp_path):
  checkpointer = checkpoint_lib.Checkpointer(str(tmp_path))
  target = {"w": np.zeros((2, 3), np.float32), "step": np.zeros((), np.int32)}
  assert checkpointer.restore_latest(target) is None
  state = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": np.int32(7)}
  checkpointer.save(7, state, {"epoch": 1, "wall_seconds": 2.5})
  checkpointer.save(7, state, {"epoch": 1, "wall_seconds": 3.5})  # A leftover step is replaced.
  restored, meta = checkpoint_lib.Checkpointer(str(tmp_path)).restore_latest(target)
  np.testing.assert_array_equal(restored["w"], state["w"])
  assert int(restored["step"]) == 7
  assert meta["wall_seconds"] == 3.5 and meta["fingerprint"] == checkpoint_lib.fingerprint(state)
  checkpointer.close()


FAILING_SAVE = """
import os, shutil, sys
import numpy as np
sys.path.insert(0, {root!r})
from mixjax.training import checkpoint
checkpointer = checkpoint.Checkpointer({workdir!r})
checkpointer.save(1, {{"w": np.ones(3, np.float32)}}, {{"epoch": 1}})
# The checkpoint directory becomes unwritable (a file where it was): a stand-in for a full
# disk that works as root too.
shutil.rmtree(checkpointer.directory)
open(checkpointer.directory, "w").close()
try:
  checkpointer.save(2, {{"w": np.ones(3, np.float32)}}, {{"epoch": 2}})
except checkpoint.CheckpointError as error:
  print("ERROR", error, flush=True)
raise SystemExit(3)  # The process must exit: no orbax thread may keep it alive.
"""


def test_a_failed_write_raises_at_once_and_leaves_nothing_running(tmp_path):
  code = FAILING_SAVE.format(root=helpers.ROOT, workdir=str(tmp_path))
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
  assert result.returncode == 3, result.stdout + result.stderr
  directory = tmp_path / "checkpoints"
  assert (
    f"ERROR could not write the checkpoint of step 2 to {directory}: NotADirectoryError"
  ) in result.stdout
  assert "Traceback" not in result.stderr, result.stderr  # Orbax's are silenced.


def test_falling_back_from_a_corrupt_checkpoint_prints_no_event_loop_errors(tmp_path, monkeypatch):
  unraisable = []
  monkeypatch.setattr(sys, "unraisablehook", lambda u: unraisable.append(str(u.exc_value)))
  checkpointer = checkpoint_lib.Checkpointer(str(tmp_path))
  state = {f"w{i}": np.full((64, 64), i, np.float32) for i in range(40)}  # Many reads.
  for step in (1, 2):
    checkpointer.save(step, state, {"epoch": step})
  for path in (tmp_path / "checkpoints" / "2").rglob("*"):
    if path.is_file() and path.parent.name == "d" and path.stat().st_size:
      path.write_bytes(bytes(b ^ 0xFF for b in path.read_bytes()))
  _, meta = checkpointer.restore_latest({k: np.zeros_like(v) for k, v in state.items()})
  assert meta["epoch"] == 1
  gc.collect()
  assert unraisable == []  # Without the filter: ~30 "Event loop is closed".
  # A leftover temporary directory of a save killed half-way is no checkpoint.
  (tmp_path / "checkpoints" / "3.orbax-checkpoint-tmp").mkdir()
  _, meta = checkpoint_lib.Checkpointer(str(tmp_path)).restore_latest(
    {k: np.zeros_like(v) for k, v in state.items()}
  )
  assert meta["epoch"] == 1
  checkpointer.close()
