"""A training process for the subprocess tests (resume after SIGKILL, two processes).

  python tests/_worker.py WORKDIR OUT.npz [--distributed --coordinator_address=127.0.0.1:P
      --num_processes=N --process_id=I]
      [--config.KEY=VALUE ...]

Trains digits with a short config and saves this process's final parameters.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import numpy as np  # noqa: E402
from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from mixjax.training import distributed  # noqa: E402
from mixjax.training import loop  # noqa: E402

config_flags.DEFINE_config_file("config", "configs/digits.py", "Config file.")
FLAGS = flags.FLAGS


def main(argv):
  workdir, out = argv[1], argv[2]
  logging.set_verbosity(logging.WARNING)
  distributed.initialize_from_flags()  # --distributed --coordinator_address=... as train.py
  state, summary = loop.train(FLAGS.config, workdir)
  leaves = {
    jax.tree_util.keystr(p): np.asarray(x)
    for p, x in jax.tree_util.tree_leaves_with_path(state.params)
  }
  np.savez(out, **leaves)
  print("SUMMARY", summary["last_test_accuracy"], jax.process_count(), flush=True)


if __name__ == "__main__":
  app.run(main)
