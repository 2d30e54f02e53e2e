r"""k-fold cross-validation of a config on the training split of an in-memory dataset.

  python train.py --config configs/digits.py --workdir runs/cv --config.cv_folds=5
  python -m mixjax.training.cross_validation --config configs/digits.py --workdir runs/cv_digits \
      --folds 5 --mixes none,mixup

The training split is cut into `config.cv_folds` stratified folds
(`sklearn.model_selection.StratifiedKFold`, shuffled by the data seed: `config.data_seed`,
or `config.seed` when that is -1). Fold k trains the config on the other folds, in
`workdir/fold_k` through `mixjax.loop.train` (its own checkpoints, metrics, curves and
summary; normalisation statistics of its own training part), with the held-out fold
playing the test split. Then it predicts (`loop.predict`) the held-out fold and the real
test split. With label noise, folds are stratified by, and held-out accuracy is measured
against, the noisy training labels. The workdir then holds:

* `fold_k/predictions.npz`: `held_out_indices` (into the training split),
  `held_out_probs` and `test_probs` (float32 class probabilities) of fold k's model.
* `oof.npy`: float32 `[num_train, num_classes]` out-of-fold probabilities, the held-out
  folds one after the other; `oof_indices.npy`: int64 `[num_train]`, the training-split
  index of each row (every index exactly once).
* `ensemble_test_probs.npy`: float32 `[num_test, num_classes]`, the fold models'
  test probabilities averaged: the ensemble's prediction of the test split.
* `cv_summary.json`: per fold, held-out and test accuracy; their mean and standard
  deviation over folds (ddof=0); the pooled out-of-fold accuracy; the ensemble's test
  accuracy.
* `class_names.json` when the dataset names its classes (e.g. an image folder).

Rerunning the same command resumes: a fold with `summary.json` and `predictions.npz` is
finished and is not trained again; an unfinished fold resumes from its checkpoints.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import jax
import ml_collections
import numpy as np
from absl import flags
from sklearn import model_selection

from mixjax import data as data_lib
from mixjax.training import cli
from mixjax.training import compare
from mixjax.training import config as config_lib
from mixjax.training import loop
from mixjax.training import reporting

# Marks a finished fold, with the fold's summary.json.
PREDICTIONS = "predictions.npz"


@dataclasses.dataclass(frozen=True)
class FoldResult:
  """What one fold's model predicted.

  Attributes:
    fold: the fold's index.
    held_out_indices: int64 `[n_k]`, the fold's examples (indices into the training split).
    held_out_probs: float32 `[n_k, num_classes]`, their predicted class probabilities.
    test_probs: float32 `[num_test, num_classes]`, the test split's.
    summary: the fold's training summary (`loop.train`).
  """

  fold: int
  held_out_indices: np.ndarray
  held_out_probs: np.ndarray
  test_probs: np.ndarray
  summary: dict[str, Any]


def fold_indices(
  labels: np.ndarray, num_folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
  """Stratified k-fold split of a training split.

  Args:
    labels: int `[n]`, the training labels.
    num_folds: the number of folds, at least 2 and at most the size of the smallest class.
    seed: shuffles the examples before they are cut into folds.

  Returns:
    `num_folds` pairs `(train_indices, held_out_indices)`, each sorted int64; the
    held-out parts are disjoint and together cover `range(n)`.
  """
  labels = np.asarray(labels)
  if isinstance(num_folds, bool) or not isinstance(num_folds, int) or num_folds < 2:
    raise ValueError(f"`num_folds` must be an int >= 2, got {num_folds!r}.")
  classes, counts = np.unique(labels, return_counts=True)
  if counts.size and counts.min() < num_folds:
    smallest = classes[np.argmin(counts)]
    raise ValueError(
      f"{num_folds}-fold stratified cross-validation needs at least {num_folds} training "
      f"examples of every class; class {smallest} has {counts.min()}. Use fewer folds "
      "(config.cv_folds)."
    )
  splitter = model_selection.StratifiedKFold(n_splits=num_folds, shuffle=True, random_state=seed)
  return [
    (np.sort(train).astype(np.int64), np.sort(held).astype(np.int64))
    for train, held in splitter.split(np.zeros((len(labels), 1)), labels)
  ]


def fold_sources(
  source: data_lib.ArraySource, train_indices: np.ndarray, held_out_indices: np.ndarray
) -> tuple[data_lib.ArraySource, data_lib.ArraySource, data_lib.ArraySource]:
  """The sources of one fold, all normalised with the statistics of its training part.

  Returns:
    `(train_source, held_out_view, test_view)`: `train_source` trains on
    `train_indices` and tests on `held_out_indices` (this process's share, as `source`);
    the two views are single-process copies whose test split is the held-out fold and
    the real test split respectively, for predicting every example on each process.
  """
  train_source = source.subset(train_indices, held_out_indices)
  held_out_view = train_source
  if source.process_count > 1:
    held_out_view = source.subset(train_indices, held_out_indices, process_index=0, process_count=1)
  test_view = source.subset(train_indices, process_index=0, process_count=1)
  return train_source, held_out_view, test_view


def _fold_dir(workdir: str, fold: int) -> str:
  return os.path.join(workdir, f"fold_{fold}")


def run_fold(
  config: ml_collections.ConfigDict,
  workdir: str,
  source: data_lib.ArraySource,
  folds: list[tuple[np.ndarray, np.ndarray]],
  fold: int,
) -> FoldResult:
  """Trains (or resumes, or reloads when finished) fold `fold` in `workdir/fold_<fold>`.

  Args:
    config: the run's config.
    workdir: the cross-validation's directory.
    source: the whole dataset.
    folds: from :func:`fold_indices` on `source.train_labels`.
    fold: which fold, in `[0, len(folds))`.

  Returns:
    The fold's predictions and summary.
  """
  fold_dir = _fold_dir(workdir, fold)
  is_main = jax.process_index() == 0
  finished = load_finished_fold(fold_dir, fold)
  if finished is not None:
    if is_main:
      print(f"--- fold {fold}: finished earlier ({fold_dir}), not retrained.", flush=True)
    return finished
  train_indices, held_out_indices = folds[fold]
  train_source, held_out_view, test_view = fold_sources(source, train_indices, held_out_indices)
  if is_main:
    print(
      f"--- fold {fold}/{len(folds)}: training on {len(train_indices)}, held out "
      f"{len(held_out_indices)}, in {fold_dir}",
      flush=True,
    )
  state, summary = loop.train(config, fold_dir, source=train_source, eval_label="held-out")
  eval_batch_size = config.eval_batch_size or config.batch_size
  held_out_probs, _ = loop.predict(state, held_out_view, global_batch_size=eval_batch_size)
  test_probs, _ = loop.predict(state, test_view, global_batch_size=eval_batch_size)
  result = FoldResult(
    fold=fold,
    held_out_indices=held_out_indices,
    held_out_probs=held_out_probs.astype(np.float32),
    test_probs=test_probs.astype(np.float32),
    summary=summary,
  )
  if is_main:
    save_fold(fold_dir, result)
  return result


def load_finished_fold(fold_dir: str, fold: int) -> FoldResult | None:
  """The result of a fold whose directory holds `summary.json` and the predictions, or None."""
  summary_path = os.path.join(fold_dir, "summary.json")
  predictions_path = os.path.join(fold_dir, PREDICTIONS)
  if not (os.path.exists(summary_path) and os.path.exists(predictions_path)):
    return None
  with open(summary_path) as f:
    summary = json.load(f)
  with np.load(predictions_path) as saved:
    return FoldResult(
      fold=fold,
      held_out_indices=saved["held_out_indices"],
      held_out_probs=saved["held_out_probs"],
      test_probs=saved["test_probs"],
      summary=summary,
    )


def save_fold(fold_dir: str, result: FoldResult) -> None:
  """Writes the fold's predictions atomically: their presence marks the fold finished."""
  path = os.path.join(fold_dir, PREDICTIONS)
  tmp = path + ".tmp.npz"
  np.savez(
    tmp,
    held_out_indices=result.held_out_indices,
    held_out_probs=result.held_out_probs,
    test_probs=result.test_probs,
  )
  os.replace(tmp, path)


def _accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
  return float(np.mean(np.argmax(probs, axis=-1) == labels))


def summarize(
  results: list[FoldResult], train_labels: np.ndarray, test_labels: np.ndarray
) -> tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray]:
  """Per-fold and overall accuracies of finished folds.

  Args:
    results: one per fold, in fold order.
    train_labels: int `[num_train]`, the labels the folds were held out from.
    test_labels: int `[num_test]`.

  Returns:
    `(cv_summary, oof, oof_indices, ensemble_test_probs)`; see the module docstring.
  """
  per_fold = []
  for r in results:
    per_fold.append(
      {
        "fold": r.fold,
        "num_held_out": len(r.held_out_indices),
        "held_out_accuracy": _accuracy(r.held_out_probs, train_labels[r.held_out_indices]),
        "test_accuracy": _accuracy(r.test_probs, test_labels),
        "wall_seconds": float(r.summary.get("wall_seconds", 0.0)),
      }
    )
  oof = np.concatenate([r.held_out_probs for r in results]).astype(np.float32)
  oof_indices = np.concatenate([r.held_out_indices for r in results]).astype(np.int64)
  ensemble = np.mean([r.test_probs for r in results], axis=0).astype(np.float32)
  held_out = np.array([f["held_out_accuracy"] for f in per_fold])
  test = np.array([f["test_accuracy"] for f in per_fold])
  summary = {
    "folds": len(results),
    "per_fold": per_fold,
    "held_out_accuracy_mean": float(held_out.mean()),
    "held_out_accuracy_std": float(held_out.std()),
    "test_accuracy_mean": float(test.mean()),
    "test_accuracy_std": float(test.std()),
    "oof_accuracy": _accuracy(oof, train_labels[oof_indices]),
    "ensemble_test_accuracy": _accuracy(ensemble, test_labels),
    "num_train": len(train_labels),
    "num_test": len(test_labels),
    "wall_seconds": float(sum(f["wall_seconds"] for f in per_fold)),
  }
  return summary, oof, oof_indices, ensemble


