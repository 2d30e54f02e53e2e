r"""Train the same config with several mixing settings and print them side by side.

  python -m mixjax.training.compare --config configs/digits.py --workdir runs/digits
  python -m mixjax.training.compare --config configs/digits.py --workdir runs/d \
      --mixes=none,mixup,cutmix

Each setting trains in `workdir/<mix>` (and resumes there when rerun); the table goes to
stdout and `workdir/comparison.md`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import ml_collections
from absl import flags

from mixjax.training import cli
from mixjax.training import loop
from mixjax.training import reporting

# config.mix -> how tables name the method.
LABELS = {"none": "ERM", "mixup": "mixup", "cutmix": "CutMix", "mixup_or_cutmix": "mixup|CutMix"}
# Table rows name these methods' mixup α.
_WITH_MIXUP_ALPHA = ("mixup", "mixup_or_cutmix")


def method_label(config: ml_collections.ConfigDict) -> str:
  """How tables name the method of `config`: "ERM", "mixup (α=0.4)", "CutMix", ..."""
  alpha = f" (α={config.mixup_alpha:g})" if config.mix in _WITH_MIXUP_ALPHA else ""
  return LABELS.get(config.mix, config.mix) + alpha


def settings(
  config: ml_collections.ConfigDict, mixes: Sequence[str]
) -> list[tuple[str, ml_collections.ConfigDict]]:
  """One copy of `config` per value of `config.mix`, each with its :func:`method_label`."""
  copies = []
  for mix in mixes:
    copy = config.copy_and_resolve_references()
    copy.mix = mix
    copies.append((method_label(copy), copy))
  return copies


def format_table(rows: Sequence[tuple[str, dict[str, Any]]]) -> str:
  """A markdown table of run summaries (`loop.train_and_evaluate`), one row per setting."""
  header = (
    "method",
    "best test acc",
    "last test acc",
    "median last-10 error",
    "images/sec",
    "wall s",
  )
  cells = [
    (
      name,
      f"{100 * s['best_test_accuracy']:.2f}%",
      f"{100 * s['last_test_accuracy']:.2f}%",
      f"{100 * s['median_last10_test_error']:.2f}%",
      f"{s['images_per_sec']:,.0f}",
      f"{s['wall_seconds']:.1f}",
    )
    for name, s in rows
  ]
  return reporting.markdown_table(header, cells)


def compare_mixes(
  config: ml_collections.ConfigDict, workdir: str, mixes: Sequence[str]
) -> list[tuple[str, dict[str, Any]]]:
  """Trains `config` once per value of `config.mix`, in `workdir/<mix>`, and tabulates them.

  Args:
    config: the run's config; only `mix` changes between the settings.
    workdir: the parent directory; `workdir/comparison.md` gets the table.
    mixes: the values of `config.mix` to train, in table order.

  Returns:
    `(method label, summary)` per setting, as in the table.
  """
  rows = []
  for label, setting in settings(config, mixes):
    print(f"--- {label}: {setting.dataset}, {setting.model}", flush=True)
    rows.append((label, loop.train_and_evaluate(setting, os.path.join(workdir, setting.mix))))
  table = format_table(rows)
  print("\n" + table)
  with open(os.path.join(workdir, "comparison.md"), "w") as f:
    f.write(table + "\n")
  return rows


def main(argv):
  cli.start(argv)
  compare_mixes(flags.FLAGS.config, flags.FLAGS.workdir, flags.FLAGS.mixes)


if __name__ == "__main__":
  cli.define_flags(workdir_help="Parent directory; each setting trains in a subdirectory.")
  flags.DEFINE_list("mixes", ["none", "mixup"], "Values of config.mix to compare.")
  cli.run(main)
