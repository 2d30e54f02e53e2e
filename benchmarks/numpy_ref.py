"""A NumPy host implementation of mixup and CutMix, the baseline for `bench_ops.py`.

This is the code a user would write to mix on the host before handing the batch to the
accelerator: `np.random.default_rng`, `x[perm]` and broadcasting, vectorised over the
batch (no Python loop per example). It follows mixjax's conventions (see
`mixjax/_sampling.py`) so that, given the same λ, partners and boxes, it computes the same
batch as :func:`mixjax.apply_mix`; `tests/benchmarks/test_numpy_ref.py` checks that, which
keeps the timing comparison honest. It does not import mixjax (its small mode and pairing
checks are its own) so that the baseline stays plain NumPy.

Arrays are `[B, H, W, C]` images and `[B, K]` soft labels, float32 throughout (a float64
λ would silently promote the whole batch to float64 under NumPy's promotion rules).
"""

from __future__ import annotations

import numpy as np

MODES = ("batch", "elem")
PAIRINGS = ("permute", "flip", "roll")


def _check_choice(value: str, name: str, choices: tuple[str, ...]) -> None:
  if value not in choices:
    raise ValueError(f"`{name}` must be one of {choices}, got {value!r}.")


def _lam_shape(batch_size: int, mode: str) -> tuple[int, ...]:
  _check_choice(mode, "mode", MODES)
  return () if mode == "batch" else (batch_size,)


def _per_example(values: np.ndarray, ndim: int) -> np.ndarray:
  """Reshapes a `[]` or `[B]` array to broadcast against a rank-`ndim` batch."""
  return values.reshape(values.shape + (1,) * (ndim - values.ndim))


def sample_lambda(
  rng: np.random.Generator, alpha: float, shape: tuple[int, ...] = ()
) -> np.ndarray:
  """λ ~ Beta(α, α) as float32 of `shape`; exactly 1 when α == 0."""
  if alpha < 0:
    raise ValueError(f"`alpha` must be >= 0, got {alpha!r}.")
  if alpha == 0:
    return np.ones(shape, np.float32)
  return np.asarray(rng.beta(alpha, alpha, size=shape), np.float32)


def sample_partners(
  rng: np.random.Generator, batch_size: int, pairing: str = "permute"
) -> np.ndarray:
  """int32 `[B]` partner indices: a random permutation, the reversal for `"flip"`, or
  example i - 1 for `"roll"` (the roll is gathered as `x[partner]`)."""
  _check_choice(pairing, "pairing", PAIRINGS)
  if pairing == "flip":
    return np.arange(batch_size - 1, -1, -1, dtype=np.int32)
  if pairing == "roll":
    return np.roll(np.arange(batch_size, dtype=np.int32), 1)
  return rng.permutation(batch_size).astype(np.int32)


def sample_box(
  rng: np.random.Generator, lam: np.ndarray, image_size: tuple[int, int]
) -> np.ndarray:
  """int32 `lam.shape + (4,)` boxes `(top, left, bottom, right)` of area about `1 - lam`.

  Same rule as :func:`mixjax.sample_box`: a `floor(H·sqrt(1-λ)) × floor(W·sqrt(1-λ))`
  box centred on a uniformly random pixel, clipped at the border.
  """
  height, width = image_size
  lam = np.asarray(lam, np.float32)
  cut = np.sqrt(np.float32(1) - lam)
  cut_h = np.floor(height * cut).astype(np.int32)
  cut_w = np.floor(width * cut).astype(np.int32)
  centre_y = rng.integers(0, height, size=lam.shape, dtype=np.int32)
  centre_x = rng.integers(0, width, size=lam.shape, dtype=np.int32)
  top = centre_y - cut_h // 2
  left = centre_x - cut_w // 2
  box = np.stack([top, left, top + cut_h, left + cut_w], axis=-1)
  return np.clip(box, 0, np.array([height, width, height, width], np.int32)).astype(np.int32)


def self_weight(
  lam: np.ndarray,
  box: np.ndarray | None,
  batch_size: int,
  image_size: tuple[int, int] | None = None,
) -> np.ndarray:
  """float32 `[B]` weight of each example's own label: `λ · kept_pixels / (H·W)`."""
  lam = np.broadcast_to(np.asarray(lam, np.float32), (batch_size,))
  if box is None:
    return lam
  height, width = image_size
  box = np.broadcast_to(np.asarray(box, np.int64), (batch_size, 4))
  box_height = np.clip(np.minimum(box[:, 2], height) - np.maximum(box[:, 0], 0), 0, None)
  box_width = np.clip(np.minimum(box[:, 3], width) - np.maximum(box[:, 1], 0), 0, None)
  kept = (height * width - box_height * box_width).astype(np.float32) / np.float32(height * width)
  return lam * kept