def check_folds(
  config: ml_collections.ConfigDict, source: data_lib.ArraySource
) -> list[tuple[np.ndarray, np.ndarray]]:
  """The folds of `config.cv_folds`-fold cross-validation on `source`, once the config is
  known to fit every fold: nothing is written before (a corrected rerun just works).

  Raises:
    config.ConfigError: too many folds for the smallest class, a model or mix that the
      inputs do not fit, or a `batch_size` larger than a fold's training part.
  """
  try:
    folds = fold_indices(source.train_labels, config.cv_folds, config_lib.data_seed(config))
  except ValueError as error:
    raise config_lib.ConfigError(str(error), "cv_folds") from error
  loop.check_source(config, source)
  smallest = min(len(train) for train, _ in folds)
  if config.batch_size > smallest:
    raise config_lib.ConfigError(
      f"config.batch_size must be at most the number of training examples of every "
      f"cross-validation fold, {smallest} (the {len(source.train_labels)} training examples "
      f"less the largest held-out fold), got {config.batch_size}.",
      "batch_size",
    )
  return folds


def cross_validate(
  config: ml_collections.ConfigDict,
  workdir: str,
  *,
  source: data_lib.ArraySource | None = None,
) -> dict[str, Any]:
  """Runs `config.cv_folds`-fold cross-validation in `workdir` and prints its table.

  Args:
    config: the run's config, with `cv_folds >= 2`; each fold trains with it as it is.
    workdir: where the folds and the results go (see the module docstring); rerunning on
      the same workdir resumes.
    source: the dataset; defaults to `loop.load_source(config)`. Must be in memory.

  Returns:
    The cross-validation summary (also written to `workdir/cv_summary.json`).
  """
  config_lib.validate(config)
  num_folds = config.cv_folds
  if num_folds < 2:
    raise config_lib.ConfigError(
      f"config.cv_folds must be at least 2 for cross-validation, got {num_folds}.", "cv_folds"
    )
  source = loop.load_source(config) if source is None else source
  if not isinstance(source, data_lib.ArraySource):
    raise config_lib.ConfigError(
      f"config.cv_folds={num_folds} needs an in-memory dataset; {source.info.name!r} is "
      f"streamed ({type(source).__name__}).",
      "cv_folds",
    )
  folds = check_folds(config, source)
  # As every run: locked while the folds train; a workdir of another config is refused.
  with loop.prepare_workdir(config, workdir, source):
    results = [run_fold(config, workdir, source, folds, k) for k in range(num_folds)]
  summary, oof, oof_indices, ensemble = summarize(results, source.train_labels, source.test_labels)
  summary.update(dataset=source.info.name, mix=config.mix, seed=config.seed)
  if jax.process_index() == 0:
    np.save(os.path.join(workdir, "oof.npy"), oof)
    np.save(os.path.join(workdir, "oof_indices.npy"), oof_indices)
    np.save(os.path.join(workdir, "ensemble_test_probs.npy"), ensemble)
    if source.class_names is not None:
      reporting.write_json(os.path.join(workdir, "class_names.json"), list(source.class_names))
    reporting.write_json(os.path.join(workdir, "cv_summary.json"), summary)
    print("\n" + format_folds(summary), flush=True)
  return summary


