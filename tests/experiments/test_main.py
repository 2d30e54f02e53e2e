"""The command line, `python -m mixjax.experiments NAME ...`."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from mixjax import experiments
from mixjax.experiments import __main__ as cli
from mixjax.experiments import gan

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _python_m(*args, cwd):
  env = dict(os.environ, PYTHONPATH=os.pathsep.join([_ROOT, os.environ.get("PYTHONPATH", "")]))
  return subprocess.run(
    [sys.executable, "-m", "mixjax.experiments", *args],
    capture_output=True,
    text=True,
    cwd=cwd,
    env=env,
    timeout=300,
  )


@pytest.fixture
def fake_gan_run(monkeypatch):
  received = {}

  def fake_run(out_dir, *, quick, **options):
    received.update(out_dir=out_dir, quick=quick, **options)
    return {}

  monkeypatch.setattr(gan, "run", fake_run)
  return received


def test_cli_passes_experiment_options(tmp_path, fake_gan_run, capsys):
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
      "--latent_dims",
      "2,10",
      "--mix_mode",
      "elem",
    ]
  )
  assert fake_gan_run == {
    "out_dir": str(tmp_path),
    "quick": True,
    "seeds": [1, 2],
    "steps": 50,
    "latent_dims": (2, 10),
    "mix_mode": "elem",
  }
  assert "deprecated" not in capsys.readouterr().err
  with pytest.raises(SystemExit):
    cli.main(["gan", "--out", str(tmp_path), "--no-such-option", "1"])


def test_old_dashed_spellings_still_work_with_a_warning(tmp_path, fake_gan_run, capsys):
  cli.main(["gan", "--out", str(tmp_path), "--latent-dims", "2", "--disc-steps", "3"])
  assert (fake_gan_run["latent_dims"], fake_gan_run["disc_steps"]) == ((2,), 3)
  err = capsys.readouterr().err
  assert "--latent-dims is deprecated; use --latent_dims" in err
  assert "--disc-steps is deprecated; use --disc_steps" in err


def test_speech_data_dir_old_spelling(capsys):
  parser = cli._full_parser("speech", experiments.load("speech"))
  args = vars(parser.parse_args(["speech", "--out", "o", "--data-dir", "/data"]))
  assert args["data_dir"] == "/data"
  assert "--data-dir is deprecated; use --data_dir" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(experiments.REGISTRY))
def test_help_lists_snake_case_options_only(name):
  help_text = cli._full_parser(name, experiments.load(name)).format_help()
  options = set(re.findall(r"(?<![\w-])--[\w-]+", help_text))
  assert {"--out", "--quick", "--seeds"} <= options
  assert all("-" not in option[2:] for option in options), sorted(options)


def test_cli_unknown_name_fails_clearly():
  proc = _python_m("nope", "--out", "/tmp/x", cwd=_ROOT)
  assert proc.returncode == 2
  assert "invalid choice: 'nope'" in proc.stderr and "gan" in proc.stderr


def test_speech_runs_outside_the_checkout(tmp_path):
  # Nothing in the package imports the repository's configs/: any working directory works.
  proc = _python_m("speech", "--help", cwd=tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "--data_dir" in proc.stdout and "--data-dir" not in proc.stdout
