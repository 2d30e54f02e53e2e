"""The per-device train and eval steps.

One function body runs on every device: it draws its key from
`fold_in(fold_in(base_key, step), axis_index)`, augments and mixes its own shard of
the batch inside the compiled graph (for manifold mixup it draws the layer, λ and
partners, and the model mixes its hidden states: `mixjax.training.manifold`), takes the
loss of `config.loss` on the mixed soft targets, and averages gradients and BatchNorm
statistics over the data axis with `lax.pmean`. `mixjax.training.parallel` maps the same body with
`jax.pmap` (the default) or `jax.shard_map` over a 1-D mesh; both give the same new state.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax.training import train_state

from mixjax import _crop_flip
from mixjax import _erasing
from mixjax import _gridmask
from mixjax import _labels
from mixjax import _ops
from mixjax.training import calibration
from mixjax.training import manifold

AXIS = "data"


class TrainState(train_state.TrainState):
  """Flax train state plus BatchNorm statistics and the run's base PRNG key.

  Attributes:
    batch_stats: BatchNorm running statistics (empty dict for models without BatchNorm).
    rng: uint32 key data of the run's base key; step keys are `fold_in(base, step)`.
  """

  batch_stats: Any = None
  rng: jax.Array | None = None


@dataclasses.dataclass(frozen=True)
class StepConfig:
  """The static hyperparameters a step is compiled for, taken from the run's config.

  Every field but `num_classes` (which comes from the data) is the config key of the
  same name, documented and defaulted in `mixjax.training.config.default_config`: a new
  static step setting is a field here and a key there, nothing else.

  `mixup_alpha` and `cutmix_alpha` are NOT here: they are passed traced, so turning
  mixing off for the last epochs (α = 0) reuses the same compiled step.
  """

  num_classes: int
  mix: str
  switch_prob: float
  mix_mode: str
  mix_pairing: str
  label_smoothing: float
  augment: str
  random_erasing: float
  gridmask: float
  manifold_layers: tuple[int, ...]
  loss: str
  bce_target_thresh: float

  @classmethod
  def from_config(cls, config, *, num_classes: int) -> StepConfig:
    """The step settings of a run config (`default_config`'s keys), for `num_classes`."""
    types = typing.get_type_hints(cls)
    keys = [f.name for f in dataclasses.fields(cls) if f.name != "num_classes"]
    return cls(num_classes=num_classes, **{k: types[k](config[k]) for k in keys})


def step_key(state: TrainState, axis_name: str = AXIS) -> jax.Array:
  """The key of this step on this device: fold_in(fold_in(base, step), axis_index)."""
  base = jax.random.wrap_key_data(state.rng)
  return jax.random.fold_in(jax.random.fold_in(base, state.step), jax.lax.axis_index(axis_name))


def prepare_inputs(key, images, labels, cfg: StepConfig, *, mixup_alpha, cutmix_alpha):
  """Augments and mixes one device's batch inside the graph (or draws its manifold mix).

  Args:
    key: this device's step key.
    images: float `[b, ...]` inputs (images `[b, H, W, C]` or rows `[b, D]`).
    labels: int32 `[b]`.
    cfg: static step configuration.
    mixup_alpha: traced scalar; 0 disables mixup.
    cutmix_alpha: traced scalar; 0 disables CutMix.

  Returns:
    `(inputs, targets, hidden_mix)`: the mixed inputs, the float32 `[b, num_classes]`
    soft targets and None; for `mix="manifold_mixup"`, the augmented (unmixed) inputs,
    the targets mixed with the drawn λ and partners, and the
    :class:`~mixjax.training.manifold.ManifoldMix` the model applies at the drawn layer.
  """
  aug_key, erase_key, grid_key, mix_key = jax.random.split(key, 4)
  if cfg.augment == "crop_flip":
    images = _crop_flip.random_crop_flip(aug_key, images)
  if cfg.random_erasing > 0:
    images = _erasing.random_erasing(erase_key, images, probability=cfg.random_erasing)
  if cfg.gridmask > 0:
    images = _gridmask.gridmask(grid_key, images, probability=cfg.gridmask)
  targets = _labels.one_hot(labels, cfg.num_classes, label_smoothing=cfg.label_smoothing)
  if cfg.mix == "manifold_mixup":
    hidden_mix, targets = manifold.sample_manifold_mix(
      mix_key,
      targets,
      layers=cfg.manifold_layers,
      alpha=mixup_alpha,
      mode=cfg.mix_mode,
      pairing=cfg.mix_pairing,
    )
    return images, targets, hidden_mix
  return (*_mix_inputs(mix_key, images, targets, cfg, mixup_alpha, cutmix_alpha), None)


def _mix_inputs(key, images, targets, cfg: StepConfig, mixup_alpha, cutmix_alpha):
  """The input-space mix of `cfg.mix` (none, mixup, cutmix, mixup_or_cutmix)."""
  common = dict(mode=cfg.mix_mode, pairing=cfg.mix_pairing)
  if cfg.mix == "mixup":
    return _ops.mixup(key, images, targets, alpha=mixup_alpha, **common)
  if cfg.mix == "cutmix":
    return _ops.cutmix(key, images, targets, alpha=cutmix_alpha, **common)
  if cfg.mix == "mixup_or_cutmix":
    return _ops.mixup_or_cutmix(
      key,
      images,
      targets,
      mixup_alpha=mixup_alpha,
      cutmix_alpha=cutmix_alpha,
      switch_prob=cfg.switch_prob,
      **common,
    )
  return images, targets


def loss(logits: jax.Array, targets: jax.Array, cfg: StepConfig) -> jax.Array:
  """The mean training loss of `cfg.loss` on (mixed) soft targets.

  `"softmax"`: softmax cross-entropy per example, averaged. `"sigmoid"`: binary
  cross-entropy of every logit against its target, averaged over examples and classes
  (timm's `BinaryCrossEntropy`); with `bce_target_thresh > 0` the targets are first
  binarised, 1 where above the threshold and 0 elsewhere (timm's `target_threshold`).

  Args:
    logits: float32 `[b, num_classes]`.
    targets: float32 `[b, num_classes]`.
    cfg: static step configuration.

  Returns:
    float32 scalar.
  """
  if cfg.loss == "sigmoid":
    if cfg.bce_target_thresh > 0:
      targets = (targets > cfg.bce_target_thresh).astype(targets.dtype)
    return optax.sigmoid_binary_cross_entropy(logits, targets).mean()
  return optax.softmax_cross_entropy(logits, targets).mean()


def train_step(state: TrainState, batch, hparams, *, cfg: StepConfig, axis_name: str = AXIS):
  """One SGD step on one device's shard of the global batch.

  Args:
    state: the (replicated) train state.
    batch: dict with `image` float `[b, ...]` and `label` int32 `[b]` for this device.
    hparams: dict of traced scalars, `mixup_alpha` and `cutmix_alpha` (0 = no mixing).
    cfg: static step configuration (bind with functools.partial).
    axis_name: the data-parallel axis.

  Returns:
    `(new_state, metrics)`; metrics are averaged over devices.
  """
  key = step_key(state, axis_name)
  prep_key, dropout_key = jax.random.split(key)
  inputs, targets, hidden_mix = prepare_inputs(
    prep_key,
    batch["image"],
    batch["label"],
    cfg,
    mixup_alpha=hparams["mixup_alpha"],
    cutmix_alpha=hparams["cutmix_alpha"],
  )

  def loss_fn(params):
    variables = {"params": params, "batch_stats": state.batch_stats}
    extra = {} if hidden_mix is None else {"mix": hidden_mix}
    logits, updates = state.apply_fn(
      variables,
      inputs,
      train=True,
      rngs={"dropout": dropout_key},
      mutable=["batch_stats"],
      **extra,
    )
    return loss(logits, targets, cfg), (logits, updates["batch_stats"])

  # Differentiate per-device copies: under shard_map, the gradient of a replicated
  # (device-invariant) value would already be summed over devices, and the pmean below
  # would then leave a sum, not a mean. Under pmap the params are varying already.
  params = jax.tree.map(lambda x: jax.lax.pcast(x, axis_name, to="varying"), state.params)
  (value, (logits, batch_stats)), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
  grads = jax.lax.pmean(grads, axis_name)
  batch_stats = jax.lax.pmean(batch_stats, axis_name)
  new_state = state.apply_gradients(grads=grads, batch_stats=batch_stats)
  # Accuracy against the dominant component of the (mixed) target.
  accuracy = jnp.mean(jnp.argmax(logits, -1) == jnp.argmax(targets, -1))
  metrics = jax.lax.pmean({"loss": value, "accuracy": accuracy}, axis_name)
  return new_state, metrics


def eval_step(state: TrainState, batch, *, axis_name: str = AXIS):
  """Sums of loss, correct predictions and counted examples over the masked batch.

  Args:
    state: the train state.
    batch: dict with `image`, `label` int32 `[b]` and `mask` bool `[b]` (False on padding).
    axis_name: the data-parallel axis.

  Returns:
    dict of float32 sums, summed over devices: scalars `loss` (the NLL), `correct` and
    `count`, and the `[15]` per-bin calibration sums of `calibration.bin_sums`
    (`ece_count`, `ece_confidence`, `ece_correct`).
  """
  variables = {"params": state.params, "batch_stats": state.batch_stats}
  logits = state.apply_fn(variables, batch["image"], train=False)
  mask = batch["mask"].astype(jnp.float32)
  loss = optax.softmax_cross_entropy_with_integer_labels(logits, batch["label"])
  correct = (jnp.argmax(logits, -1) == batch["label"]).astype(jnp.float32)
  sums = {"loss": jnp.sum(loss * mask), "correct": jnp.sum(correct * mask), "count": jnp.sum(mask)}
  sums.update(calibration.bin_sums(jax.nn.softmax(logits), batch["label"], mask))
  return jax.lax.psum(sums, axis_name)
