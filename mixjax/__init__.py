"""mixjax: mixup-family data augmentation as pure, key-driven JAX functions.

The ops below need only jax, chex and numpy. Training pieces live in submodules that
need the `train` extra: `mixjax.models`, `mixjax.trainer`, `mixjax.train_step`,
`mixjax.data`, `mixjax.attacks` (optax), `mixjax.experiments`.
"""

from mixjax._apply import apply_mix
from mixjax._apply import self_weight
from mixjax._crop_flip import random_crop
from mixjax._crop_flip import random_crop_flip
from mixjax._crop_flip import random_flip
from mixjax._erasing import apply_erasing
from mixjax._erasing import random_erasing
from mixjax._erasing import sample_erasing_params
from mixjax._gridmask import apply_gridmask
from mixjax._gridmask import gridmask
from mixjax._gridmask import sample_gridmask_params
from mixjax._labels import one_hot
from mixjax._ops import cutmix
from mixjax._ops import mixup
from mixjax._ops import mixup_or_cutmix
from mixjax._sampling import MixParams
from mixjax._sampling import sample_box
from mixjax._sampling import sample_cutmix_params
from mixjax._sampling import sample_lambda
from mixjax._sampling import sample_mixup_or_cutmix_params
from mixjax._sampling import sample_mixup_params
from mixjax._sampling import sample_partners

__version__ = "0.1.0"

__all__ = (
  "MixParams",
  "apply_erasing",
  "apply_gridmask",
  "apply_mix",
  "cutmix",
  "gridmask",
  "mixup",
  "mixup_or_cutmix",
  "one_hot",
  "random_crop",
  "random_crop_flip",
  "random_erasing",
  "random_flip",
  "sample_box",
  "sample_cutmix_params",
  "sample_erasing_params",
  "sample_gridmask_params",
  "sample_lambda",
  "sample_mixup_or_cutmix_params",
  "sample_mixup_params",
  "sample_partners",
  "self_weight",
)