def _pct(value: float) -> str:
  return f"{100 * value:.2f}%"


def _mean_std(summary: dict[str, Any], key: str) -> str:
  return f"{100 * summary[key + '_mean']:.2f} ± {100 * summary[key + '_std']:.2f}%"


def format_folds(summary: dict[str, Any]) -> str:
  """A markdown table of one cross-validation: a row per fold, then mean ± std, ensemble."""
  rows = [
    (str(f["fold"]), _pct(f["held_out_accuracy"]), _pct(f["test_accuracy"]))
    for f in summary["per_fold"]
  ]
  rows += [
    ("mean ± std", _mean_std(summary, "held_out_accuracy"), _mean_std(summary, "test_accuracy")),
    ("pooled out-of-fold", _pct(summary["oof_accuracy"]), "—"),
    (
      f"ensemble of {summary['folds']} (mean probabilities)",
      "—",
      _pct(summary["ensemble_test_accuracy"]),
    ),
  ]
  return reporting.markdown_table(("fold", "held-out acc", "test acc"), rows)


def format_comparison(rows: list[tuple[str, dict[str, Any]]]) -> str:
  """A markdown table of several cross-validations, one row per setting."""
  header = (
    "method",
    "held-out acc (mean ± std)",
    "test acc (mean ± std)",
    "ensemble test acc",
    "wall s",
  )
  cells = [
    (
      name,
      _mean_std(s, "held_out_accuracy"),
      _mean_std(s, "test_accuracy"),
      _pct(s["ensemble_test_accuracy"]),
      f"{s['wall_seconds']:.1f}",
    )
    for name, s in rows
  ]
  return reporting.markdown_table(header, cells)


