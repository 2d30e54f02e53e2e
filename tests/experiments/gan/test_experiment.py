"""The gan experiment end to end, in its --quick form."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

from mixjax.experiments import common
from mixjax.experiments import gan
from mixjax.experiments.gan import experiment
from mixjax.experiments.gan import metrics
from tests.experiments import outputs


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
  # results.json holds what run() returned.
  assert [r["final"] for r in on_disk["runs"]] == [r["final"] for r in results["runs"]]
  assert on_disk["summary"] == json.loads(json.dumps(results["summary"]))


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
    # The final metrics are the last evaluation's, and agree with their mode counts.
    final = dict(run["final"])
    counts = np.asarray(final.pop("counts"))
    assert run["curve"][-1] == {"step": config.steps, **final}
    assert final["modes"] == int((counts >= config.min_mode_samples).sum())
    assert final["high_quality"] == pytest.approx(counts.sum() / config.num_samples)
    assert [c["step"] for c in run["curve"]] == gan.eval_points(config.steps, config.num_evals)
  # Sanity: after the quick training both generators have found ring modes.
  ring = [r for r in runs if r["dataset"] == "ring"]
  assert {r["method"] for r in ring} == {"plain", "mixup"}
  assert min(r["final"]["modes"] for r in ring) >= 1, [r["final"] for r in ring]


def test_quick_run_table_shows_the_runs(quick_run):
  _, results = quick_run
  config, runs = results["config"], results["runs"]
  rows = outputs.table_rows(results["table"])
  assert len(rows) == 1 + len(results["summary"])
  for row, summary in zip(rows[1:], results["summary"], strict=True):
    (run,) = metrics.select(
      runs, dataset=summary["dataset"], method=summary["method"], latent_dim=2, seed=0
    )
    late = np.mean([c["modes"] for c in run["curve"] if c["step"] >= 0.75 * config.steps])
    assert summary["late_modes"] == [late]
    label = "GAN" if run["method"] == "plain" else "mixup GAN (α=0.2)"
    assert row == [
      run["dataset"],
      "2",
      label,
      f"{common.format_mean_std([run['final']['modes']], 1)} / {run['num_modes']}",
      f"{common.format_mean_std([late], 1)} / {run['num_modes']}",
      common.format_mean_std([run["final"]["high_quality"]], 1, scale=100),
      common.format_mean_std([run["final"]["mode_kl"]], 2),
    ]


def test_package_keeps_the_old_names():
  # `mixjax.experiments.gan` was one module: its public names are still there.
  assert gan.run is experiment.run and gan.mode_metrics is metrics.mode_metrics
  for name in gan.__all__:
    assert getattr(gan, name) is not None
