"""The three figures, drawn from made-up runs (no training)."""

from __future__ import annotations

import numpy as np
import pytest

from mixjax.experiments.gan import config
from mixjax.experiments.gan import data
from mixjax.experiments.gan import plots
from mixjax.experiments.gan import trainer


@pytest.fixture(scope="module")
def made_up():
  settings = config.make_config(quick=True, steps=100, latent_dims=(2, 5), seeds=(0, 1))
  rng = np.random.default_rng(0)
  runs = []
  for dataset in settings.datasets:
    modes = data.DATASETS[dataset]().modes
    for method in settings.methods:
      for latent_dim in settings.latent_dims:
        for seed in settings.seeds:
          curve = [{"step": s, "modes": int(rng.integers(len(modes)))} for s in (10, 50, 100)]
          snapshots = {
            s: modes[rng.integers(len(modes), size=50)] for s in trainer.snapshot_points(100)
          }
          final = {"modes": curve[-1]["modes"], "high_quality": 0.5}
          keys = dict(dataset=dataset, method=method, latent_dim=latent_dim, seed=seed)
          runs.append(
            {
              **keys,
              "num_modes": len(modes),
              "curve": curve,
              "snapshots": snapshots,
              "final": final,
            }
          )
  return settings, runs


def _image(path):
  from matplotlib.image import imread

  image = imread(str(path))[..., :3]
  assert image.std() > 0.05  # Not blank.
  return image


def test_samples_grid_has_a_panel_per_run(made_up, tmp_path):
  settings, runs = made_up
  plots.plot_samples(str(tmp_path / "samples.png"), settings, runs)
  # Rows: dataset x method (4); columns: z x seed (4); 1.7 x 1.8 inches a panel at 110 dpi.
  height, width = _image(tmp_path / "samples.png").shape[:2]
  assert (height, width) == (round(1.8 * 4 * 110), round((1.7 * 4 + 0.6) * 110))


def test_snapshots_have_a_column_per_snapshot_step(made_up, tmp_path):
  settings, runs = made_up
  plots.plot_snapshots(str(tmp_path / "snapshots.png"), settings, runs)
  height, width = _image(tmp_path / "snapshots.png").shape[:2]
  assert (height, width) == (round(1.8 * 4 * 110), round((1.7 * 2 + 0.6) * 110))


def test_curves_have_a_panel_per_dataset(made_up, tmp_path):
  settings, runs = made_up
  plots.plot_curves(str(tmp_path / "curves.png"), settings, runs)
  height, width = _image(tmp_path / "curves.png").shape[:2]
  assert (height, width) == (round(3.2 * 110), round(4.5 * 2 * 110))


def test_a_missing_run_is_an_error(made_up, tmp_path):
  settings, runs = made_up
  with pytest.raises(KeyError):
    plots.plot_samples(str(tmp_path / "samples.png"), settings, runs[1:])
