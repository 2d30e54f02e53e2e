"""SIGTERM / SIGINT set a stop request (a second Ctrl-C stops at once); handlers are restored."""

from __future__ import annotations

import os
import signal

import pytest

from mixjax.training import stopping


def test_signals_only_ask_to_stop_while_installed():
  before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
  with stopping.StopRequests() as stop:
    assert not stop.should_stop(1)
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.should_stop(2) and stop.signum == signal.SIGTERM
    os.kill(os.getpid(), signal.SIGTERM)  # Repeated: still just a request.
    stop.signum = None
    os.kill(os.getpid(), signal.SIGINT)
    assert stop.signum == signal.SIGINT
    with pytest.raises(KeyboardInterrupt):  # The second Ctrl-C.
      os.kill(os.getpid(), signal.SIGINT)
  assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_messages_name_where_the_run_stopped():
  error = stopping.Interrupted(signal.SIGTERM, 3, 50, 8)
  assert str(error) == (
    "SIGTERM: interrupted at epoch 3 step 8 (global step 50), checkpoint saved; rerun the "
    "same command to resume."
  )
  error = stopping.diverged(float("nan"), epoch=0, epoch_step=4, global_step=4)
  assert "the train loss is nan at epoch 1 step 5 (global step 5)" in str(error)
  assert "last good checkpoint is kept" in str(error)
