"""Robustness of ERM and mixup models to FGSM and I-FGSM (Zhang et al. 2017, section 3.5).

White-box: every model is attacked with its own gradients. Black-box (the paper's
protocol): adversarial examples are crafted on a *separately seeded ERM model* of the same
recipe and fed to the ERM and the mixup model under test. Reported: top-1 test error at
several ε for FGSM and for I-FGSM (10 steps of ε/4, projected onto the ε-ball), mean ±
std over seeds, as a table and a plot of error against ε.

Perturbations live in pixel units: the attacks see the un-normalised inputs (the
model normalises them inside), ε is a fraction of the pixel range and adversarial
inputs are clipped to that range.

Run (offline, digits):  python -m mixjax.experiments adversarial --out runs/adversarial
CIFAR-10 (data and a GPU needed):
  python -m mixjax.experiments adversarial --out runs/adv_c10 --dataset cifar10 \
      --model preact_resnet18 --epochs 200 --milestones 100,150 --augment crop_flip \
      --batch_size 128 --learning_rate 0.1 --epsilons 0,0.008,0.016,0.031
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mixjax import data
from mixjax.experiments import common
from mixjax.experiments import options
from mixjax.experiments import runs
from mixjax.experiments.adversarial import attacks

ATTACKS = ("FGSM", "I-FGSM")
SOURCE = "black-box source (ERM)"  # The label of the model that crafts black-box examples.
RECIPE = runs.Recipe(model="small_cnn", epochs=30, milestones=(20, 26))  # Digits, lr 0.05.
# The quick version's options (`common.quick_defaults`: those passed are kept).
QUICK = dict(seeds=(0,), epsilons=(0.0, 0.1, 0.3), num_steps=3, epochs=2, milestones=())
_CHUNK = 500  # Test examples attacked and evaluated at once.


def test_source(recipe: runs.Recipe, seed: int):
  """The targets' data source, unsharded: every process attacks the whole test split.

  The attacks run outside the training loop, on each process alike, so a per-process share
  (`jax.process_index()` of `jax.process_count()`) would report the errors of that share only.
  """
  return data.load_source(recipe.dataset, seed=seed, process_index=0, process_count=1)


def raw_test_set(source) -> tuple[np.ndarray, np.ndarray]:
  """The whole test split in pixel units (the source's normalisation undone)."""
  images, labels = [], []
  for batch in source.eval_batches(global_batch_size=256):
    keep = batch["mask"]
    images.append(batch["image"][keep] * source.std + source.mean)
    labels.append(batch["label"][keep])
  return np.concatenate(images).astype(np.float32), np.concatenate(labels)


def pixel_model(state, mean, std):
  """`apply_fn(variables, pixels) -> logits` with the normalisation inside the model."""

  def apply_fn(variables, pixels):
    return state.apply_fn(variables, (pixels - mean) / std, train=False)

  variables = {"params": state.params, "batch_stats": state.batch_stats}
  return apply_fn, jax.tree.map(jnp.asarray, variables)


@functools.partial(jax.jit, static_argnames=("apply_fn", "kind", "num_steps"))
def _attack(apply_fn, variables, x, y, epsilon, lo, hi, *, kind, num_steps):
  if kind == "FGSM":
    return attacks.fgsm(apply_fn, variables, x, y, epsilon=epsilon, clip_min=lo, clip_max=hi)
  return attacks.iterative_fgsm(
    apply_fn,
    variables,
    x,
    y,
    epsilon=epsilon,
    num_steps=num_steps,
    step_size=epsilon / 4,
    clip_min=lo,
    clip_max=hi,
  )


_misclassified = jax.jit(attacks.misclassified, static_argnums=0)


def _in_chunks(fn, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """`fn(x, y)` on slices of `_CHUNK` examples, concatenated on the host."""
  chunks = range(0, len(x), _CHUNK)
  return np.concatenate([np.asarray(fn(x[i : i + _CHUNK], y[i : i + _CHUNK])) for i in chunks])


def _error(model, x, y) -> float:
  """Top-1 error of `model = (apply_fn, variables)` on all of `(x, y)`."""
  return float(np.mean(_in_chunks(functools.partial(_misclassified, *model), x, y)))


def grid(seed: int, methods: Sequence[runs.Method], recipe: runs.Recipe) -> list[runs.Run]:
  """The models of one seed: each method's (seed k), and the black-box source (init, data
  order seed 1000 + k, on the targets' split: `data_seed` k)."""
  specs = []
  for label, overrides in [*methods, runs.Method(SOURCE, runs.erm().overrides)]:
    role, run_seed = ("source", 1000 + seed) if label == SOURCE else ("target", seed)
    specs.append(
      runs.Run(
        workdir=os.path.join("runs", f"{label.split(' ')[0]}_{role}_seed{run_seed}"),
        description=f"train {label} seed={run_seed}",
        config=recipe.config(seed=run_seed, data_seed=seed, **overrides),
        fields={"method": label},
      )
    )
  return specs


def attack_all(models, x, y, *, epsilons, num_steps) -> list[dict[str, Any]]:
  """White- and black-box errors of every target model, per attack and ε.

  Args:
    models: label -> `(apply_fn, variables)`, the targets and the :data:`SOURCE` model.
    x: float32 test inputs in pixel units.
    y: int test labels.
    epsilons: ε values as fractions of the pixel range.
    num_steps: I-FGSM's steps.

  Returns:
    One dict per attack, ε and target: `method`, `attack`, `epsilon`, `white_box_error`,
    `black_box_error`.
  """
  lo, hi = float(x.min()), float(x.max())
  rows = []
  for kind in ATTACKS:
    for eps in epsilons:
      attack = functools.partial(
        _attack, epsilon=float(eps) * (hi - lo), lo=lo, hi=hi, kind=kind, num_steps=num_steps
      )
      crafted = _in_chunks(functools.partial(attack, *models[SOURCE]), x, y)
      for label, model in models.items():
        if label != SOURCE:
          white = _in_chunks(functools.partial(attack, *model), x, y)
          errors = {"white_box_error": _error(model, white, y)}
          errors["black_box_error"] = _error(model, crafted, y)
          rows.append({"method": label, "attack": kind, "epsilon": float(eps), **errors})
  return rows


def _attack_seed(out_dir, seed, methods, recipe, progress, *, epsilons, num_steps):
  """Trains (or reuses) the models of `seed`, then attacks them."""
  specs = grid(seed, methods, recipe)
  note = lambda trained: f"clean test error {100 * trained.last_error:.2f}%"
  trained = runs.train_all(out_dir, specs, progress, note=note, need_state=True)
  source = test_source(recipe, seed)
  x, y = raw_test_set(source)
  models = {
    spec.fields["method"]: pixel_model(t.state, source.mean, source.std)
    for spec, t in zip(specs, trained, strict=True)
  }
  rows = attack_all(models, x, y, epsilons=epsilons, num_steps=num_steps)
  return [{"seed": seed, **row} for row in rows]


@common.quick_defaults(QUICK, together=[("epochs", "milestones")])
def run(
  out_dir: str,
  *,
  quick: bool = False,
  seeds: Sequence[int] = (0, 1),
  epsilons: Sequence[float] = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3),
  alpha: float = 1.0,
  num_steps: int = 10,
  **recipe: Any,
) -> dict[str, Any]:
  """Trains ERM / mixup models (and black-box ERM sources), attacks them, writes tables.

  Args:
    out_dir: output directory (created); each model trains in `out_dir/runs/<name>`.
    quick: a tiny version (one seed, ε in {0, 0.1, 0.3}, 2 epochs, 3 I-FGSM steps). Options passed
      explicitly are kept (`QUICK` fills the others).
    seeds: seeds to run.
    epsilons: ε values as fractions of the pixel range.
    alpha: mixup's α of the mixup model.
    num_steps: I-FGSM's steps (of ε/4 each).
    **recipe: :class:`runs.Recipe` fields (dataset, model, epochs, milestones,
      batch_size, learning_rate, augment) replacing those of :data:`RECIPE`.

  Returns:
    `{"results": one dict per seed, method, attack and ε, "table": the markdown table}`.
  """
  recipe = RECIPE.replace("adversarial", **recipe)
  methods = [runs.erm(), runs.mixup(alpha)]
  progress = common.Progress("adversarial", len(seeds) * (len(methods) + 1))
  per_seed = functools.partial(_attack_seed, epsilons=epsilons, num_steps=num_steps)
  results = [r for seed in seeds for r in per_seed(out_dir, seed, methods, recipe, progress)]
  labels = [m.label for m in methods]
  table = results_table(results, labels, epsilons)
  _plot(os.path.join(out_dir, "error_vs_epsilon.png"), results, labels, epsilons)
  setup = (
    f"{recipe.dataset}, {recipe.model}, {recipe.epochs} epochs, seeds {list(seeds)}; ε as a "
    f"fraction of the pixel range; I-FGSM: {num_steps} steps of ε/4"
  )
  markdown = (
    f"# Adversarial robustness\n\n{setup}\n\nTop-1 test error (%), mean ± std over "
    f"seeds.\n\n{table}\n\n![error vs epsilon](error_vs_epsilon.png)\n"
  )
  common.write_results(out_dir, {"setup": setup, "results": results}, markdown)
  print(table, flush=True)
  return {"results": results, "table": table}


def _errors(results, method: str, kind: str, box: str, epsilon: float) -> list[float]:
  """The `white`/`black` box errors of `method` under attack `kind` at ε, over seeds."""
  return [
    r[f"{box}_box_error"]
    for r in results
    if r["method"] == method and r["attack"] == kind and r["epsilon"] == float(epsilon)
  ]


def results_table(results, method_names, epsilons) -> str:
  """Rows: attack × box × method; columns: top-1 error % per ε, mean ± std over seeds."""
  headers = ["attack", "box", "method"] + [f"ε={e:g}" for e in epsilons]
  rows = []
  for kind in ATTACKS:
    for box in ("white", "black"):
      for method in method_names:
        cells = [_errors(results, method, kind, box, eps) for eps in epsilons]
        rows.append([kind, box, method] + [common.format_mean_std(c, 1, scale=100) for c in cells])
  return common.markdown_table(headers, rows)


def _plot(path, results, method_names, epsilons) -> None:
  plt = common.pyplot()
  fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
  panels = [(k, b) for k in ATTACKS for b in ("white", "black")]
  for ax, (kind, box) in zip(axes, panels, strict=True):
    for method in method_names:
      means = [100 * np.mean(_errors(results, method, kind, box, e)) for e in epsilons]
      ax.plot(epsilons, means, marker="o", label=method)
    ax.set(title=f"{kind}, {box}-box", xlabel="ε (fraction of pixel range)", ylabel="top-1 error %")
    ax.grid(alpha=0.3)
  axes[0].legend()
  common.save_figure(fig, path)


def add_arguments(parser: argparse.ArgumentParser) -> None:
  """Command-line options of `python -m mixjax.experiments adversarial`."""
  epsilons = options.comma_list(float)
  options.add(parser, "--epsilons", type=epsilons, help="e.g. 0,0.05,0.1 (fraction of range)")
  options.add(parser, "--alpha", type=float, help="mixup α of the mixup model")
  options.add(parser, "--num_steps", type=int, help="I-FGSM steps")
  runs.add_recipe_arguments(parser)
