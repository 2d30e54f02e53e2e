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

from mixjax.experiments import common
from mixjax.experiments import runs
from mixjax.experiments.adversarial import attacks
from mixjax.training import loop

ATTACKS = ("FGSM", "I-FGSM")


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


@functools.partial(jax.jit, static_argnames=("apply_fn",))
def _errors(apply_fn, variables, x, y):
  return jnp.sum(jnp.argmax(apply_fn(variables, x), -1) != y)


def _error(apply_fn, variables, x, y, batch=500) -> float:
  wrong = sum(
    int(_errors(apply_fn, variables, x[i : i + batch], y[i : i + batch]))
    for i in range(0, len(x), batch)
  )
  return wrong / len(x)


def _adversarial(apply_fn, variables, x, y, epsilon, lo, hi, kind, num_steps, batch=500):
  return np.concatenate(
    [
      np.asarray(
        _attack(
          apply_fn,
          variables,
          x[i : i + batch],
          y[i : i + batch],
          epsilon,
          lo,
          hi,
          kind=kind,
          num_steps=num_steps,
        )
      )
      for i in range(0, len(x), batch)
    ]
  )


def run(
  out_dir: str,
  *,
  quick: bool = False,
  seeds: Sequence[int] = (0, 1),
  epsilons: Sequence[float] = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3),
  alpha: float = 1.0,
  num_steps: int = 10,
  dataset: str = "digits",
  model: str = "small_cnn",
  epochs: int = 30,
  milestones: Sequence[int] = (20, 26),
  batch_size: int = 64,
  learning_rate: float = 0.05,
  augment: str = "none",
) -> dict[str, Any]:
  """Trains ERM / mixup models (and black-box ERM sources), attacks them, writes tables."""
  if quick:
    seeds, epsilons, epochs, milestones, num_steps = (0,), (0.0, 0.1, 0.3), 2, (), 3
  recipe = dict(
    dataset=dataset,
    model=model,
    num_epochs=epochs,
    batch_size=batch_size,
    lr_milestones=tuple(milestones),
    learning_rate=learning_rate,
    augment=augment,
  )
  methods = {"ERM": {"mix": "none"}, f"mixup (α={alpha:g})": {"mix": "mixup", "mixup_alpha": alpha}}
  progress = common.Progress("adversarial", len(seeds) * 3)
  results: list[dict[str, Any]] = []
  for seed in seeds:
    trained = {}
    for label, overrides in [*methods.items(), ("black-box source (ERM)", {"mix": "none"})]:
      run_seed = seed if "source" not in label else 1000 + seed
      progress.start_run(f"train {label} seed={run_seed}")
      config = runs.base_config(seed=run_seed, **recipe, **overrides)
      name = f"{label.split(' ')[0]}_{'source' if 'source' in label else 'target'}_seed{run_seed}"
      summary, _, state = runs.train_once(
        config, os.path.join(out_dir, "runs", name), need_state=True
      )
      trained[label] = state
      progress.note(f"clean test error {100 * (1 - summary['last_test_accuracy']):.2f}%")
    source = loop.load_source(runs.base_config(seed=seed, **recipe))
    x, y = raw_test_set(source)
    lo, hi = float(x.min()), float(x.max())
    models = {label: pixel_model(trained[label], source.mean, source.std) for label in trained}
    src_fn, src_vars = models["black-box source (ERM)"]
    for kind in ATTACKS:
      for eps in epsilons:
        epsilon = float(eps) * (hi - lo)
        crafted = _adversarial(src_fn, src_vars, x, y, epsilon, lo, hi, kind, num_steps)
        for label in methods:
          apply_fn, variables = models[label]
          white = _adversarial(apply_fn, variables, x, y, epsilon, lo, hi, kind, num_steps)
          results.append(
            {
              "seed": seed,
              "method": label,
              "attack": kind,
              "epsilon": float(eps),
              "white_box_error": _error(apply_fn, variables, white, y),
              "black_box_error": _error(apply_fn, variables, crafted, y),
            }
          )
  table = results_table(results, list(methods), epsilons)
  _plot(os.path.join(out_dir, "error_vs_epsilon.png"), results, list(methods), epsilons)
  setup = (
    f"{dataset}, {model}, {epochs} epochs, seeds {list(seeds)}; ε as a fraction of "
    f"the pixel range; I-FGSM: {num_steps} steps of ε/4"
  )
  markdown = (
    f"# Adversarial robustness\n\n{setup}\n\nTop-1 test error (%), mean ± std over "
    f"seeds.\n\n{table}\n\n![error vs epsilon](error_vs_epsilon.png)\n"
  )
  common.write_results(out_dir, {"setup": setup, "results": results}, markdown)
  print(table, flush=True)
  return {"results": results, "table": table}


def results_table(results, method_names, epsilons) -> str:
  headers = ["attack", "box", "method"] + [f"ε={e:g}" for e in epsilons]
  rows = []
  for kind in ATTACKS:
    for box in ("white", "black"):
      for method in method_names:
        row = [kind, box, method]
        for eps in epsilons:
          sel = [
            r[f"{box}_box_error"]
            for r in results
            if r["method"] == method and r["attack"] == kind and r["epsilon"] == float(eps)
          ]
          row.append(common.format_mean_std(sel, 1, scale=100))
        rows.append(row)
  return common.markdown_table(headers, rows)


def _plot(path, results, method_names, epsilons) -> None:
  plt = common.pyplot()
  fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
  panels = [(k, b) for k in ATTACKS for b in ("white", "black")]
  for ax, (kind, box) in zip(axes, panels, strict=True):
    for method in method_names:
      means = [
        100
        * np.mean(
          [
            r[f"{box}_box_error"]
            for r in results
            if r["method"] == method and r["attack"] == kind and r["epsilon"] == float(e)
          ]
        )
        for e in epsilons
      ]
      ax.plot(epsilons, means, marker="o", label=method)
    ax.set(title=f"{kind}, {box}-box", xlabel="ε (fraction of pixel range)", ylabel="top-1 error %")
    ax.grid(alpha=0.3)
  axes[0].legend()
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def add_arguments(parser: argparse.ArgumentParser) -> None:
  parser.add_argument("--epsilons", type=runs.floats, help="e.g. 0,0.05,0.1 (fraction of range)")
  parser.add_argument("--alpha", type=float, help="mixup α of the mixup model")
  parser.add_argument("--num_steps", type=int, help="I-FGSM steps")
  runs.add_recipe_arguments(parser)