def compare_mixes(
  config: ml_collections.ConfigDict, workdir: str, mixes: list[str], *, folds: int | None = None
) -> list[tuple[str, dict[str, Any]]]:
  """Cross-validates `config` once per value of `config.mix`, in `workdir/<mix>`.

  Args:
    config: the run's config; only `mix` (and `cv_folds`) change between the settings.
    workdir: the parent directory; `workdir/cv_comparison.md` gets the table.
    mixes: the values of `config.mix`, in table order.
    folds: the number of folds (None: `config.cv_folds`, else 5).

  Returns:
    `(method label, cross-validation summary)` per setting, as in the table.
  """
  if folds is not None and (isinstance(folds, bool) or not isinstance(folds, int) or folds < 2):
    raise config_lib.ConfigError(f"--folds must be an int >= 2, got {folds!r}.")
  rows = []
  for name, setting in compare.settings(config, mixes):
    setting.cv_folds = folds or setting.cv_folds or 5
    if jax.process_index() == 0:
      print(
        f"=== {name}: {setting.cv_folds}-fold CV, {setting.dataset}, {setting.model}", flush=True
      )
    rows.append((name, cross_validate(setting, os.path.join(workdir, setting.mix))))
  if jax.process_index() == 0:
    table = format_comparison(rows)
    print("\n" + table, flush=True)
    with open(os.path.join(workdir, "cv_comparison.md"), "w") as f:
      f.write(table + "\n")
  return rows


def main(argv):
  cli.start(argv)
  values = flags.FLAGS
  compare_mixes(
    values.config, values.workdir, values.mixes or [values.config.mix], folds=values.folds
  )


if __name__ == "__main__":
  cli.define_flags(workdir_help="Parent directory; each setting in a subdirectory.")
  flags.DEFINE_integer("folds", None, "Number of folds (default: config.cv_folds, else 5).")
  flags.DEFINE_list("mixes", None, "Values of config.mix to compare (default: config.mix).")
  cli.run(main)
