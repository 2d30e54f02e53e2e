"""Two JAX processes (jax.distributed over gloo) train one run and end identical."""

from __future__ import annotations

import json
import os
import time

import jax
import numpy as np
import pytest

from mixjax.training import distributed
from mixjax.training import workdir as workdir_lib
from tests.training import helpers


def _start_pair(workdir, tmp_path, *args, env_extra=None, only=None):
  """Processes 0 and 1 of one run in `workdir` (one fake device each), saving to tmp_path;
  `only` maps a process to flags of its own."""
  port = helpers.free_port()
  return [
    helpers.start_worker(
      workdir,
      tmp_path / f"p{i}.npz",
      "--distributed",
      f"--coordinator_address=127.0.0.1:{port}",
      f"--process_id={i}",
      "--num_processes=2",
      *args,
      *(only or {}).get(i, ()),
      devices=1,
      env_extra=env_extra,
    )
    for i in range(2)
  ]


@pytest.mark.parametrize("parallel", ["pmap", "shard_map"])
def test_two_processes_end_with_identical_parameters(tmp_path, parallel):
  procs = _start_pair(
    tmp_path / "run",
    tmp_path,
    f"--config.parallel={parallel}",
    "--config.num_epochs=2",
    "--config.lr_milestones=()",
  )
  outs = helpers.communicate(procs, timeout=300)
  for p, out in zip(procs, outs, strict=True):
    assert p.returncode == 0, out
    assert "SUMMARY" in out and out.strip().endswith("2")  # jax.process_count() == 2
  a, b = helpers.read_params(tmp_path / "p0.npz"), helpers.read_params(tmp_path / "p1.npz")
  for key in a:
    np.testing.assert_array_equal(a[key], b[key], err_msg=key)
  records = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
  assert len(records) == 2 and json.loads(records[-1])["test_count"] == 450


def test_a_workdir_locked_by_another_run_stops_both_processes(tmp_path):
  """Only process 0 takes the lock; process 1 stops with it instead of waiting for process
  0 at its first collective."""
  run = tmp_path / "run"
  run.mkdir()
  with workdir_lib.WorkdirLock(str(run)):  # Another run's lock.
    procs = _start_pair(run, tmp_path)
    outs = helpers.communicate(procs, timeout=120)
  assert [p.returncode for p in procs] == [1, 1], outs
  assert f"is in use by pid {os.getpid()}" in outs[0], outs[0]
  assert "failed on process 0 (see its error); process 1 stops too." in outs[1], outs[1]


def test_a_killed_process_stops_the_other_within_the_leave_timeout_and_the_run_resumes(tmp_path):
  """Process 1 SIGKILLed mid-run: process 0 (the coordinator) fails its next collective and
  leaves after `distributed.LEAVE_TIMEOUT_S` with status 1, instead of waiting for jax's
  100 s heartbeat timeout and then aborting; both rerun and finish from the checkpoint."""
  run, flags = tmp_path / "run", ("--config.num_epochs=3", "--config.lr_milestones=()")
  cache = {"JAX_COMPILATION_CACHE_DIR": str(tmp_path / "jax_cache")}
  procs = _start_pair(run, tmp_path, *flags, "--step_sleep=0.05", env_extra=cache)
  try:
    helpers.wait_for_checkpoint(procs[0], run, epoch=1)
  finally:
    procs[1].kill()  # Also on a failed wait: no process is left behind.
  started = time.monotonic()
  out = helpers.communicate(procs, timeout=distributed.LEAVE_TIMEOUT_S + 30)[0]
  assert procs[0].returncode == 1, out
  assert time.monotonic() - started < distributed.LEAVE_TIMEOUT_S + 30
  assert "error: process 0 stops without the run's other processes" in out, out
  # One line for the failed collective (in a train step, the stop check or a checkpoint).
  assert out.count("error: ") == 2, out
  assert "error: process 0 lost another process of the run (" in out, out
  assert "Traceback" not in out, out
  assert "Fatal Python error" not in out and "Check failure" not in out, out
  assert not (tmp_path / "p0.npz").exists(), "the run finished before it was killed"
  procs = _start_pair(run, tmp_path, *flags, env_extra=cache)
  outs = helpers.communicate(procs, timeout=300)
  for p, text in zip(procs, outs, strict=True):
    assert p.returncode == 0, text
  assert "Resuming" in outs[0], outs[0]
  assert [r["epoch"] for r in helpers.read_records(run)] == [1, 2, 3]


