"""Tests for examples/segmentation.py: dense-label CutMix and a short training run."""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

import mixjax

pytest.importorskip("flax")
pytest.importorskip("optax")

_PATH = pathlib.Path(__file__).parents[2] / "examples" / "segmentation.py"


def _load():
  spec = importlib.util.spec_from_file_location("segmentation_example", _PATH)
  module = importlib.util.module_from_spec(spec)
  sys.modules[spec.name] = module  # Flax's dataclasses look their module up.
  spec.loader.exec_module(module)
  return module


seg = _load()


def test_pasted_label_maps_name_the_pasted_pixels_classes():
  images, maps = seg.synthetic_batch(jax.random.key(0), 16, 12)
  np.testing.assert_array_equal(seg.classes_of_pixels(images), maps)
  assert set(np.unique(maps).tolist()) == {0, 1, 2}
  mixed, mixed_maps = mixjax.cutmix(jax.random.key(1), images, maps, mode="elem")
  np.testing.assert_array_equal(seg.classes_of_pixels(mixed), mixed_maps)
  assert np.mean(np.asarray(mixed_maps) != np.asarray(maps)) > 0.05  # Pasting changed maps.


def test_training_lowers_the_loss_and_segments():
  losses, accuracy = seg.train(steps=40, batch_size=16, size=12)
  assert losses[-5:].mean() < 0.7 * losses[:5].mean()
  assert accuracy > 0.8  # The background alone is ~70% of the pixels.


def test_runs_as_a_script():
  out = subprocess.run(
    [sys.executable, str(_PATH), "--steps=5", "--batch_size=4", "--image_size=8"],
    capture_output=True,
    text=True,
    timeout=300,
    check=True,
  )
  assert "pixel accuracy on fresh images" in out.stdout