def box_mask(box: np.ndarray, height: int, width: int) -> np.ndarray:
  """Boolean `[H, W, 1]` (one box) or `[B, H, W, 1]` (a box per example)."""
  box = np.asarray(box)[..., None, None, :]
  rows = np.arange(height)[:, None]
  cols = np.arange(width)[None, :]
  in_rows = (rows >= box[..., 0]) & (rows < box[..., 2])
  inside = in_rows & (cols >= box[..., 1]) & (cols < box[..., 3])
  return inside[..., None]


def _partner_of(x: np.ndarray, partner: np.ndarray, pairing: str) -> np.ndarray:
  return x[::-1] if pairing == "flip" else x[partner]


def blend(
  x: np.ndarray, y: np.ndarray, lam: np.ndarray, partner: np.ndarray, pairing: str = "permute"
) -> tuple[np.ndarray, np.ndarray]:
  """mixup with given parameters: `λ·x + (1-λ)·x[partner]`, the same for the labels."""
  lam = np.asarray(lam, np.float32)
  lam_x = _per_example(lam, x.ndim)
  mixed = lam_x * x + (1 - lam_x) * _partner_of(x, partner, pairing)
  lam_y = _per_example(lam, y.ndim)
  return mixed, lam_y * y + (1 - lam_y) * _partner_of(y, partner, pairing)


def paste(
  x: np.ndarray, y: np.ndarray, partner: np.ndarray, box: np.ndarray, pairing: str = "permute"
) -> tuple[np.ndarray, np.ndarray]:
  """CutMix with given parameters: paste each partner's box (`[4]` or `[B, 4]`) into x."""
  batch_size, height, width = x.shape[:3]
  box = np.asarray(box)
  if box.ndim == 1:  # One box for the batch: two slice copies.
    top, left, bottom, right = (int(v) for v in box)
    mixed = x.copy()
    if pairing == "flip":
      mixed[:, top:bottom, left:right] = x[::-1, top:bottom, left:right]
    else:
      mixed[:, top:bottom, left:right] = x[partner, top:bottom, left:right]
  else:  # A box per example: one masked select over the batch.
    mixed = np.where(box_mask(box, height, width), _partner_of(x, partner, pairing), x)
  weight = _per_example(self_weight(np.float32(1), box, batch_size, (height, width)), y.ndim)
  return mixed, weight * y + (1 - weight) * _partner_of(y, partner, pairing)


def apply_mix(
  x: np.ndarray,
  y: np.ndarray,
  lam: np.ndarray,
  partner: np.ndarray,
  box: np.ndarray | None = None,
  pairing: str = "permute",
) -> tuple[np.ndarray, np.ndarray]:
  """The general case, as :func:`mixjax.apply_mix`: blend with λ, then paste the box (if any).

  Given finite inputs this equals mixjax's result; mixjax additionally keeps examples with
  λ == 1 bit-exact when their partner holds inf or NaN.
  """
  lam = np.asarray(lam, np.float32)
  x_partner = _partner_of(x, partner, pairing)
  lam_x = _per_example(lam, x.ndim)
  mixed = lam_x * x + (1 - lam_x) * x_partner
  image_size = None
  if box is not None:
    image_size = x.shape[1:3]
    mixed = np.where(box_mask(box, *image_size), x_partner, mixed)
  weight = _per_example(self_weight(lam, box, x.shape[0], image_size), y.ndim)
  return mixed, weight * y + (1 - weight) * _partner_of(y, partner, pairing)


def sample_params(
  rng: np.random.Generator,
  batch_size: int,
  image_size: tuple[int, int] | None = None,
  *,
  alpha: float = 1.0,
  mode: str = "batch",
  pairing: str = "permute",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
  """`(lam, partner, box)` drawn with `rng` in that order; `box` only with an `image_size`."""
  lam = sample_lambda(rng, alpha, _lam_shape(batch_size, mode))
  box = None if image_size is None else sample_box(rng, lam, image_size)
  return lam, sample_partners(rng, batch_size, pairing), box


def mixup(
  rng: np.random.Generator,
  x: np.ndarray,
  y: np.ndarray,
  *,
  alpha: float = 1.0,
  mode: str = "batch",
  pairing: str = "permute",
) -> tuple[np.ndarray, np.ndarray]:
  """Samples λ and partners with `rng`, then blends (see :func:`blend`)."""
  lam, partner, _ = sample_params(rng, x.shape[0], alpha=alpha, mode=mode, pairing=pairing)
  return blend(x, y, lam, partner, pairing)


def cutmix(
  rng: np.random.Generator,
  x: np.ndarray,
  y: np.ndarray,
  *,
  alpha: float = 1.0,
  mode: str = "batch",
  pairing: str = "permute",
) -> tuple[np.ndarray, np.ndarray]:
  """Samples a box (or a box per example) and partners with `rng`, then pastes."""
  image_size = x.shape[1:3]
  _, partner, box = sample_params(
    rng, x.shape[0], image_size, alpha=alpha, mode=mode, pairing=pairing
  )
  return paste(x, y, partner, box, pairing)
