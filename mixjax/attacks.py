"""Deprecated alias of `mixjax.experiments.adversarial.attacks` (kept for one release)."""

from mixjax import _moved

_moved.alias(__name__, "mixjax.experiments.adversarial.attacks")
