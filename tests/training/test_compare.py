"""Several mixing settings side by side: labels, settings, the table, a tiny end-to-end run."""

from __future__ import annotations

import json

import pytest

from mixjax.training import compare
from mixjax.training import config as config_lib
from tests.training import helpers

SUMMARY = {
  "best_test_accuracy": 0.9712,
  "last_test_accuracy": 0.9655,
  "median_last10_test_error": 0.0401,
  "images_per_sec": 12345.6,
  "wall_seconds": 61.04,
}


def test_method_labels_name_the_mixup_alpha_where_it_applies():
  config = config_lib.default_config()
  config.mixup_alpha = 0.4
  labels = {}
  for mix in config_lib.CHOICES["mix"]:
    config.mix = mix
    labels[mix] = compare.method_label(config)
  assert labels == {
    "none": "ERM",
    "mixup": "mixup (α=0.4)",
    "cutmix": "CutMix",
    "mixup_or_cutmix": "mixup|CutMix (α=0.4)",
    "manifold_mixup": "manifold mixup (α=0.4)",
  }


def test_settings_are_copies_that_differ_only_in_mix():
  config = helpers.load_config("digits")
  settings = compare.settings(config, ["none", "cutmix"])
  assert [label for label, _ in settings] == ["ERM", "CutMix"]
  assert [c.mix for _, c in settings] == ["none", "cutmix"]
  assert config.mix == "mixup"  # The original is untouched.
  for _, setting in settings:
    assert {k for k in config if setting[k] != config[k]} == {"mix"}


def test_a_bad_setting_is_refused_before_any_trains(tmp_path):
  config = helpers.load_config("digits")
  with pytest.raises(config_lib.ConfigError, match="config.mix must be one of .*got 'mixpu'"):
    compare.compare_mixes(config, str(tmp_path / "w"), ["none", "mixpu"])
  assert not (tmp_path / "w").exists()  # ERM did not train first.


def test_seeds_that_are_not_ints_are_refused_naming_the_flag():
  assert compare.parse_seeds(["0", "1"]) == [0, 1]
  with pytest.raises(config_lib.ConfigError, match=r"--seeds must be .* got '0,x'\."):
    compare.parse_seeds(["0", "x"])


def test_table_has_a_row_per_setting():
  table = compare.format_table([("ERM", SUMMARY), ("mixup (α=0.4)", dict(SUMMARY, wall_seconds=3))])
  lines = table.splitlines()
  assert lines[0] == (
    "| method | best test acc | last test acc | median last-10 error | images/sec | wall s |"
  )
  assert lines[1] == "|---|---:|---:|---:|---:|---:|"
  assert lines[2] == "| ERM | 97.12% | 96.55% | 4.01% | 12,346 | 61.0 |"
  assert lines[3].startswith("| mixup (α=0.4) | 97.12%") and lines[3].endswith("| 3.0 |")
  assert len(lines) == 4


def test_tiny_comparison_trains_each_setting_in_its_own_workdir(tmp_path, capsys):
  config = helpers.load_config(
    "digits", model="mlp", num_epochs=1, lr_milestones=(), batch_size=128
  )
  rows = compare.compare_mixes(config, str(tmp_path), ["none", "mixup"])
  assert [label for label, _ in rows] == ["ERM", "mixup (α=0.4)"]
  for (_, summary), mix in zip(rows, ("none", "mixup"), strict=True):
    with open(tmp_path / mix / "summary.json") as f:
      assert json.load(f) == pytest.approx(summary)
    with open(tmp_path / mix / "config.json") as f:
      assert json.load(f)["mix"] == mix
    assert summary["mix"] == mix and summary["epochs"] == 1
  table = (tmp_path / "comparison.md").read_text()
  assert table == compare.format_table(rows) + "\n"
  out = capsys.readouterr().out
  assert "--- ERM: digits, mlp" in out and "--- mixup (α=0.4): digits, mlp" in out
  assert table.strip() in out


def test_seed_table_gives_mean_and_std_over_seeds():
  runs = [
    dict(SUMMARY, best_test_accuracy=0.90, last_test_accuracy=0.88, test_ece=0.02, test_nll=0.3),
    dict(SUMMARY, best_test_accuracy=0.94, last_test_accuracy=0.92, test_ece=0.04, test_nll=0.5),
  ]
  runs[1]["wall_seconds"] = 41.04  # The column is the mean per run: 51.0.
  lines = compare.format_seed_table([("ERM", runs)]).splitlines()
  assert lines[0] == (
    "| method | seeds | best test acc | last test acc | test ECE | test NLL | wall s / run |"
  )
  assert lines[2] == (
    "| ERM | 2 | 92.00 ± 2.00% | 90.00 ± 2.00% | 0.030 ± 0.010 | 0.400 ± 0.100 | 51.0 |"
  )


def test_published_baselines_are_the_mnist1d_readme_table():
  table = compare.format_published("mnist1d")
  assert table.splitlines()[-1] == "| mnist1d | 32% | 68% | 94% | 91% | 96% |"
  assert "| 56% | 57% |" in compare.format_published("mnist1d_shuffle")
  assert compare.format_published("digits") == ""


def test_tiny_seed_comparison_trains_each_seed_in_its_own_workdir(tmp_path, capsys):
  config = helpers.load_config(
    "mnist1d", num_epochs=1, lr_milestones=(), batch_size=400, checkpoint_every_epochs=1
  )
  rows = compare.compare_seeds(config, str(tmp_path), ["none"], [0, 1])
  assert [(label, len(runs)) for label, runs in rows] == [("ERM", 2)]
  for seed in (0, 1):
    with open(tmp_path / "none" / f"seed{seed}" / "config.json") as f:
      saved = json.load(f)
    assert (saved["mix"], saved["seed"]) == ("none", seed)
  erm = rows[0][1]
  assert erm[0]["last_test_accuracy"] != erm[1]["last_test_accuracy"]  # Seeds differ.
  assert erm[0]["test_nll"] == helpers.read_records(tmp_path / "none" / "seed0")[-1]["test_loss"]
  text = (tmp_path / "comparison.md").read_text()
  assert text.startswith(compare.format_seed_table(rows))
  assert compare.format_published("mnist1d") in text and text.strip() in capsys.readouterr().out
