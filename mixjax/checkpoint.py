"""Deprecated alias of `mixjax.training.checkpoint` (kept for one release)."""

from mixjax import _moved

_moved.alias(__name__, "mixjax.training.checkpoint")
