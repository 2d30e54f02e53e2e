"""White-box adversarial attacks for measuring robustness: FGSM and I-FGSM.

Conventions:

* `apply_fn(variables, inputs) -> logits` is the model in evaluation mode (bind
  `train=False` and friends with `functools.partial` first); logits are `[B, C]`.
* `labels` are integer class indices `[B]` or floating one-hot / soft targets `[B, C]`.
  The attacks maximise the softmax cross-entropy with these labels.
* `epsilon` is the L∞ radius of the perturbation in the units of `inputs`; it may be a
  traced scalar (sweeping it does not recompile). Loop lengths (`num_steps`) are static.
* `clip_min` / `clip_max` bound every adversarial input to the valid input range (e.g.
  `[0, 1]` pixels); None leaves that side unbounded.

Every function is pure and batched and can be wrapped in `jax.jit` as it is.

References:
  Goodfellow, Shlens and Szegedy. Explaining and harnessing adversarial examples. ICLR 2015.
  Kurakin, Goodfellow and Bengio. Adversarial examples in the physical world. 2016
  (the Basic Iterative Method, here `iterative_fgsm`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mixjax import _checks

ApplyFn = Callable[[Any, jax.Array], jax.Array]


def _check_attack_inputs(inputs: Any, labels: Any) -> None:
  dtype, shape = jnp.result_type(inputs), jnp.shape(inputs)
  if not jnp.issubdtype(dtype, jnp.floating):
    raise TypeError(f"`inputs` must be floating to be perturbed, got dtype {dtype}.")
  if len(shape) < 1:
    raise ValueError(f"`inputs` must have a leading batch dimension, got shape {shape}.")
  label_shape, label_dtype = jnp.shape(labels), jnp.result_type(labels)
  integer = jnp.issubdtype(label_dtype, jnp.integer)
  floating = jnp.issubdtype(label_dtype, jnp.floating)
  if not ((integer and len(label_shape) == 1) or (floating and len(label_shape) == 2)):
    raise ValueError(
      "`labels` must be integer class indices [B] or floating one-hot / soft targets "
      f"[B, C], got shape {label_shape} and dtype {label_dtype}."
    )
  if label_shape[0] != shape[0]:
    raise ValueError(
      f"`labels` has batch size {label_shape[0]} but `inputs` has batch size {shape[0]} "
      f"(shape {shape})."
    )


def _check_clip(clip_min: Any, clip_max: Any) -> None:
  for name, value in (("clip_min", clip_min), ("clip_max", clip_max)):
    if value is not None and jnp.ndim(value) != 0:
      raise ValueError(f"`{name}` must be a scalar or None, got shape {jnp.shape(value)}.")
  if (
    clip_min is not None
    and clip_max is not None
    and _checks.is_concrete(clip_min)
    and _checks.is_concrete(clip_max)
    and float(np.asarray(clip_min)) > float(np.asarray(clip_max))
  ):
    raise ValueError(f"`clip_min` ({clip_min!r}) must be <= `clip_max` ({clip_max!r}).")


def _clip(x: jax.Array, clip_min: Any, clip_max: Any) -> jax.Array:
  if clip_min is None and clip_max is None:
    return x
  low = None if clip_min is None else jnp.asarray(clip_min, x.dtype)
  high = None if clip_max is None else jnp.asarray(clip_max, x.dtype)
  return jnp.clip(x, low, high)


def cross_entropy(apply_fn: ApplyFn, variables: Any, inputs: jax.Array, labels: jax.Array):
  """Per-example softmax cross-entropy of the model on `(inputs, labels)`.

  Args:
    apply_fn: `apply_fn(variables, inputs) -> logits [B, C]`.
    variables: the model variables.
    inputs: floating `[B, ...]`.
    labels: int `[B]` or floating `[B, C]`.

  Returns:
    float `[B]` losses.
  """
  logits = apply_fn(variables, inputs)
  if jnp.issubdtype(jnp.result_type(labels), jnp.integer):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels)
  return optax.softmax_cross_entropy(logits, labels)


def _input_gradient(apply_fn: ApplyFn, variables: Any, inputs: jax.Array, labels: jax.Array):
  # The summed loss gives every example its own, unscaled gradient (only its sign is used).
  total = lambda x: jnp.sum(cross_entropy(apply_fn, variables, x, labels))
  return jax.grad(total)(inputs)


def fgsm(
  apply_fn: ApplyFn,
  variables: Any,
  inputs: jax.Array,
  labels: jax.Array,
  *,
  epsilon: jax.typing.ArrayLike,
  clip_min: jax.typing.ArrayLike | None = None,
  clip_max: jax.typing.ArrayLike | None = None,
) -> jax.Array:
  """Fast Gradient Sign Method (Goodfellow et al. 2015).

  `x_adv = clip(x + ε·sign(∇_x CE(f(x), y)), clip_min, clip_max)`: one step to the corner
  of the L∞ ε-ball that increases the loss to first order.

  Args:
    apply_fn: `apply_fn(variables, inputs) -> logits [B, C]`, in evaluation mode.
    variables: the model variables (not differentiated).
    inputs: floating `[B, ...]` clean inputs.
    labels: int `[B]` class indices or floating `[B, C]` targets.
    epsilon: L∞ radius ε >= 0, a scalar; may be traced. 0 returns `inputs` unchanged
      (up to clipping into the valid range).
    clip_min: lower bound of valid inputs, or None.
    clip_max: upper bound of valid inputs, or None.

  Returns:
    Adversarial inputs, same shape and dtype as `inputs`, with
    `|x_adv - x| <= ε` elementwise and values inside `[clip_min, clip_max]`.

  Raises:
    ValueError, TypeError: for a negative or non-scalar `epsilon`, non-floating inputs,
      labels of the wrong shape, or `clip_min > clip_max`.
  """
  _checks.check_number(epsilon, "epsilon", low=0.0, expected="finite and >= 0")
  _check_attack_inputs(inputs, labels)
  _check_clip(clip_min, clip_max)
  inputs = jnp.asarray(inputs)
  grad = _input_gradient(apply_fn, variables, inputs, labels)
  eps = jnp.asarray(epsilon, inputs.dtype)
  return _clip(inputs + eps * jnp.sign(grad), clip_min, clip_max)


def iterative_fgsm(
  apply_fn: ApplyFn,
  variables: Any,
  inputs: jax.Array,
  labels: jax.Array,
  *,
  epsilon: jax.typing.ArrayLike,
  num_steps: int = 10,
  step_size: jax.typing.ArrayLike | None = None,
  clip_min: jax.typing.ArrayLike | None,
  clip_max: jax.typing.ArrayLike | None,
) -> jax.Array:
  """Iterative FGSM, the Basic Iterative Method of Kurakin et al. (2016).

  Starting from `x_0 = x`, repeats `num_steps` times

    `x_{t+1} = clip(Π_ε(x_t + step_size·sign(∇_x CE(f(x_t), y))), clip_min, clip_max)`

  where Π_ε projects onto the L∞ ball of radius ε around the clean `x`. There is no
  random start.

  The default `step_size` is `1.25·ε / num_steps`: the steps add up to 1.25·ε, as in
  Kurakin et al., who take `min(ε + 4, 1.25·ε)` steps of one intensity level (pixel units),
  so the iterate can reach the border of the ball even when some gradient signs flip
  along the way.

  Args:
    apply_fn: `apply_fn(variables, inputs) -> logits [B, C]`, in evaluation mode.
    variables: the model variables (not differentiated).
    inputs: floating `[B, ...]` clean inputs.
    labels: int `[B]` class indices or floating `[B, C]` targets.
    epsilon: L∞ radius ε >= 0, a scalar; may be traced.
    num_steps: number of steps, a positive Python int (static; the loop is a
      `lax.fori_loop`).
    step_size: size of each signed step (>= 0, may be traced), or None for
      `1.25·ε / num_steps`.
    clip_min: lower bound of valid inputs, or None (required keyword: be explicit).
    clip_max: upper bound of valid inputs, or None.

  Returns:
    Adversarial inputs, same shape and dtype as `inputs`, within ε of `inputs` in L∞
    and inside `[clip_min, clip_max]`.

  Raises:
    ValueError, TypeError: as :func:`fgsm`, and for a `num_steps` that is not a
      positive int or a negative `step_size`.
  """
  _checks.check_number(epsilon, "epsilon", low=0.0, expected="finite and >= 0")
  _check_attack_inputs(inputs, labels)
  _check_clip(clip_min, clip_max)
  num_steps = _checks.check_positive_int(num_steps, "num_steps")
  if step_size is not None:
    _checks.check_number(step_size, "step_size", low=0.0, expected="finite and >= 0")
  inputs = jnp.asarray(inputs)
  eps = jnp.asarray(epsilon, inputs.dtype)
  if step_size is None:
    step = eps * (1.25 / num_steps)
  else:
    step = jnp.asarray(step_size, inputs.dtype)
  low, high = inputs - eps, inputs + eps

  def body(_, x):
    grad = _input_gradient(apply_fn, variables, x, labels)
    x = jnp.clip(x + step * jnp.sign(grad), low, high)
    return _clip(x, clip_min, clip_max)

  return jax.lax.fori_loop(0, num_steps, body, _clip(inputs, clip_min, clip_max))


def misclassified(apply_fn: ApplyFn, variables: Any, inputs: jax.Array, labels: jax.Array):
  """Which examples of a batch the model gets wrong (top-1).

  Args:
    apply_fn: `apply_fn(variables, inputs) -> logits [B, C]`.
    variables: the model variables.
    inputs: floating `[B, ...]`.
    labels: int `[B]` class indices, or floating `[B, C]` targets whose argmax is the class.

  Returns:
    bool `[B]`: the argmax of the logits is not the label.
  """
  _check_attack_inputs(inputs, labels)
  logits = apply_fn(variables, inputs)
  if jnp.ndim(labels) == 2:
    labels = jnp.argmax(labels, axis=-1)
  return jnp.argmax(logits, axis=-1) != labels


def error_rate(apply_fn: ApplyFn, variables: Any, inputs: jax.Array, labels: jax.Array):
  """Top-1 error of the model on a batch: the mean of :func:`misclassified` (same args).

  Returns:
    float32 scalar in [0, 1] (a jax.Array, so this works under `jit`; `float()` it on
    the host).
  """
  wrong = misclassified(apply_fn, variables, inputs, labels)
  return jnp.mean(wrong.astype(jnp.float32))
