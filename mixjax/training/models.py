"""Flax linen classifiers for the mixup recipes.

Conventions shared by every model in this module:

* `model.apply(variables, x, train=...)` maps images `[B, H, W, C]` (table rows `[B, D]`
  for :class:`MLP`; sequences `[B, L]` or `[B, L, C]` for the 1-D models
  :class:`MNIST1DCNN` and :class:`CNN1D`) to float32 logits `[B, num_classes]`.
* `train=True` normalises with batch statistics and updates the `"batch_stats"`
  collection (apply with `mutable=["batch_stats"]`), and enables dropout, which draws
  from the `"dropout"` rng collection. `train=False` uses the running averages and is
  deterministic.
* BatchNorm has momentum 0.9 and epsilon 1e-5 (the PyTorch defaults of the reference
  models) and no `axis_name`: a data-parallel train step averages `batch_stats` across
  devices itself with `lax.pmean`.
* `model.apply(..., mix=m)` with a :class:`mixjax.training.manifold.ManifoldMix` does
  manifold mixup: the hidden state at boundary `m.layer` is mixed (0 = the input, then
  after each block or stage, as each model's docstring lists; the table
  `mixjax.training.config.MANIFOLD_LAYERS` counts them). `mix=None`, the default,
  changes nothing.
* `dtype` is the compute dtype (`jnp.bfloat16` for half precision). Parameters are always
  float32, BatchNorm computes in `dtype` (with float32 reductions) and the logits are
  cast to float32 so that the loss is computed in full precision.
* Convolutions have no bias (every one is followed or preceded by BatchNorm; the
  reference :class:`MNIST1DCNN`, which has none, keeps its biases), use He
  (fan-out) initialisation, and pad like the PyTorch references (explicit symmetric
  padding), so parameter counts and feature-map sizes match them.

Example:
  >>> model = mixjax.training.models.create_model("small_cnn", num_classes=10)
  >>> variables = model.init(jax.random.key(0), jnp.zeros((1, 32, 32, 3)), train=False)
  >>> logits, updates = model.apply(
  ...     variables, images, train=True, mutable=["batch_stats"],
  ...     rngs={"dropout": dropout_key})
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from mixjax import _checks
from mixjax.training import manifold
from mixjax.training.manifold import ManifoldMix

Dtype = Any

_BN_MOMENTUM = 0.9
_BN_EPSILON = 1e-5
_CONV_INIT = nn.initializers.variance_scaling(2.0, "fan_out", "normal")


def _conv(features: int, kernel: int, strides: int, dtype: Dtype, **kwargs: Any) -> nn.Conv:
  """A bias-free `kernel`×`kernel` convolution padded by `kernel // 2` on every side."""
  pad = kernel // 2
  return nn.Conv(
    features,
    (kernel, kernel),
    strides=(strides, strides),
    padding=((pad, pad), (pad, pad)),
    use_bias=False,
    kernel_init=_CONV_INIT,
    dtype=dtype,
    param_dtype=jnp.float32,
    **kwargs,
  )


def _norm(train: bool, dtype: Dtype, **kwargs: Any) -> nn.BatchNorm:
  return nn.BatchNorm(
    use_running_average=not train,
    momentum=_BN_MOMENTUM,
    epsilon=_BN_EPSILON,
    dtype=dtype,
    param_dtype=jnp.float32,
    **kwargs,
  )


def _check_rank(x: jax.Array, rank: int, what: str) -> None:
  if x.ndim != rank:
    raise ValueError(f"`x` must be rank {rank} {what}, got shape {x.shape}.")


def _classifier_head(
  x: jax.Array, *, num_classes: int, dropout_rate: float, dtype: Dtype, train: bool
) -> jax.Array:
  """Global average pool (if spatial), dropout, dense; float32 logits `[B, num_classes]`."""
  if x.ndim == 4:
    x = jnp.mean(x, axis=(1, 2))
  if dropout_rate > 0:
    x = nn.Dropout(rate=dropout_rate, deterministic=not train)(x)
  logits = nn.Dense(num_classes, dtype=dtype, param_dtype=jnp.float32)(x)
  return logits.astype(jnp.float32)


def _head(module: nn.Module, x: jax.Array, *, train: bool) -> jax.Array:
  """The classifier head of a model with `num_classes`, `dropout_rate` and `dtype` fields."""
  return _classifier_head(
    x,
    num_classes=module.num_classes,
    dropout_rate=module.dropout_rate,
    dtype=module.dtype,
    train=train,
  )


class PreActBlock(nn.Module):
  """Pre-activation basic block (He et al. 2016, "Identity Mappings in Deep Residual Networks").

  `BN-ReLU-conv3x3(stride)-BN-ReLU-conv3x3`, plus the input (or, when the shape changes,
  a 1×1 projection of the pre-activated input).

  Attributes:
    features: output channels.
    strides: stride of the first convolution and of the projection.
    dropout_rate: dropout between the two convolutions (Wide ResNets); 0 disables it.
    dtype: compute dtype.
  """

  features: int
  strides: int = 1
  dropout_rate: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    """Maps `[B, H, W, C_in]` to `[B, H / strides, W / strides, features]`."""
    out = nn.relu(_norm(train, self.dtype)(x))
    shortcut = x
    if self.strides != 1 or x.shape[-1] != self.features:
      shortcut = _conv(self.features, 1, self.strides, self.dtype, name="shortcut")(out)
    y = _conv(self.features, 3, self.strides, self.dtype)(out)
    y = nn.relu(_norm(train, self.dtype)(y))
    if self.dropout_rate > 0:
      y = nn.Dropout(rate=self.dropout_rate, deterministic=not train)(y)
    y = _conv(self.features, 3, 1, self.dtype)(y)
    return y + shortcut


def _preact_stages(
  x: jax.Array,
  stages: Sequence[tuple[int, int]],
  *,
  blocks: int,
  prefix: str,
  dropout_rate: float,
  dtype: Dtype,
  train: bool,
  mix: ManifoldMix | None = None,
) -> jax.Array:
  """`blocks` :class:`PreActBlock` per `(features, strides)` stage, then the final BN-ReLU.

  The blocks are named `{prefix}{stage}_block{block}` (1-based); only the first block of a
  stage has its stride. Manifold mixup boundary k (1-based) is the output of stage k.
  """
  for stage, (features, strides) in enumerate(stages):
    for block in range(blocks):
      x = PreActBlock(
        features,
        strides=strides if block == 0 else 1,
        dropout_rate=dropout_rate,
        dtype=dtype,
        name=f"{prefix}{stage + 1}_block{block + 1}",
      )(x, train=train)
    x = manifold.mix_hidden(x, stage + 1, mix)
  return nn.relu(_norm(train, dtype, name="final_norm")(x))


class PreActResNet18(nn.Module):
  """The pre-activation ResNet-18 of the mixup paper's CIFAR experiments.

  3×3 stem convolution with 64 channels, four stages of two :class:`PreActBlock` with
  64/128/256/512 channels and strides 1/2/2/2, a final BN-ReLU, global average pooling,
  optional dropout and a dense classifier. 11,172,170 parameters for 10 classes (the
  reference PyTorch model, which has no final BN, has 11,171,146). Manifold mixup
  boundaries: 0 = the input, 1-4 = the output of stage 1-4.

  Attributes:
    num_classes: number of output logits.
    dropout_rate: dropout before the classifier; 0 disables it.
    dtype: compute dtype.
  """

  num_classes: int
  dropout_rate: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, mix: ManifoldMix | None = None) -> jax.Array:
    """Maps images `[B, H, W, C]` to float32 logits `[B, num_classes]`."""
    _check_rank(x, 4, "[batch, height, width, channels]")
    x = _conv(64, 3, 1, self.dtype, name="stem")(manifold.mix_hidden(x, 0, mix))
    stages = ((64, 1), (128, 2), (256, 2), (512, 2))
    x = _preact_stages(
      x,
      stages,
      blocks=2,
      prefix="stage",
      dropout_rate=0.0,
      dtype=self.dtype,
      train=train,
      mix=mix,
    )
    return _head(self, x, train=train)


class WideResNet(nn.Module):
  """Wide ResNet WRN-`depth`-`widen_factor` (Zagoruyko & Komodakis 2016) for small images.

  3×3 stem convolution with 16 channels, three groups of `(depth - 4) / 6`
  :class:`PreActBlock` with `16k`, `32k`, `64k` channels (k = `widen_factor`) and strides
  1/2/2, a final BN-ReLU, global average pooling and a dense classifier. WRN-28-10 has
  36,479,194 parameters for 10 classes. Manifold mixup boundaries: 0 = the input, 1-3 =
  the output of group 1-3.

  Attributes:
    num_classes: number of output logits.
    depth: total depth; `depth - 4` must be a positive multiple of 6.
    widen_factor: the width multiplier k.
    dropout_rate: as in the paper, dropout between the two convolutions of every block
      (0.3 in the paper); 0 disables it. There is no dropout before the classifier.
    dtype: compute dtype.
  """

  num_classes: int
  depth: int = 28
  widen_factor: int = 10
  dropout_rate: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, mix: ManifoldMix | None = None) -> jax.Array:
    """Maps images `[B, H, W, C]` to float32 logits `[B, num_classes]`."""
    if self.depth < 10 or (self.depth - 4) % 6:
      raise ValueError(
        f"`depth` must be 6n + 4 with n >= 1 (e.g. 16, 22, 28, 40), got {self.depth!r}."
      )
    _checks.check_positive_int(self.widen_factor, "widen_factor")
    _check_rank(x, 4, "[batch, height, width, channels]")
    x = _conv(16, 3, 1, self.dtype, name="stem")(manifold.mix_hidden(x, 0, mix))
    k = self.widen_factor
    x = _preact_stages(
      x,
      ((16 * k, 1), (32 * k, 2), (64 * k, 2)),
      blocks=(self.depth - 4) // 6,
      prefix="group",
      dropout_rate=self.dropout_rate,  # In the blocks, as in the paper; none before the head.
      dtype=self.dtype,
      train=train,
      mix=mix,
    )
    return _classifier_head(
      x, num_classes=self.num_classes, dropout_rate=0.0, dtype=self.dtype, train=train
    )


class BottleneckBlock(nn.Module):
  """ResNet v1.5 bottleneck: `1×1 - 3×3(stride) - 1×1 (4× channels)`, post-activation.

  The stride sits in the 3×3 convolution (v1.5). The last BatchNorm's scale starts at
  zero, so each block starts as the identity (Goyal et al. 2017).

  Attributes:
    features: channels of the 3×3 convolution; the block outputs `4 * features`.
    strides: stride of the 3×3 convolution and of the projection.
    dtype: compute dtype.
  """

  features: int
  strides: int = 1
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    """Maps `[B, H, W, C_in]` to `[B, H / strides, W / strides, 4 * features]`."""
    out_features = 4 * self.features
    y = nn.relu(_norm(train, self.dtype)(_conv(self.features, 1, 1, self.dtype)(x)))
    y = nn.relu(_norm(train, self.dtype)(_conv(self.features, 3, self.strides, self.dtype)(y)))
    y = _conv(out_features, 1, 1, self.dtype)(y)
    y = _norm(train, self.dtype, scale_init=nn.initializers.zeros)(y)
    shortcut = x
    if self.strides != 1 or x.shape[-1] != out_features:
      shortcut = _conv(out_features, 1, self.strides, self.dtype, name="shortcut_conv")(x)
      shortcut = _norm(train, self.dtype, name="shortcut_norm")(shortcut)
    return nn.relu(y + shortcut)


class ResNet50(nn.Module):
  """ImageNet ResNet-50 v1.5 (He et al. 2015; stride in the 3×3 convolution).

  7×7/2 stem convolution with 64 channels, BN-ReLU, 3×3/2 max pooling, stages of
  3/4/6/3 :class:`BottleneckBlock` with 64/128/256/512 (×4 out) channels and strides
  1/2/2/2, global average pooling, optional dropout and a dense classifier.
  25,557,032 parameters for 1000 classes, as torchvision's `resnet50`. Manifold mixup
  boundaries: 0 = the input, 1-4 = the output of stage 1-4.

  Attributes:
    num_classes: number of output logits.
    dropout_rate: dropout before the classifier; 0 disables it.
    dtype: compute dtype.
  """

  num_classes: int
  dropout_rate: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, mix: ManifoldMix | None = None) -> jax.Array:
    """Maps images `[B, H, W, C]` to float32 logits `[B, num_classes]`."""
    _check_rank(x, 4, "[batch, height, width, channels]")
    x = _conv(64, 7, 2, self.dtype, name="stem_conv")(manifold.mix_hidden(x, 0, mix))
    x = nn.relu(_norm(train, self.dtype, name="stem_norm")(x))
    x = nn.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
    for stage, (blocks, features, strides) in enumerate(
      zip((3, 4, 6, 3), (64, 128, 256, 512), (1, 2, 2, 2), strict=True)
    ):
      for block in range(blocks):
        x = BottleneckBlock(
          features,
          strides=strides if block == 0 else 1,
          dtype=self.dtype,
          name=f"stage{stage + 1}_block{block + 1}",
        )(x, train=train)
      x = manifold.mix_hidden(x, stage + 1, mix)
    return _head(self, x, train=train)


class SmallCNN(nn.Module):
  """A small convolutional network for small images (8×8 digits, 28×28 MNIST, 32×32).

  `conv3x3(w)-BN-ReLU, conv3x3(2w)-BN-ReLU, maxpool 2×2, conv3x3(4w)-BN-ReLU`, global
  average pooling, optional dropout and a dense classifier, with w = `width`. 24,058
  parameters for w = 16 (the default), one channel and 10 classes; 94,186 for w = 32.
  On sklearn's 8×8 digits it reaches about 99% test accuracy after 10 epochs (a few
  seconds on two CPU cores). Manifold mixup boundaries: 0 = the input, 1 = after the
  first convolution, 2 = after the max pooling, 3 = after the last convolution.

  Attributes:
    num_classes: number of output logits.
    dropout_rate: dropout before the classifier; 0 disables it.
    dtype: compute dtype.
    width: channels of the first convolution (the others have 2× and 4×).
  """

  num_classes: int
  dropout_rate: float = 0.0
  dtype: Dtype = jnp.float32
  width: int = 16

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, mix: ManifoldMix | None = None) -> jax.Array:
    """Maps images `[B, H, W, C]` to float32 logits `[B, num_classes]`."""
    _checks.check_positive_int(self.width, "width")
    _check_rank(x, 4, "[batch, height, width, channels]")
    x = manifold.mix_hidden(x, 0, mix)
    x = nn.relu(_norm(train, self.dtype)(_conv(self.width, 3, 1, self.dtype)(x)))
    x = manifold.mix_hidden(x, 1, mix)
    x = nn.relu(_norm(train, self.dtype)(_conv(2 * self.width, 3, 1, self.dtype)(x)))
    x = manifold.mix_hidden(nn.max_pool(x, (2, 2), strides=(2, 2)), 2, mix)
    x = nn.relu(_norm(train, self.dtype)(_conv(4 * self.width, 3, 1, self.dtype)(x)))
    return _head(self, manifold.mix_hidden(x, 3, mix), train=train)


class MLP(nn.Module):
  """A multi-layer perceptron for table rows (or anything flattened).

  `Dense-ReLU` for each hidden size, each followed by dropout when `dropout_rate > 0`
  (so there is dropout before the classifier), then a dense classifier. No BatchNorm:
  `init` returns only `"params"`. Manifold mixup boundaries: 0 = the (flattened) input,
  k = the output of hidden layer k.

  Attributes:
    num_classes: number of output logits.
    dropout_rate: dropout after each hidden layer; 0 disables it.
    dtype: compute dtype.
    hidden_sizes: widths of the hidden layers.
  """

  num_classes: int
  dropout_rate: float = 0.0
  dtype: Dtype = jnp.float32
  hidden_sizes: Sequence[int] = (256, 256)

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, mix: ManifoldMix | None = None) -> jax.Array:
    """Maps `[B, D]` (or `[B, ...]`, flattened) to float32 logits `[B, num_classes]`."""
    if x.ndim < 2:
      raise ValueError(f"`x` must be at least rank 2 [batch, features], got shape {x.shape}.")
    x = manifold.mix_hidden(x.reshape(x.shape[0], math.prod(x.shape[1:])), 0, mix)
    for layer, size in enumerate(self.hidden_sizes):
      x = nn.relu(nn.Dense(size, dtype=self.dtype, param_dtype=jnp.float32)(x))
      if self.dropout_rate > 0:
        x = nn.Dropout(rate=self.dropout_rate, deterministic=not train)(x)
      x = manifold.mix_hidden(x, layer + 1, mix)
    logits = nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=jnp.float32)(x)
    return logits.astype(jnp.float32)


def _as_sequence(x: jax.Array) -> jax.Array:
  """The 1-D input contract: `[B, L]` (one channel) or `[B, L, C]`, returned as `[B, L, C]`."""
  if x.ndim == 2:
    return x[..., None]
  if x.ndim != 3:
    raise ValueError(
      "`x` must be rank 2 [batch, length] or rank 3 [batch, length, channels], "
      f"got shape {x.shape}."
    )
  return x


def _conv1d(features: int, kernel: int, strides: int, dtype: Dtype, **kwargs: Any) -> nn.Conv:
  """A 1-D convolution padded by `kernel // 2` on each side (the PyTorch `padding=k//2`)."""
  pad = kernel // 2
  return nn.Conv(
    features,
    (kernel,),
    strides=(strides,),
    padding=((pad, pad),),
    kernel_init=_CONV_INIT,
    dtype=dtype,
    param_dtype=jnp.float32,
    **kwargs,
  )


class MNIST1DCNN(nn.Module):
  """The CNN of the MNIST-1D benchmark (Greydanus & Kobak, arXiv 2011.14439).

  The `ConvBase` of the dataset's repository (greydanus/mnist1d, `notebooks/models.py`):
  three 1-D convolutions with `channels` filters and ReLU — kernel 5 / stride 2 /
  padding 1, then twice kernel 3 / stride 2 / padding 1 — the flattened features and a
  dense classifier (optional dropout before it). With biases and no BatchNorm, as there.
  On length-40 signals the feature maps have lengths 19, 10, 5, and the model has
  5,210 parameters for 25 channels and 10 classes (the reference's `linear_in=125`).
  Flax's default (LeCun normal) initialisation, not PyTorch's.

  Input contract (every 1-D model here): `[B, L]` (one channel, e.g. MNIST-1D signals,
  tabular rows read as sequences) or `[B, L, C]` (e.g. speech frames `[B, T, F]`, with
  the F features as channels).

  Attributes:
    num_classes: number of output logits.
    dropout_rate: dropout before the classifier; 0 disables it.
    dtype: compute dtype.
    channels: filters of each convolution (25 in the reference).
  """

  num_classes: int
  dropout_rate: float = 0.0
  dtype: Dtype = jnp.float32
  channels: int = 25

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, mix: ManifoldMix | None = None) -> jax.Array:
    """Maps `[B, L]` or `[B, L, C]` to float32 logits `[B, num_classes]`.

    Manifold mixup boundaries: 0 = the input, 1-3 = the output of convolution 1-3.
    """
    _checks.check_positive_int(self.channels, "channels")
    x = manifold.mix_hidden(_as_sequence(x), 0, mix)
    for layer, (kernel, strides) in enumerate(((5, 2), (3, 2), (3, 2))):
      conv = nn.Conv(
        self.channels,
        (kernel,),
        strides=(strides,),
        padding=((1, 1),),
        dtype=self.dtype,
        param_dtype=jnp.float32,
      )
      x = manifold.mix_hidden(nn.relu(conv(x)), layer + 1, mix)
    x = x.reshape(x.shape[0], -1)
    return _head(self, x, train=train)


class CNN1D(nn.Module):
  """A 1-D convolutional network for sequences of any length and channel count.

  `stages` blocks of `conv(kernel)-BN-ReLU, conv(kernel)-BN-ReLU` with `width`, `2·width`,
  `4·width`, ... channels, each but the last followed by max pooling by 2; global average
  pooling over the length, optional dropout and a dense classifier. Length-agnostic
  (global pooling), so it serves MNIST-1D signals, speech frames and tabular rows read
  as sequences alike. 24,954 parameters for the defaults (width 16, 3 stages, kernel 3),
  one channel and 10 classes.

  Input contract: as :class:`MNIST1DCNN`, `[B, L]` or `[B, L, C]`.

  Attributes:
    num_classes: number of output logits.
    dropout_rate: dropout before the classifier; 0 disables it.
    dtype: compute dtype.
    width: channels of the first stage (doubling at each stage).
    stages: number of stages.
    kernel: convolution kernel length (odd).
  """

  num_classes: int
  dropout_rate: float = 0.0
  dtype: Dtype = jnp.float32
  width: int = 16
  stages: int = 3
  kernel: int = 3

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool, mix: ManifoldMix | None = None) -> jax.Array:
    """Maps `[B, L]` or `[B, L, C]` to float32 logits `[B, num_classes]`.

    Manifold mixup boundaries: 0 = the input, k = the output of stage k (after its pooling).
    """
    _checks.check_positive_int(self.width, "width")
    _checks.check_positive_int(self.stages, "stages")
    _checks.check_positive_int(self.kernel, "kernel")
    x = manifold.mix_hidden(_as_sequence(x), 0, mix)
    for stage in range(self.stages):
      features = self.width * 2**stage
      for _ in range(2):
        conv = _conv1d(features, self.kernel, 1, self.dtype, use_bias=False)
        x = nn.relu(_norm(train, self.dtype)(conv(x)))
      if stage < self.stages - 1 and x.shape[1] >= 2:
        x = nn.max_pool(x, (2,), strides=(2,))
      x = manifold.mix_hidden(x, stage + 1, mix)
    x = jnp.mean(x, axis=1)
    return _head(self, x, train=train)


MODELS: dict[str, Callable[..., nn.Module]] = {
  "preact_resnet18": PreActResNet18,
  "wrn28_10": functools.partial(WideResNet, depth=28, widen_factor=10),
  "resnet50": ResNet50,
  "small_cnn": SmallCNN,
  "mlp": MLP,
  "mnist1d_cnn": MNIST1DCNN,
  "cnn1d": CNN1D,
}
# The ranks of one example each model takes (3: images [H, W, C]); None: any (flattened).
# Config validation checks a dataset's inputs against this before a run starts.
# The smallest length of every spatial axis a model takes (SmallCNN's 2×2 max pooling;
# MNIST1DCNN's first kernel of 5 with padding 1): smaller inputs vanish inside the model.
MIN_SPATIAL: dict[str, int] = {"small_cnn": 2, "mnist1d_cnn": 3}

INPUT_RANKS: dict[str, tuple[int, ...] | None] = {
  "preact_resnet18": (3,),
  "wrn28_10": (3,),
  "resnet50": (3,),
  "small_cnn": (3,),
  "mlp": None,
  "mnist1d_cnn": (1, 2),  # [L] or [L, C] signals.
  "cnn1d": (1, 2),
}


def create_model(
  name: str,
  *,
  num_classes: int,
  dropout_rate: float = 0.0,
  dtype: Dtype = jnp.float32,
) -> nn.Module:
  """Builds a model of :data:`MODELS` by name.

  Args:
    name: a key of :data:`MODELS`: `"preact_resnet18"`, `"wrn28_10"`, `"resnet50"`,
      `"small_cnn"` or `"mlp"`.
    num_classes: number of output logits, a positive int.
    dropout_rate: in [0, 1); see the model for where the dropout sits.
    dtype: compute dtype, e.g. `jnp.float32` or `jnp.bfloat16`.

  Returns:
    The (unbound) linen module.

  Raises:
    ValueError: unknown `name`, or bad `num_classes` / `dropout_rate`.
  """
  if name not in MODELS:
    raise ValueError(f"`name` must be one of {sorted(MODELS)}, got {name!r}.")
  _checks.check_positive_int(num_classes, "num_classes")
  _checks.check_number(
    dropout_rate, "dropout_rate", low=0.0, high=1.0, high_open=True, expected="a float in [0, 1)"
  )
  return MODELS[name](num_classes=num_classes, dropout_rate=dropout_rate, dtype=dtype)
