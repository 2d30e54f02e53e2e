"""TensorFlow Datasets image classification, in memory or streamed with tf.data.

Any tfds dataset with an `image` (`tfds.features.Image`) and a `label`
(`tfds.features.ClassLabel`) feature works; the training split is `train` and the test
split is `test` (`validation` for imagenet2012, or when there is no `test`).

Two paths, chosen by `streaming` (default: stream when the images have no fixed shape or
the training split has more than `STREAM_ABOVE` examples):

* In memory (cifar10/100, mnist, fashion_mnist, svhn_cropped, ...): every process loads
  both splits as uint8 NumPy arrays (at most a few hundred MB) and batches them exactly
  like the scikit-learn sources (`mixjax.data.arrays.ArraySource`): the global order is
  `np.random.default_rng([seed, epoch]).permutation`, each process takes its slice of
  each global batch, and normalisation statistics are those of the whole training split.
* Streamed (imagenet2012, ...): each process reads its own shard of each split,
  `tfds.even_splits(split, n=process_count)[process_index]`; an epoch reads the files in
  an order seeded by `(seed, epoch)` and shuffles examples in a buffer with the same seed
  (`options.deterministic = True`), so the order is a function of
  `(seed, epoch, process_count)`. Images of variable size are resized so that their shorter
  side is `resize_size`, then cropped to `image_size` (random crop and horizontal flip with
  stateless seeds for training, centre crop for evaluation). Normalisation statistics come
  from the first `stats_examples` training examples (the same on every process).

Nothing is ever downloaded: a dataset that is not prepared in `data_dir` raises
`FileNotFoundError` saying how to prepare it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from mixjax import _checks
from mixjax.data import _tf
from mixjax.data import arrays
from mixjax.data import base
from mixjax.data import stats

# Stream (rather than load into memory) training splits larger than this.
STREAM_ABOVE = 200_000
# Test split names that differ from "test".
_TEST_SPLITS = {"imagenet2012": "validation"}
# Examples per tf.data batch when loading a split into memory.
_LOAD_BATCH = 10_000
# Examples per batch when computing streaming statistics.
_STATS_BATCH = 256

_MANUAL_DOWNLOAD = {
  "imagenet2012": (
    "imagenet2012 needs a manual download: put ILSVRC2012_img_train.tar and "
    "ILSVRC2012_img_val.tar (from image-net.org) in DIR/downloads/manual/, then run "
    "`tfds build imagenet2012 --data_dir=DIR`."
  ),
}


def load_tfds_source(
  name: str,
  *,
  seed: int,
  label_noise: float = 0.0,
  process_index: int = 0,
  process_count: int = 1,
  data_dir: str | None = None,
  streaming: bool | None = None,
  image_size: int = 224,
  resize_size: int = 256,
  shuffle_buffer: int = 10_000,
  stats_examples: int = 2048,
) -> base.Source:
  """Loads a prepared tfds image-classification dataset as a source.

  Args:
    name: a tfds dataset name (optionally with config/version, e.g. "cifar10:3.0.2").
    seed: an int in [0, 2**32); fixes the label noise and the epoch orders.
    label_noise: fraction of training labels redrawn uniformly, in [0, 1]; only for the
      in-memory path.
    process_index: this process, in `[0, process_count)`.
    process_count: the number of processes sharing each global batch.
    data_dir: the tfds data directory; None uses tfds's default (`TFDS_DATA_DIR` or
      `~/tensorflow_datasets`).
    streaming: True streams with tf.data, False loads into memory, None decides (see
      the module docstring).
    image_size: streamed images of variable size are cropped to `image_size²`.
    resize_size: ... after resizing their shorter side to `resize_size`.
    shuffle_buffer: size of the streaming shuffle buffer (of encoded examples).
    stats_examples: number of leading training examples for streaming statistics.

  Returns:
    An in-memory `arrays.ArraySource` or a `StreamingSource`.
  """
  seed, label_noise, process_index, process_count = base.check_source_args(
    seed, label_noise, process_index, process_count
  )
  shared = dict(seed=seed, process_index=process_index, process_count=process_count)
  builder = _builder(name, data_dir)
  num_train = _num_examples(builder, "train", data_dir)
  if streaming is None:
    streaming = None in builder.info.features["image"].shape or num_train > STREAM_ABOVE
  if not streaming:
    return _load_in_memory(builder, name, data_dir, label_noise=label_noise, **shared)
  if label_noise:
    raise NotImplementedError(
      f"`label_noise`={label_noise} is not supported for the streamed dataset {name!r}: its "
      "labels are not held in memory. Use label_noise=0, or an in-memory dataset."
    )
  return StreamingSource(
    builder,
    name=name,
    num_train=num_train,
    data_dir=data_dir,
    image_size=image_size,
    resize_size=resize_size,
    shuffle_buffer=shuffle_buffer,
    stats_examples=stats_examples,
    **shared,
  )


def _builder(name: str, data_dir: str | None) -> tfds.core.DatasetBuilder:
  """The tfds builder of `name`, checked to have `image` and `label` features."""
  try:
    builder = tfds.builder(name, data_dir=data_dir)
  except tfds.core.registered.DatasetNotFoundError:
    raise ValueError(
      f"`name` must be a scikit-learn dataset or a tfds dataset, got {name!r}, which tfds "
      "does not know (see https://www.tensorflow.org/datasets/catalog)."
    ) from None
  features = builder.info.features
  keys = set(features.keys()) if isinstance(features, tfds.features.FeaturesDict) else set()
  image = features["image"] if "image" in keys else None
  label = features["label"] if "label" in keys else None
  if not isinstance(image, tfds.features.Image) or not isinstance(label, tfds.features.ClassLabel):
    raise ValueError(
      f"`name`={name!r} must be an image-classification dataset with an 'image' (Image) and "
      f"a 'label' (ClassLabel) feature, got features {features}."
    )
  if image.shape[-1] is None:
    raise ValueError(f"`name`={name!r} has images of unknown channel count, {image.shape}.")
  return builder


def as_dataset(
  builder: tfds.core.DatasetBuilder, data_dir: str | None, **kwargs: Any
) -> tf.data.Dataset:
  """`builder.as_dataset(**kwargs)`, with a clear error when the data are not prepared.

  Args:
    builder: the tfds builder.
    data_dir: the data directory the builder was made for (None: tfds's default), for
      the message.
    **kwargs: arguments of `DatasetBuilder.as_dataset` (split, read_config, ...).

  Returns:
    The dataset.

  Raises:
    FileNotFoundError: the dataset is not prepared in `data_dir`; the message says how to
      prepare it (mixjax never downloads).
  """
  try:
    return builder.as_dataset(**kwargs)
  except AssertionError as e:
    if "could not find data" not in str(e):
      raise
    raise FileNotFoundError(_not_prepared_message(builder, data_dir)) from e


def _not_prepared_message(builder: tfds.core.DatasetBuilder, data_dir: str | None) -> str:
  name = builder.name
  how = _MANUAL_DOWNLOAD.get(
    name,
    f"Run `tfds build {name} --data_dir=DIR` on a machine with internet access and copy DIR here.",
  )
  return (
    f"tfds dataset {name!r} is not prepared in `data_dir`={data_dir!r} (looked in "
    f"{builder.data_path}); mixjax never downloads. {how} Then pass data_dir=DIR (or set "
    "TFDS_DATA_DIR=DIR)."
  )


def _num_examples(builder: tfds.core.DatasetBuilder, split: str, data_dir: str | None) -> int:
  """Examples in `split` (may be a sub-split), from the metadata or else by cardinality."""
  try:
    return int(builder.info.splits[split].num_examples)
  except KeyError:
    pass
  cardinality = int(as_dataset(builder, data_dir, split=split).cardinality())
  if cardinality < 0:
    raise ValueError(f"Cannot tell the number of examples of split {split!r} of {builder.name!r}.")
  return cardinality


def _test_split(builder: tfds.core.DatasetBuilder) -> str:
  if builder.name in _TEST_SPLITS:
    return _TEST_SPLITS[builder.name]
  splits = builder.info.splits
  if not splits or "test" in splits:
    return "test"
  if "validation" in splits:
    return "validation"
  raise ValueError(
    f"tfds dataset {builder.name!r} has neither a 'test' nor a 'validation' split, only "
    f"{list(splits)}."
  )


def _load_arrays(
  builder: tfds.core.DatasetBuilder, split: str, data_dir: str | None
) -> tuple[np.ndarray, np.ndarray]:
  """Loads a whole split, in its stored order, as (uint8 images, int64 labels)."""
  ds = as_dataset(
    builder,
    data_dir,
    split=split,
    batch_size=_LOAD_BATCH,
    shuffle_files=False,
    read_config=tfds.ReadConfig(try_autocache=False),
  )
  ds = ds.map(lambda ex: (ex["image"], ex["label"]))
  images, labels = [], []
  for image, label in tfds.as_numpy(ds):
    images.append(image)
    labels.append(label)
  if not images:
    shape = builder.info.features["image"].shape
    return np.zeros((0, *shape), np.uint8), np.zeros((0,), np.int64)
  return np.concatenate(images), np.concatenate(labels).astype(np.int64)


def _load_in_memory(
  builder: tfds.core.DatasetBuilder, name: str, data_dir: str | None, **kwargs: Any
) -> arrays.ArraySource:
  """Both splits in memory; `kwargs` are the checked seed, label noise and process."""
  x_train, y_train = _load_arrays(builder, "train", data_dir)
  x_test, y_test = _load_arrays(builder, _test_split(builder), data_dir)
  return arrays.ArraySource.from_splits(
    name,
    num_classes=builder.info.features["label"].num_classes,
    train_inputs=x_train,
    train_labels=y_train,
    test_inputs=x_test,
    test_labels=y_test,
    **kwargs,
  )


def _epoch_seed(seed: int, epoch: int) -> int:
  """A tf seed (int in [0, 2**31)) that is a function of (seed, epoch) only."""
  return int(np.random.default_rng([seed, epoch]).integers(2**31))


class StreamingSource(base.Source):
  """A tfds dataset streamed with tf.data, one `tfds.even_splits` shard per process.

  Train batches are `[b, *input_shape]` with `b = global_batch_size // process_count`;
  every process yields `num_train // global_batch_size` of them per epoch (the shards
  differ in size by at most one example, so every shard has enough).
  """

  def __init__(
    self,
    builder: tfds.core.DatasetBuilder,
    *,
    name: str,
    num_train: int,
    seed: int,
    process_index: int,
    process_count: int,
    data_dir: str | None,
    image_size: int,
    resize_size: int,
    shuffle_buffer: int,
    stats_examples: int,
  ):
    for arg, value in (
      ("image_size", image_size),
      ("resize_size", resize_size),
      ("shuffle_buffer", shuffle_buffer),
      ("stats_examples", stats_examples),
    ):
      _checks.check_positive_int(value, arg)
    if resize_size < image_size:
      raise ValueError(
        f"`resize_size` must be at least image_size={image_size}, got {resize_size}."
      )
    self.process_index, self.process_count = process_index, process_count
    self._builder = builder
    self._data_dir = data_dir
    self._seed = seed
    self._shuffle_buffer = shuffle_buffer
    self._image_size = image_size
    self._resize_size = resize_size
    self._image_feature = builder.info.features["image"]
    self._fixed_shape = None not in self._image_feature.shape
    if self._fixed_shape:
      input_shape = tuple(self._image_feature.shape)
    else:
      input_shape = (image_size, image_size, self._image_feature.shape[-1])
    test_split = _test_split(builder)
    self._train_shard = tfds.even_splits("train", n=process_count)[process_index]
    test_shards = tfds.even_splits(test_split, n=process_count)
    self._test_shard = test_shards[process_index]
    self._test_shard_sizes = [_num_examples(builder, s, data_dir) for s in test_shards]
    self.info = base.DatasetInfo(
      name=name,
      num_classes=builder.info.features["label"].num_classes,
      input_shape=input_shape,
      num_train=num_train,
      num_test=_num_examples(builder, test_split, data_dir),
    )
    self.corrupted_indices = np.zeros((0,), np.int64)
    self.mean, self.std = self._prefix_stats(stats_examples)

  def _read(self, split: str, *, shuffle_seed: int | None = None) -> tf.data.Dataset:
    """Encoded examples of `split`; files in an order seeded by `shuffle_seed` if given."""
    read_config = tfds.ReadConfig(
      options=_tf.deterministic_options(), shuffle_seed=shuffle_seed, try_autocache=False
    )
    return as_dataset(
      self._builder,
      self._data_dir,
      split=split,
      shuffle_files=shuffle_seed is not None,
      read_config=read_config,
      decoders={"image": tfds.decode.SkipDecoding()},
    )

  def _decode(self, encoded: tf.Tensor) -> tf.Tensor:
    return self._image_feature.decode_example(encoded)

  def _resize(self, image: tf.Tensor) -> tf.Tensor:
    """Float32 image, resized so that its shorter side is `resize_size`."""
    shape = tf.shape(image)
    height, width = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    scale = self._resize_size / tf.minimum(height, width)
    size = tf.cast(tf.round(tf.stack([height * scale, width * scale])), tf.int32)
    size = tf.maximum(size, self._resize_size)
    return tf.image.resize(image, size, antialias=True)

  def _center_crop(self, image: tf.Tensor) -> tf.Tensor:
    shape = tf.shape(image)
    top = (shape[0] - self._image_size) // 2
    left = (shape[1] - self._image_size) // 2
    return image[top : top + self._image_size, left : left + self._image_size]

  def _eval_image(self, encoded: tf.Tensor) -> tf.Tensor:
    """Decoded float32 image of `input_shape`, not normalised."""
    image = self._decode(encoded)
    if self._fixed_shape:
      return tf.cast(image, tf.float32)
    image = self._center_crop(self._resize(tf.cast(image, tf.float32)))
    return tf.ensure_shape(image, self.info.input_shape)

  def _train_image(self, encoded: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Like `_eval_image`, with a random crop and flip seeded by `seed` (int64 [2])."""
    image = self._decode(encoded)
    if self._fixed_shape:
      return tf.cast(image, tf.float32)
    image = self._resize(tf.cast(image, tf.float32))
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    image = tf.image.stateless_random_crop(image, self.info.input_shape, seed=crop_seed)
    return tf.image.stateless_random_flip_left_right(image, seed=flip_seed)

  def _normalize(self, image: tf.Tensor) -> tf.Tensor:
    return (image - tf.constant(self.mean)) / tf.constant(self.std)

  def _prefix_stats(self, num_examples: int) -> tuple[np.ndarray, np.ndarray]:
    """Statistics of the first `num_examples` of the whole training split (any process)."""
    ds = self._read("train").take(num_examples)
    ds = ds.map(lambda ex: self._eval_image(ex["image"]), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.batch(_STATS_BATCH).prefetch(tf.data.AUTOTUNE).with_options(_tf.deterministic_options())
    return stats.channel_stats_from_chunks(tfds.as_numpy(ds))

  def train_batches(
    self, *, epoch: int, global_batch_size: int, start_step: int = 0
  ) -> Iterator[base.Batch]:
    steps = self.steps_per_epoch(global_batch_size)
    local_batch = global_batch_size // self.process_count
    epoch = base.check_step(epoch, "epoch", 2**32 - 1)
    start_step = base.check_step(start_step, "start_step", steps)
    epoch_seed = _epoch_seed(self._seed, epoch)

    def preprocess(index: tf.Tensor, example: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
      # Interleaved over the processes, so that no two processes crop and flip their i-th
      # example alike (with one process, the index itself).
      index = index * self.process_count + self.process_index
      seed = tf.stack([tf.constant(epoch_seed, tf.int64), index])
      image = self._normalize(self._train_image(example["image"], seed))
      return {"image": image, "label": tf.cast(example["label"], tf.int32)}

    ds = self._read(self._train_shard, shuffle_seed=epoch_seed)
    ds = ds.shuffle(self._shuffle_buffer, seed=epoch_seed, reshuffle_each_iteration=False)
    ds = ds.take(steps * local_batch).enumerate().skip(start_step * local_batch)
    ds = ds.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.batch(local_batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    return iter(tfds.as_numpy(ds.with_options(_tf.deterministic_options())))

  def eval_batches(self, *, global_batch_size: int) -> Iterator[base.Batch]:
    local_batch = base.check_global_batch_size(global_batch_size, self.process_count)
    num_batches = max(math.ceil(size / local_batch) for size in self._test_shard_sizes)

    def preprocess(example: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
      image = self._normalize(self._eval_image(example["image"]))
      return {"image": image, "label": tf.cast(example["label"], tf.int32)}

    ds = self._read(self._test_shard).map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.batch(local_batch).prefetch(tf.data.AUTOTUNE).with_options(_tf.deterministic_options())
    return self._padded(tfds.as_numpy(ds), num_batches, local_batch)

  def _padded(self, batches: Any, num_batches: int, local_batch: int) -> Iterator[base.Batch]:
    """Pads every batch to `local_batch` and the sequence to `num_batches`, with masks."""
    count = 0
    for batch in batches:
      size = batch["label"].shape[0]
      pad = local_batch - size
      yield {
        "image": np.concatenate(
          [batch["image"], np.zeros((pad, *self.info.input_shape), np.float32)]
        ),
        "label": np.concatenate([batch["label"], np.zeros((pad,), np.int32)]),
        "mask": np.arange(local_batch) < size,
      }
      count += 1
    for _ in range(count, num_batches):
      yield {
        "image": np.zeros((local_batch, *self.info.input_shape), np.float32),
        "label": np.zeros((local_batch,), np.int32),
        "mask": np.zeros((local_batch,), bool),
      }
