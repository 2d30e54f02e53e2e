"""A training process for the subprocess tests (resume after SIGKILL, two processes).

  python tests/training/_worker.py --config configs/digits.py --workdir WORKDIR --out OUT.npz
      [--distributed --coordinator_address=127.0.0.1:P --num_processes=N --process_id=I]
      [--step_sleep=SECONDS] [--fail_at_step=N] [--die_in_checkpoint_barrier]
      [--config.KEY=VALUE ...]

Trains through `loop.train` with train.py's flags, saves this process's final parameters
to OUT.npz and prints `STEPS <train steps this process ran>` and
`SUMMARY <last test accuracy> <process count>`.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import numpy as np  # noqa: E402
from absl import flags  # noqa: E402

from mixjax.training import checkpoint as checkpoint_lib  # noqa: E402
from mixjax.training import cli  # noqa: E402
from mixjax.training import loop  # noqa: E402
from mixjax.training import parallel as parallel_lib  # noqa: E402

FLAGS = flags.FLAGS


class InjectedFailure(RuntimeError):
  """The error --fail_at_step raises (a fault of this process alone)."""


def count_train_steps(sleep: float = 0.0, fail_at: int = 0) -> list[int]:
  """Counts every call of the train step (`Parallel.train`) in the returned one-item list.

  Each step also sleeps `sleep` seconds (so a test can signal the process mid-epoch); call
  `fail_at` (1-based; 0: never) raises InjectedFailure instead of training.
  """
  calls = [0]
  train = parallel_lib.Parallel.train

  def counted(self, *args, **kwargs):
    calls[0] += 1
    if calls[0] == fail_at:
      raise InjectedFailure(f"injected failure at train step call {fail_at}")
    time.sleep(sleep)
    return train(self, *args, **kwargs)

  parallel_lib.Parallel.train = counted
  return calls


def die_in_checkpoint_barrier() -> None:
  """SIGKILLs this process when its first checkpoint save reaches orbax's barrier (the
  other processes are then in that barrier, or on their way to it)."""

  def die(*, key: str, timeout_ms: int) -> None:
    del key, timeout_ms
    os.kill(os.getpid(), signal.SIGKILL)

  checkpoint_lib.collective_barrier = die


def main(argv):
  cli.start(argv)  # --distributed --coordinator_address=... as train.py
  steps = count_train_steps(FLAGS.step_sleep, FLAGS.fail_at_step)
  if FLAGS.die_in_checkpoint_barrier:
    die_in_checkpoint_barrier()
  state, summary = loop.train(FLAGS.config, FLAGS.workdir)
  leaves = {
    jax.tree_util.keystr(p): np.asarray(x)
    for p, x in jax.tree_util.tree_leaves_with_path(state.params)
  }
  np.savez(FLAGS.out, **leaves)
  print("STEPS", steps[0], flush=True)
  print("SUMMARY", summary["last_test_accuracy"], jax.process_count(), flush=True)


if __name__ == "__main__":
  cli.define_flags(workdir_help="The run's directory.")
  flags.DEFINE_string("out", None, "Where to save this process's final parameters (.npz).")
  flags.DEFINE_float("step_sleep", 0.0, "Seconds each train step sleeps.")
  flags.DEFINE_integer("fail_at_step", 0, "Raise at this train step call (1-based; 0: never).")
  flags.DEFINE_bool(
    "die_in_checkpoint_barrier", False, "SIGKILL itself in its first checkpoint's barrier."
  )
  flags.mark_flag_as_required("out")
  cli.run(main)