def test_a_process_killed_in_a_checkpoint_barrier_stops_the_other_with_one_line(
  tmp_path,
):
  """Process 1 dies inside its first checkpoint save's barrier. Orbax's own barrier (at the
  coordination service) held process 0 until jax's heartbeat timeout and then aborted it;
  as a collective it fails at once: one line, status 1, and the epoch-1 checkpoint is not
  left half-written."""
  flags = ("--config.num_epochs=2", "--config.lr_milestones=()")
  procs = _start_pair(tmp_path / "run", tmp_path, *flags, only={1: ["--die_in_checkpoint_barrier"]})
  out = helpers.communicate(procs, timeout=240)[0]
  assert procs[1].returncode == -9, out
  assert procs[0].returncode == 1, out
  assert "error: process 0 lost another process of the run (could not write the checkpoint" in out
  assert "error: process 0 stops without the run's other processes" in out, out
  assert "Traceback" not in out and "Check failure" not in out, out
  assert not list((tmp_path / "run" / "checkpoints").glob("[0-9]*")), "a checkpoint completed"


@pytest.mark.parametrize("failing", [0, 1])
def test_a_process_failing_alone_stops_the_run_without_a_hang(tmp_path, failing):
  """One process raises mid-epoch 2 while the other waits for it in a collective: the failing
  one leaves after `distributed.LEAVE_TIMEOUT_S` (its traceback, then one line), which ends
  the other's collective. Process 0 is the coordinator: when it is the one that fails, jax
  aborts process 1 once it is gone (status -6); when process 1 fails, process 0 stops with
  one line."""
  flags = ("--config.num_epochs=3", "--config.lr_milestones=()")
  procs = _start_pair(tmp_path / "run", tmp_path, *flags, only={failing: ["--fail_at_step=30"]})
  outs = helpers.communicate(procs, timeout=distributed.LEAVE_TIMEOUT_S + 120)
  assert procs[failing].returncode == 1, outs[failing]
  assert "InjectedFailure: injected failure at train step call 30" in outs[failing]
  assert f"error: process {failing} stops without the run's other processes" in outs[failing]
  other = 1 - failing
  assert f"error: process {other} lost another process of the run (" in outs[other], outs[other]
  if other == 0:
    assert procs[other].returncode == 1, outs[other]
  else:  # jax's abort (-6 with jax 0.10), at once: not a hang.
    assert procs[other].returncode != 0, outs[other]


def test_lost_peer_tells_a_gone_process_from_other_errors(monkeypatch):
  gone = RuntimeError(
    "INTERNAL: Gloo all-reduce failed: [pair.cc:538] Read error [127.0.0.1]:1: Connection "
    "reset by peer\nsecond line"
  )
  assert not distributed.lost_peer(gone)  # No multi-process run joined.
  assert distributed.shut_down(timeout_s=0.0)  # Nothing to shut down: at once.
  monkeypatch.setattr(jax.distributed, "is_initialized", lambda: True)
  assert distributed.lost_peer(gone)
  assert not distributed.lost_peer(RuntimeError("RESOURCE_EXHAUSTED: Out of memory"))
  assert distributed.lost_peer_message(gone) == (
    "process 0 lost another process of the run (INTERNAL: Gloo all-reduce failed: [pair.cc:538]"
    " Read error [127.0.0.1]:1: Connection reset by peer); the newest checkpoint is kept: rerun"
    " every process to resume."
  )
