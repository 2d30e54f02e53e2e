"""Deprecated alias of `mixjax.training.step` and `.parallel` (kept for one release)."""

from mixjax import _moved

_moved.alias(__name__, "mixjax.training.step", "mixjax.training.parallel")
