"""Train a model with in-graph mixing from a config file.

  python train.py --config configs/digits.py --workdir runs/digits
  python train.py --config configs/cifar10.py --workdir runs/c10 --config.mixup_alpha=0.2
  python train.py --config configs/digits.py --workdir runs/cv --config.cv_folds=5

Rerunning the same command on the same workdir resumes. For several hosts, pass
--distributed (with --coordinator_address/--num_processes/--process_id, or the
environment your cluster sets for jax.distributed.initialize).
"""

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from mixjax.training import cross_validation
from mixjax.training import distributed
from mixjax.training import loop

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Path to a config file.", lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and plots.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)  # Orbax logs every save at INFO.
  distributed.initialize_from_flags()
  if FLAGS.config.cv_folds > 0:  # k-fold cross-validation: workdir/fold_k, cv_summary.json.
    cross_validation.cross_validate(FLAGS.config, FLAGS.workdir)
  else:
    loop.train_and_evaluate(FLAGS.config, FLAGS.workdir)


if __name__ == "__main__":
  app.run(main)
