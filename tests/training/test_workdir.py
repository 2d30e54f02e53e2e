"""The workdir: clear errors when it cannot be used; a lock the OS releases when its holder dies."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

from mixjax.training import workdir as workdir_lib
from tests.training import helpers

HOLD = """
import sys, time
sys.path.insert(0, {root!r})
from mixjax.training import workdir
lock = workdir.WorkdirLock({path!r})
lock.acquire()
print("LOCKED", flush=True)
time.sleep(600)
"""


def _holder(path) -> subprocess.Popen:
  """A process that takes the lock of `path` and sleeps; returns once it holds it."""
  code = HOLD.format(root=helpers.ROOT, path=str(path))
  proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
  assert proc.stdout.readline().strip() == "LOCKED"
  return proc


def test_a_second_process_is_refused_and_a_sigkilled_holder_never_blocks(tmp_path):
  holder = _holder(tmp_path)
  try:
    with pytest.raises(workdir_lib.WorkdirError) as error:
      workdir_lib.WorkdirLock(str(tmp_path)).acquire()
    message = str(error.value)
    assert f"in use by pid {holder.pid} on {socket.gethostname()}, started " in message
    assert str(tmp_path) in message
  finally:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
  with workdir_lib.WorkdirLock(str(tmp_path)) as lock:  # The OS released it.
    assert f'"pid": {os.getpid()}' in (tmp_path / workdir_lib.LOCK_NAME).read_text()
  assert lock._fd is None


def test_a_disabled_lock_takes_nothing(tmp_path):
  with workdir_lib.WorkdirLock(str(tmp_path)):
    with workdir_lib.WorkdirLock(str(tmp_path), enabled=False):  # Processes 1, 2, ...
      pass


def test_a_workdir_that_is_a_file_or_cannot_be_created_is_one_clear_error(tmp_path):
  path = tmp_path / "file"
  path.write_text("")
  with pytest.raises(workdir_lib.WorkdirError, match=f"--workdir {path} exists and is not a dir"):
    workdir_lib.make_workdir(str(path))
  below = path / "run"
  with pytest.raises(workdir_lib.WorkdirError, match=f"--workdir {below} is not usable: Not a dir"):
    workdir_lib.make_workdir(str(below))
  workdir_lib.make_workdir(str(tmp_path / "a" / "b"))
  assert (tmp_path / "a" / "b").is_dir() and not list((tmp_path / "a" / "b").iterdir())


def test_processes_that_make_the_same_workdir_together_all_succeed(tmp_path):
  """The processes of a multi-process run probe the workdir at once: each probe has its own
  name (with one shared name, this failed on the old code: one call removed another's
  probe, as in a two-process test run of CI)."""
  previous = sys.getswitchinterval()
  sys.setswitchinterval(1e-6)  # Threads switch often, as processes would interleave.
  errors = []

  def make(times):
    for _ in range(times):
      try:
        workdir_lib.make_workdir(str(tmp_path / "run"))
      except workdir_lib.WorkdirError as error:
        errors.append(error)

  try:
    threads = [threading.Thread(target=make, args=(200,)) for _ in range(4)]
    for thread in threads:
      thread.start()
    for thread in threads:
      thread.join()
  finally:
    sys.setswitchinterval(previous)
  assert not errors, errors[0]
  assert os.listdir(tmp_path / "run") == []
