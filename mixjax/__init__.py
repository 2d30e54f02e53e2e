"""mixjax: mixup-family data augmentation as pure, key-driven JAX functions."""

from mixjax._apply import apply_mix
from mixjax._apply import self_weight
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
    "apply_mix",
    "cutmix",
    "mixup",
    "mixup_or_cutmix",
    "one_hot",
    "sample_box",
    "sample_cutmix_params",
    "sample_lambda",
    "sample_mixup_or_cutmix_params",
    "sample_mixup_params",
    "sample_partners",
    "self_weight",
)
