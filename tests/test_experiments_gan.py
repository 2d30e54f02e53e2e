"""Tests for the experiments framework (registry, CLI, common helpers) and the gan experiment."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mixjax import experiments
from mixjax.experiments import __main__ as cli
from mixjax.experiments import common
from mixjax.experiments import gan

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
  out = tmp_path_factory.mktemp("gan")
  return out, gan.run(str(out), quick=True)


def test_quick_run_writes_files(quick_run):
  out, results = quick_run
  for name in ("results.json", "results.md", "samples.png", "snapshots.png", "modes_vs_step.png"):
    min_size = 5000 if name.endswith(".png") else 100
    assert (out / name).stat().st_size > min_size, name
  on_disk = json.loads((out / "results.json").read_text())
  assert on_disk["experiment"] == "gan" and on_disk["quick"] is True
  assert on_disk["environment"]["jax"] == jax.__version__
  markdown = (out / "results.md").read_text()
  assert results["table"] in markdown and "mixup GAN (α=0.2)" in markdown


def test_quick_run_metrics_in_range(quick_run):
  _, results = quick_run
  runs = results["runs"]
  config = results["config"]
  assert len(runs) == len(config.datasets) * len(config.methods) * len(config.seeds)
  for run in runs:
    for point in run["curve"] + [run["final"]]:
      assert 0 <= point["modes"] <= run["num_modes"]
      assert 0.0 <= point["high_quality"] <= 1.0
      assert 0.0 <= point["mode_kl"] <= np.log(run["num_modes"]) + 1e-9
    assert run["curve"][-1]["step"] == config.steps
  # Sanity: after the quick training both generators have found ring modes.
  ring = [r for r in runs if r["dataset"] == "ring"]
  assert {r["method"] for r in ring} == {"plain", "mixup"}
  assert min(r["final"]["modes"] for r in ring) >= 1, [r["final"] for r in ring]


def test_datasets():
  ring, grid = gan.ring(), gan.grid()
  assert ring.modes.shape == (8, 2) and grid.modes.shape == (25, 2)
  np.testing.assert_allclose(np.linalg.norm(ring.modes, axis=1), 2.0, rtol=1e-6)
  assert sorted(set(grid.modes[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
  assert (ring.std, grid.std) == (0.02, 0.05)
  samples = np.asarray(
    gan.sample_data(jax.random.key(0), *gan.padded_modes(ring), jnp.float32(ring.std), 4000)
  )
  metrics = gan.mode_metrics(samples, ring, 20)
  assert metrics["modes"] == 8 and metrics["high_quality"] > 0.98 and metrics["mode_kl"] < 0.01


def test_mode_metrics_on_known_samples():
  ring = gan.ring()
  collapsed = np.repeat(ring.modes[:1], 100, axis=0)
  metrics = gan.mode_metrics(collapsed, ring, 20)
  assert metrics == {
    "modes": 1,
    "high_quality": 1.0,
    "mode_kl": pytest.approx(np.log(8)),
    "counts": [100] + [0] * 7,
  }
  # 19 samples on a mode do not cover it; far-away samples are not high quality.
  samples = np.concatenate([np.repeat(ring.modes[:1], 19, axis=0), np.full((10, 2), 50.0)])
  metrics = gan.mode_metrics(samples, ring, 20)
  assert metrics["modes"] == 0 and metrics["high_quality"] == pytest.approx(19 / 29)


def test_zero_alpha_is_the_plain_gan_loss():
  config = gan.make_config(quick=True)
  nets = gan.make_networks(config, 2)
  state = jax.jit(functools.partial(gan.init_state, nets=nets))(jax.random.key(0))
  data = (*gan.padded_modes(gan.ring()), jnp.float32(0.02))
  key = jax.random.key(1)
  loss = jax.jit(functools.partial(gan.discriminator_loss, nets=nets))
  mixed = loss(state.disc, state.gen, key, jnp.float32(0.0), data)

  @jax.jit
  def plain_loss(state, key, data):
    # The plain GAN's loss, written out: real examples against 1, fakes against 0.
    key_real, key_fake, _ = jax.random.split(key, 3)
    real = gan.sample_data(key_real, *data, nets.batch_size)
    fake = gan.generate(state.gen, key_fake, nets.batch_size, nets)
    logits = nets.discriminator.apply(state.disc, jnp.concatenate([real, fake]))[:, 0]
    half = nets.batch_size
    return jnp.mean(
      jnp.concatenate([jax.nn.softplus(-logits[:half]), jax.nn.softplus(logits[half:])])
    )

  np.testing.assert_allclose(float(mixed), float(plain_loss(state, key, data)), rtol=1e-5)
  assert float(loss(state.disc, state.gen, key, jnp.float32(0.2), data)) != float(mixed)


def test_make_config_rejects_bad_options():
  with pytest.raises(TypeError, match="Unknown gan option"):
    gan.make_config(quick=True, stepz=3)
  with pytest.raises(ValueError, match="`datasets`"):
    gan.make_config(quick=True, datasets=("spiral",))
  with pytest.raises(ValueError, match="`steps` must be a positive int, got 0"):
    gan.make_config(quick=True, steps=0)
  assert gan.make_config(quick=False, seeds="0-4").seeds == (0, 1, 2, 3, 4)


def test_common_helpers(capsys):
  assert common.parse_seeds("0,1,2") == [0, 1, 2]
  assert common.parse_seeds("3-5") == [3, 4, 5]
  assert common.parse_seeds(7) == [7]
  with pytest.raises(ValueError, match="`seeds`"):
    common.parse_seeds("a,b")
  with pytest.raises(ValueError, match="`seeds`"):
    common.parse_seeds("1,1")
  assert common.format_mean_std([1.0, 3.0]) == "2.00 ± 1.00"
  assert common.format_mean_std([0.5], 1, scale=100) == "50.0"
  table = common.markdown_table(["a", "bb"], [[1, "x"], [22, "yyy"]])
  assert table.splitlines() == ["| a  | bb  |", "| -- | --- |", "| 1  | x   |", "| 22 | yyy |"]
  progress = common.Progress("demo", 5)
  progress.start_run("first")
  progress.start_run("next three", count=3)
  lines = capsys.readouterr().out.splitlines()
  assert lines[0].startswith("[1/5 0:00] demo: first") and lines[1].startswith("[2-4/5")


def test_registry_is_lazy_and_reports_missing_modules(monkeypatch, capsys):
  assert {"gan", "figures", "corrupted_labels", "adversarial", "tabular", "speech"} <= set(
    experiments.REGISTRY
  )
  assert {"gan", "figures"} <= set(experiments.available())
  monkeypatch.setitem(experiments.REGISTRY, "missing", "mixjax.experiments.not_written_yet")
  with pytest.raises(experiments.ExperimentNotAvailable, match="not available yet"):
    experiments.load("missing")
  with pytest.raises(KeyError, match="Unknown experiment 'nope'"):
    experiments.load("nope")
  with pytest.raises(SystemExit) as exit_info:
    cli.main(["missing", "--out", "/tmp/unused"])
  assert exit_info.value.code == 2
  assert "not available yet" in capsys.readouterr().err


def test_cli_passes_experiment_options(tmp_path, monkeypatch):
  received = {}

  def fake_run(out_dir, *, quick, **options):
    received.update(out_dir=out_dir, quick=quick, **options)
    return {}

  monkeypatch.setattr(gan, "run", fake_run)
  cli.main(
    [
      "gan",
      "--out",
      str(tmp_path),
      "--quick",
      "--seeds",
      "1,2",
      "--steps",
      "50",
      "--latent-dims",
      "2,10",
      "--mix-mode",
      "elem",
    ]
  )
  assert received == {
    "out_dir": str(tmp_path),
    "quick": True,
    "seeds": [1, 2],
    "steps": 50,
    "latent_dims": (2, 10),
    "mix_mode": "elem",
  }
  with pytest.raises(SystemExit):
    cli.main(["gan", "--out", str(tmp_path), "--no-such-option", "1"])


def test_cli_unknown_name_fails_clearly():
  proc = subprocess.run(
    [sys.executable, "-m", "mixjax.experiments", "nope", "--out", "/tmp/x"],
    capture_output=True,
    text=True,
    cwd=_ROOT,
    timeout=120,
  )
  assert proc.returncode == 2
  assert "invalid choice: 'nope'" in proc.stderr and "gan" in proc.stderr
