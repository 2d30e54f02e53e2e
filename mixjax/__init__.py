"""mixjax: mixup-family data augmentation as pure, key-driven JAX functions.

The ops below need only jax and numpy. The training harness is `mixjax.training` (the
`train` extra), host-side data sources `mixjax.data`, the paper's experiments
`mixjax.experiments`.

Conventions, shared by every op:

* `op(key, images, [labels,] *, hyperparameters)` is pure: the same key gives the same
  output. It samples its parameters (`sample_*`: random, cheap) and applies them with a
  deterministic half (`apply_*`, `pad_and_crop`, `flip_left_right`) that can be tested
  and reused on its own.
* Images are channels-last `[B, H, W, C]`; the pasting ops (cutmix, mixup_or_cutmix,
  fmix, resizemix) take any number of spatial axes, `[B, *spatial, C]` (`[B, L, C]`
  segments, `[B, T, H, W, C]` cubes), and a pytree of inputs sharing `[B, *spatial]`.
  Channels-first batches of rank >= 4 (second axis 1, 3 or 4, every later axis > 4, as
  `[B, 3, 32, 32]`) are refused with the transpose that fixes them; rank-3 `[B, L, C]`
  is never guessed at. Labels are floating `[B, num_classes]` one-hot or soft targets
  (:func:`one_hot`); the pasting ops also take dense soft maps `[B, *spatial, K]` and
  (not mixup, which would blend them) integer class maps `[B, *spatial]`. The mixing ops
  and the masks need floating images and keep their dtype (blends are computed in at
  least float32); crop and flip take any dtype.
* `mode="batch"` draws one set of parameters for the whole batch, `mode="elem"` one per
  example. A box is an int32 `(starts..., stops...)` box, half-open: `(top, left,
  bottom, right)` for images. `probability` (every mixing op) mixes the batch, or in elem
  mode each example, with that probability, and returns the rest bit for bit.
* Hyperparameters that are numbers may be traced: changing them does not recompile. At
  their zero setting (α = 0, probability 0) the ops return their input bit for bit.
  Concrete values are checked (numbers only: no bool, str or None; finite in float32).
  A traced value out of range (α < 0, NaN or inf; a probability outside [0, 1]; ...)
  makes the mixed inputs and labels NaN (random_erasing's and gridmask's images), which
  a NaN guard on the loss catches: it never silently changes the method. The crop / flip
  ops take any dtype, integers included, and leave a traced flip probability to
  `jax.random.bernoulli` (below 0: never, above 1: always).
* Shapes are static, with no Python loop over examples and no Python branch on a random
  value: one compiled graph serves every draw, vectorised over the batch.
* Bad arguments raise at trace time, once, at the public boundary, naming the argument,
  the value and what was expected.
"""

from mixjax import _moved
from mixjax._apply import apply_mix
from mixjax._apply import self_weight
from mixjax._crop_flip import flip_left_right
from mixjax._crop_flip import pad_and_crop
from mixjax._crop_flip import random_crop
from mixjax._crop_flip import random_crop_flip
from mixjax._crop_flip import random_flip
from mixjax._crop_flip import sample_crop_offsets
from mixjax._erasing import apply_erasing
from mixjax._erasing import random_erasing
from mixjax._erasing import sample_erasing_params
from mixjax._fmix import fmix
from mixjax._fmix import fmix_mask
from mixjax._fmix import sample_fmix_params
from mixjax._gridmask import apply_gridmask
from mixjax._gridmask import gridmask
from mixjax._gridmask import sample_gridmask_params
from mixjax._labels import one_hot
from mixjax._ops import cutmix
from mixjax._ops import mixup
from mixjax._ops import mixup_or_cutmix
from mixjax._resizemix import apply_resizemix
from mixjax._resizemix import resizemix
from mixjax._resizemix import sample_resizemix_params
from mixjax._sampling import MixParams
from mixjax._sampling import sample_box
from mixjax._sampling import sample_box_minmax
from mixjax._sampling import sample_cutmix_params
from mixjax._sampling import sample_lambda
from mixjax._sampling import sample_mixup_or_cutmix_params
from mixjax._sampling import sample_mixup_params
from mixjax._sampling import sample_partners

_moved.install()  # Old module paths (mixjax.trainer, ...) warn and keep working.

__version__ = "0.1.0"

__all__ = (
  "MixParams",
  "apply_erasing",
  "apply_gridmask",
  "apply_mix",
  "apply_resizemix",
  "cutmix",
  "flip_left_right",
  "fmix",
  "fmix_mask",
  "gridmask",
  "mixup",
  "mixup_or_cutmix",
  "one_hot",
  "pad_and_crop",
  "random_crop",
  "random_crop_flip",
  "random_erasing",
  "random_flip",
  "resizemix",
  "sample_box",
  "sample_box_minmax",
  "sample_crop_offsets",
  "sample_cutmix_params",
  "sample_erasing_params",
  "sample_fmix_params",
  "sample_gridmask_params",
  "sample_lambda",
  "sample_mixup_or_cutmix_params",
  "sample_mixup_params",
  "sample_partners",
  "sample_resizemix_params",
  "self_weight",
)
