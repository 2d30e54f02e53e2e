r"""Train the same config with several mixing settings and print them side by side.

  python -m mixjax.training.compare --config configs/digits.py --workdir runs/digits
  python -m mixjax.training.compare --config configs/digits.py --workdir runs/d \
      --mixes=none,mixup,cutmix

Each setting trains in `workdir/<mix>` (and resumes there when rerun).
"""

from __future__ import annotations

import os

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from mixjax.training import distributed
from mixjax.training import loop

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Path to a config file.", lock_config=True)
flags.DEFINE_string("workdir", None, "Parent directory; each setting trains in a subdirectory.")
flags.DEFINE_list("mixes", ["none", "mixup"], "Values of config.mix to compare.")
flags.mark_flags_as_required(["config", "workdir"])

LABELS = {"none": "ERM", "mixup": "mixup", "cutmix": "CutMix", "mixup_or_cutmix": "mixup|CutMix"}


def format_table(rows: list[tuple[str, dict]]) -> str:
  """A markdown table of summaries, one row per setting."""
  lines = [
    "| method | best test acc | last test acc | median last-10 error | images/sec | wall s |",
    "|---|---:|---:|---:|---:|---:|",
  ]
  for name, s in rows:
    lines.append(
      f"| {name} | {100 * s['best_test_accuracy']:.2f}% | {100 * s['last_test_accuracy']:.2f}% "
      f"| {100 * s['median_last10_test_error']:.2f}% | {s['images_per_sec']:,.0f} "
      f"| {s['wall_seconds']:.1f} |"
    )
  return "\n".join(lines)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)  # Orbax logs every save at INFO.
  distributed.initialize_from_flags()
  rows = []
  for mix in FLAGS.mixes:
    config = FLAGS.config.copy_and_resolve_references()
    config.mix = mix
    alpha = f" (α={config.mixup_alpha:g})" if mix in ("mixup", "mixup_or_cutmix") else ""
    print(f"--- {LABELS.get(mix, mix)}{alpha}: {config.dataset}, {config.model}", flush=True)
    summary = loop.train_and_evaluate(config, os.path.join(FLAGS.workdir, mix))
    rows.append((LABELS.get(mix, mix) + alpha, summary))
  table = format_table(rows)
  print("\n" + table)
  with open(os.path.join(FLAGS.workdir, "comparison.md"), "w") as f:
    f.write(table + "\n")


if __name__ == "__main__":
  app.run(main)
