"""TensorFlow for the host-side input pipelines: kept off the accelerators, deterministic.

Every module of `mixjax.data` that runs tf.data imports this one, so that TensorFlow
never claims a GPU that JAX uses, and takes its tf.data options from here.
"""

from __future__ import annotations

import tensorflow as tf

# tf.data runs on the host only; keep TensorFlow off any accelerator that JAX uses.
try:
  tf.config.set_visible_devices([], "GPU")
except RuntimeError:  # TensorFlow was already initialised by the caller.
  pass


def deterministic_options() -> tf.data.Options:
  """tf.data options under which parallel maps keep the order of their elements."""
  options = tf.data.Options()
  options.deterministic = True
  return options
