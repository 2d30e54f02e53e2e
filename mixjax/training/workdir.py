"""The run's directory: created with a clear error, locked while a process trains in it.

The lock is `fcntl.flock` on `workdir/.lock`: the OS releases it when the holding process
dies, however it dies (SIGKILL included), so a killed run never blocks its rerun. The file
names the holder (pid, host, start time) for the message a second process gets. In a
multi-process run only process 0 takes it (the processes share the workdir).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import tempfile
import time
from typing import Any

LOCK_NAME = ".lock"


class WorkdirError(RuntimeError):
  """The workdir cannot be used; the message is one line with the path and the reason."""


def make_workdir(workdir: str) -> None:
  """Creates `workdir` (and its parents) and checks it is a writable directory.

  Raises:
    WorkdirError: it is a file, cannot be created or is not writable (with the OS error).
  """
  try:
    os.makedirs(workdir, exist_ok=True)
    # A name of its own: the processes of a multi-process run probe the workdir together.
    fd, probe = tempfile.mkstemp(prefix=".write_test.", dir=workdir)
    os.close(fd)
    os.remove(probe)
  except FileExistsError:
    raise WorkdirError(f"--workdir {workdir} exists and is not a directory.") from None
  except OSError as error:
    raise WorkdirError(
      f"--workdir {workdir} is not usable: {error.strerror or error} ({type(error).__name__})."
    ) from None


def describe_holder(path: str) -> str:
  """What the lock file at `path` says of its holder (pid, host, start time)."""
  try:
    with open(path) as f:
      holder = json.load(f)
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder["time"]))
    return f"pid {holder['pid']} on {holder['host']}, started {started}"
  except (OSError, ValueError, KeyError, TypeError):
    return "another process"


class WorkdirLock:
  """An exclusive lock on a workdir for as long as the run holds it (a context manager).

  Args:
    workdir: an existing directory.
    enabled: False on the processes of a multi-process run but the first (no lock taken).
  """

  def __init__(self, workdir: str, *, enabled: bool = True):
    self.path = os.path.join(workdir, LOCK_NAME)
    self.enabled = enabled
    self._fd: int | None = None

  def acquire(self) -> None:
    """Takes the lock, or raises WorkdirError naming the process that holds it."""
    if not self.enabled or self._fd is not None:
      return
    fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      os.close(fd)
      raise WorkdirError(
        f"--workdir {os.path.dirname(self.path)} is in use by {describe_holder(self.path)}; "
        "wait for it to finish, stop it, or use another workdir."
      ) from None
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder).encode(), 0)
    self._fd = fd

  def release(self) -> None:
    if self._fd is not None:
      os.ftruncate(self._fd, 0)
      fcntl.flock(self._fd, fcntl.LOCK_UN)
      os.close(self._fd)
      self._fd = None

  def __enter__(self) -> WorkdirLock:
    self.acquire()
    return self

  def __exit__(self, *exc: Any) -> None:
    self.release()
