"""Deprecated alias of `mixjax.data.tfds_images` (kept for one release)."""

from mixjax import _moved

_moved.alias(__name__, "mixjax.data.tfds_images")
