"""Deprecated alias of `mixjax._crop_flip` (kept for one release)."""

from mixjax import _moved

_moved.alias(__name__, "mixjax._crop_flip")
