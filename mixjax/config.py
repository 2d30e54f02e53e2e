"""Deprecated alias of `mixjax.training.config` (kept for one release)."""

from mixjax import _moved

_moved.alias(__name__, "mixjax.training.config")
