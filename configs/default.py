"""Defaults shared by every config; the others derive from `get_config()` here.

Every key is defined and commented in `mixjax/config.py` (`default_config`), so that the
library and its experiments share one schema. This is the digits setup.

Run:  python train.py --config configs/default.py --workdir runs/default
"""

from mixjax.training.config import default_config


def get_config():
  return default_config()
