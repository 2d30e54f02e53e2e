"""Deprecated alias of `mixjax.training.models` (kept for one release)."""

from mixjax import _moved

_moved.alias(__name__, "mixjax.training.models")
