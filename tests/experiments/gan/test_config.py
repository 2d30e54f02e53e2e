"""The gan experiment's settings."""

from __future__ import annotations

import pytest

from mixjax.experiments.gan import config


def test_make_config_rejects_bad_options():
  with pytest.raises(TypeError, match="Unknown gan option"):
    config.make_config(quick=True, stepz=3)
  with pytest.raises(ValueError, match="`datasets`"):
    config.make_config(quick=True, datasets=("spiral",))
  with pytest.raises(ValueError, match="`steps` must be a positive int, got 0"):
    config.make_config(quick=True, steps=0)
  with pytest.raises(ValueError, match="`hidden` must be a positive int, got True"):
    config.make_config(quick=True, hidden=True)
  with pytest.raises(ValueError, match="`alpha` must be finite and >= 0"):
    config.make_config(quick=True, alpha=-1.0)
  with pytest.raises(ValueError, match="`methods`"):
    config.make_config(quick=True, methods=("wgan",))
  assert config.make_config(quick=False, seeds="0-4").seeds == (0, 1, 2, 3, 4)


def test_quick_overrides_then_options():
  quick = config.make_config(quick=True, steps=7, latent_dims=[3])
  assert (quick.steps, quick.latent_dims, quick.hidden) == (7, (3,), config.QUICK["hidden"])
  assert config.method_alpha("plain", quick) == 0.0
  assert config.method_alpha("mixup", quick) == quick.alpha == 0.2
  assert config.method_label("mixup", quick) == "mixup GAN α=0.2"
