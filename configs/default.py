"""Every key a run understands, at its default: the digits setup.

The keys, their defaults and one comment each live in the package
(`mixjax.training.config.default_config`); the other configs here derive from it.

Run:  python train.py --config configs/default.py --workdir runs/default
"""

from mixjax.training.config import default_config


def get_config():
  return default_config()
