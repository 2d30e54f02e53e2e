"""Deprecated alias of `mixjax.data.image_folder` (kept for one release)."""

from mixjax import _moved

_moved.alias(__name__, "mixjax.data.image_folder")
