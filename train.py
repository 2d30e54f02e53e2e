"""Train a model with in-graph mixing from a config file.

  python train.py --config configs/digits.py --workdir runs/digits
  python train.py --config configs/cifar10.py --workdir runs/c10 --config.mixup_alpha=0.2
  python train.py --config configs/digits.py --workdir runs/cv --config.cv_folds=5

Rerunning the same command on the same workdir resumes. For several hosts, pass
--distributed (with --coordinator_address/--num_processes/--process_id, or the
environment your cluster sets for jax.distributed.initialize).
"""

from absl import flags

from mixjax.training import cli
from mixjax.training import cross_validation
from mixjax.training import loop

FLAGS = flags.FLAGS


def main(argv):
  cli.start(argv)
  if FLAGS.config.cv_folds > 0:  # k-fold cross-validation: workdir/fold_k, cv_summary.json.
    cross_validation.cross_validate(FLAGS.config, FLAGS.workdir)
  else:
    loop.train_and_evaluate(FLAGS.config, FLAGS.workdir)


if __name__ == "__main__":
  cli.define_flags(workdir_help="Directory for checkpoints, metrics and plots.")
  cli.run(main)
