"""Every shipped config validates and loads from anywhere; unknown, missing and bad keys fail."""

from __future__ import annotations

import ast
import glob
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mixjax.training import config as config_lib
from mixjax.training import models
from tests.training import helpers

CONFIGS = sorted(
  os.path.basename(p)[:-3]
  for p in glob.glob(os.path.join(helpers.CONFIGS, "*.py"))
  if not p.endswith("__init__.py")
)


def _docstring(path):
  with open(path) as f:
    return ast.get_docstring(ast.parse(f.read()))


def _package_only(tmp_path) -> dict[str, str]:
  """An environment whose sys.path holds the `mixjax` package but not the checkout."""
  site = tmp_path / "site"
  site.mkdir()
  (site / "mixjax").symlink_to(os.path.dirname(os.path.dirname(config_lib.__file__)))
  return {**os.environ, "PYTHONPATH": str(site)}


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_config_is_valid_and_documented(name):
  config_lib.validate(helpers.load_config(name))
  doc = _docstring(helpers.config_path(name))
  assert "python train.py" in doc or "python -m" in doc


def test_shipped_configs_load_outside_the_checkout(tmp_path):
  """From another directory, with only the package importable (as when installed)."""
  names = list(CONFIGS)
  code = (
    "import sys\n"
    "from mixjax.training import config\n"
    f"for name in {names!r}:\n"
    f"  c = config.load_config_file({helpers.CONFIGS!r} + '/' + name + '.py')\n"
    "  config.validate(c)\n"
    "  print(name, c.dataset, c.model)\n"
    "assert 'configs' not in sys.modules\n"
  )
  env = _package_only(tmp_path)
  result = subprocess.run(
    [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
  )
  assert result.returncode == 0, result.stderr
  assert "cifar100 cifar100 preact_resnet18" in result.stdout
  assert "cifar10_wrn28_10 cifar10 wrn28_10" in result.stdout
  # The --config flag of an entry point, run as a module from elsewhere: the config loads
  # (and is validated: num_epochs=0 is refused by name).
  command = [sys.executable, "-m", "mixjax.training.compare", "--workdir", str(tmp_path / "w")]
  command += [f"--config={helpers.config_path('cifar100')}", "--config.num_epochs=0"]
  result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
  assert "config.num_epochs must be a positive int, got 0" in result.stderr, result.stderr
  assert not (tmp_path / "w").exists()


def test_derived_configs_change_only_their_own_keys():
  cifar10 = helpers.load_config("cifar10")
  differ = {
    name: sorted(k for k in cifar10 if helpers.load_config(name)[k] != cifar10[k])
    for name in ("cifar100", "cifar10_wrn28_10")
  }
  assert differ == {"cifar100": ["dataset"], "cifar10_wrn28_10": ["model"]}


def test_a_missing_config_file_is_named(tmp_path):
  with pytest.raises(FileNotFoundError, match="nope.py"):
    config_lib.load_config_file(str(tmp_path / "nope.py"))


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
    ("data_seed", -2),
    ("lr_milestones", (2, 2)),
    ("lr_milestones", (True,)),
  ],
)
def test_bad_values_name_the_key(key, value):
  config = config_lib.default_config()
  config[key] = value
  with pytest.raises(ValueError, match=f"config.{key}"):
    config_lib.validate(config)


@pytest.mark.parametrize("key", ["mixup_alpha", "cutmix_alpha", "learning_rate", "weight_decay"])
@pytest.mark.parametrize("value", [1e39, -1e39, float("inf"), float("nan")])
def test_numbers_must_be_finite_in_float32(key, value):
  config = config_lib.default_config()
  config[key] = value
  with pytest.raises(config_lib.ConfigError, match=f"config.{key} must be a number >= 0, finite"):
    config_lib.validate(config)
  config[key] = 3.0e38  # Still a float32.
  config_lib.validate(config)


@pytest.mark.parametrize("key", ["label_smoothing", "lr_decay", "momentum", "test_fraction"])
def test_other_floats_must_be_finite(key):
  config = config_lib.default_config()
  config[key] = float("nan")
  with pytest.raises(config_lib.ConfigError, match=f"config.{key} must be a finite number"):
    config_lib.validate(config)


def test_names_and_dataset_only_options_are_checked_with_the_key():
  def error(**overrides):
    config = config_lib.default_config()
    config.update(overrides)
    with pytest.raises(config_lib.ConfigError) as caught:
      config_lib.validate(config)
    return caught.value

  assert str(error(model="foo")).startswith("config.model must be one of ['cnn1d', 'mlp', ")
  assert error(model="foo").key == "model"
  assert str(error(image_size=64)) == (
    "config.image_size must be 0 unless config.dataset='folder', got 64."
  )
  assert "config.data_dir must be the path of the npz data" in str(error(dataset="npz"))
  assert "config.checkpoint_every_steps must be an int >= 0" in str(
    error(checkpoint_every_steps=-1)
  )
  assert str(error(mixup_alfa=0.2)) == (
    "config.mixup_alfa is not a config key (see mixjax.training.config.default_config); "
    "did you mean config.mixup_alpha, config.cutmix_alpha?"
  )


def test_the_model_must_fit_the_inputs():
  config = config_lib.default_config()
  config_lib.check_model_input(config, (8, 8, 1))
  config.dataset = "iris"
  with pytest.raises(
    config_lib.ConfigError,
    match="use --config.model=cnn1d or --config.model=mlp or --config.model=mnist1d_cnn.$",
  ) as caught:
    config_lib.check_model_input(config, (4,))
  assert str(caught.value).startswith("config.model='small_cnn' takes examples of rank 3")
  assert "dataset 'iris' has inputs of shape (4,)" in str(caught.value)
  config.model = "mlp"
  config_lib.check_model_input(config, (4,))


def test_the_data_seed_follows_seed_unless_set():
  config = config_lib.default_config()
  config.seed = 7
  assert config_lib.data_seed(config) == 7
  config.data_seed = 0
  config_lib.validate(config)
  assert config_lib.data_seed(config) == 0


def test_half_precision_must_be_a_bool():
  config = config_lib.default_config()
  with config.ignore_type():
    config.half_precision = "yes"
  with pytest.raises(config_lib.ConfigError, match="config.half_precision must be True or False"):
    config_lib.validate(config)


@pytest.mark.parametrize(
  ("model", "fits", "too_small"),
  [("small_cnn", (2, 2, 3), (1, 4, 3)), ("mnist1d_cnn", (3,), (2, 5)), ("cnn1d", (1,), None)],
)
def test_inputs_too_small_for_the_model_are_refused(model, fits, too_small):
  # Below these sizes the model's feature map is empty: its logits were NaN (SmallCNN's
  # pooling) or the bias alone (MNIST1DCNN), reported later as a diverged run.
  config = config_lib.default_config()
  config.model, config.dataset = model, "folder"
  config_lib.check_model_input(config, fits)
  model_def = models.create_model(model, num_classes=3)
  logits, _ = model_def.init_with_output(jax.random.key(0), jnp.ones((2, *fits)), train=False)
  assert np.isfinite(np.asarray(logits)).all()
  if too_small is not None:
    with pytest.raises(config_lib.ConfigError, match=r"takes inputs of at least \d along each"):
      config_lib.check_model_input(config, too_small)
