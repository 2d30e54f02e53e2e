"""Mode coverage and sample quality of generated samples, and the summary over seeds.

As in VEEGAN and PacGAN (Lin et al. 2018): a sample is *high quality* if it lies within
3 std of its nearest mode; a mode is *covered* if at least `min_mode_samples`
high-quality samples have it as their nearest mode; `mode_kl` is KL(p̂ ‖ uniform) of the
high-quality samples' modes (0 = all modes equally often, log K = one mode).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mixjax.experiments.gan.config import GanConfig
from mixjax.experiments.gan.config import method_alpha
from mixjax.experiments.gan.data import Dataset


def mode_metrics(samples: np.ndarray, data: Dataset, min_mode_samples: int) -> dict[str, Any]:
  """Mode coverage and sample quality of generated `samples` `[N, 2]`.

  Returns:
    dict with `modes` (covered modes, int in [0, K]), `high_quality` (fraction in [0, 1]),
    `mode_kl` (KL(p̂ ‖ uniform) in [0, log K]; log K when no sample is high quality) and
    `counts` (high-quality samples per mode, int [K]).
  """
  samples = np.asarray(samples, np.float64)
  dist = np.linalg.norm(samples[:, None, :] - data.modes[None, :, :], axis=-1)
  nearest, near = dist.argmin(axis=1), dist.min(axis=1)
  good = np.isfinite(near) & (near <= 3 * data.std)
  num_modes = len(data.modes)
  counts = np.bincount(nearest[good], minlength=num_modes)
  if counts.sum() > 0:
    p = counts / counts.sum()
    kl = float(np.sum(p[p > 0] * np.log(p[p > 0] * num_modes)))
  else:
    kl = math.log(num_modes)
  return {
    "modes": int((counts >= min_mode_samples).sum()),
    "high_quality": float(good.mean()),
    "mode_kl": kl,
    "counts": counts.tolist(),
  }


def late_modes(curve: list[dict[str, Any]], steps: int) -> float:
  """Mean covered modes over the evaluations in the last quarter of training."""
  late = [c["modes"] for c in curve if c["step"] >= 0.75 * steps]
  return float(np.mean(late))


def select(runs: list[dict[str, Any]], **keys: Any) -> list[dict[str, Any]]:
  """The runs whose fields equal `keys`, e.g. `select(runs, dataset="ring", method="plain")`."""
  return [r for r in runs if all(r[k] == v for k, v in keys.items())]


def summarize(config: GanConfig, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
  """One row per (dataset, latent_dim, method): metrics as lists over seeds."""
  rows = []
  for dataset in config.datasets:
    for latent_dim in config.latent_dims:
      for method in config.methods:
        group = select(runs, dataset=dataset, latent_dim=latent_dim, method=method)
        rows.append(
          {
            "dataset": dataset,
            "num_modes": group[0]["num_modes"],
            "latent_dim": latent_dim,
            "method": method,
            "alpha": method_alpha(method, config),
            "seeds": [r["seed"] for r in group],
            "modes": [r["final"]["modes"] for r in group],
            "high_quality": [r["final"]["high_quality"] for r in group],
            "mode_kl": [r["final"]["mode_kl"] for r in group],
            "late_modes": [late_modes(r["curve"], config.steps) for r in group],
          }
        )
  return rows
