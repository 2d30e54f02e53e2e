"""Every shipped config validates; unknown, missing and bad keys fail by name."""

from __future__ import annotations

import glob
import importlib
import os

import pytest

from mixjax.training import config as config_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(
  os.path.basename(p)[:-3]
  for p in glob.glob(os.path.join(ROOT, "configs", "*.py"))
  if not p.endswith("__init__.py")
)


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_config_is_valid_and_documented(name):
  module = importlib.import_module(f"configs.{name}")
  config_lib.validate(module.get_config())
  assert "python train.py" in module.__doc__ or "python -m" in module.__doc__


def test_unknown_key_is_refused():
  config = config_lib.default_config()
  config.mixup_alfa = 0.2
  with pytest.raises(ValueError, match="mixup_alfa"):
    config_lib.validate(config)


def test_missing_key_is_refused():
  config = config_lib.default_config()
  del config["mix_mode"]
  with pytest.raises(ValueError, match="mix_mode"):
    config_lib.validate(config)


@pytest.mark.parametrize(
  "key,value",
  [
    ("mix_mode", "pair"),
    ("mix_pairing", "shift"),
    ("label_smoothing", 1.0),
    ("dropout_rate", -0.1),
    ("label_noise", 2.0),
    ("num_epochs", 0),
    ("cv_folds", 1),
    ("mix_off_epochs", 1000),
    ("optimizer", "lamb"),
    ("augment", "autoaugment"),
  ],
)
def test_bad_values_name_the_key(key, value):
  config = config_lib.default_config()
  config[key] = value
  with pytest.raises(ValueError, match=f"config.{key}"):
    config_lib.validate(config)
