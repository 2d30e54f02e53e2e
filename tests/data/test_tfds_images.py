"""Tests for the tfds image sources (`mixjax.data.tfds_images`); nothing is downloaded.

Two kinds of data:

* `tfds.testing.mock_data` for the real catalogue names (cifar10, mnist, imagenet2012).
  Under it every split (and sub-split) yields the same `NUM_EXAMPLES` random examples
  and the split metadata is empty (the sources fall back to counting), so it cannot
  show that process shards are disjoint.
* Two toy datasets defined here and really prepared on disk (`download_and_prepare`
  needs no network), whose label is the example's index: they exercise the unmocked
  path (split metadata, `tfds.even_splits` shards, file shuffling) and show exactly which
  examples each process sees.
"""

from __future__ import annotations

import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")

from mixjax import data  # noqa: E402
from mixjax.data import arrays  # noqa: E402
from mixjax.data import tfds_images  # noqa: E402

NUM_EXAMPLES = 40


@pytest.fixture
def mock_tfds():
  with tfds.testing.mock_data(num_examples=NUM_EXAMPLES):
    yield


class MixjaxToyVariable(tfds.core.GeneratorBasedBuilder):
  """30 train / 11 test RGB images of random sizes; label = index in the split."""

  VERSION = tfds.core.Version("1.0.0")
  IMAGE_SHAPE = (None, None, 3)

  def _info(self):
    return tfds.core.DatasetInfo(
      builder=self,
      features=tfds.features.FeaturesDict(
        {
          "image": tfds.features.Image(shape=self.IMAGE_SHAPE),
          "label": tfds.features.ClassLabel(num_classes=32),
        }
      ),
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    return {"train": self._generate_examples(30, 0), "test": self._generate_examples(11, 1)}

  def _generate_examples(self, num_examples, salt):
    rng = np.random.default_rng(salt)
    for i in range(num_examples):
      shape = [size or int(rng.integers(12, 30)) for size in self.IMAGE_SHAPE]
      yield i, {"image": rng.integers(0, 256, shape, dtype=np.uint8), "label": i}


class MixjaxToyFixed(MixjaxToyVariable):
  """Like `MixjaxToyVariable`, with 8×8×3 images."""

  IMAGE_SHAPE = (8, 8, 3)


@pytest.fixture(scope="module")
def toy_data_dir(tmp_path_factory):
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  for builder in (MixjaxToyVariable, MixjaxToyFixed):
    builder(data_dir=data_dir).download_and_prepare()
  return data_dir


def _rows(images: np.ndarray) -> set[bytes]:
  return {row.tobytes() for row in images}


# ---------------------------------------------------------------------------------------
# In memory: cifar10, mnist


def test_cifar10_in_memory(mock_tfds):
  source = data.load_source("cifar10", seed=0)
  assert isinstance(source, arrays.ArraySource)
  assert source.info == data.DatasetInfo(
    name="cifar10",
    num_classes=10,
    input_shape=(32, 32, 3),
    num_train=NUM_EXAMPLES,
    num_test=NUM_EXAMPLES,
  )
  assert source.steps_per_epoch(16) == 2
  batches = list(source.train_batches(epoch=0, global_batch_size=16))
  assert len(batches) == 2
  for batch in batches:
    assert batch["image"].shape == (16, 32, 32, 3) and batch["image"].dtype == np.float32
    assert batch["label"].shape == (16,) and batch["label"].dtype == np.int32
  # Normalised per channel with the statistics of the whole training split.
  (whole,) = source.train_batches(epoch=0, global_batch_size=NUM_EXAMPLES)
  np.testing.assert_allclose(whole["image"].mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
  np.testing.assert_allclose(whole["image"].std(axis=(0, 1, 2)), 1.0, atol=1e-4)
  assert source.mean.shape == (3,) and 50 < source.mean[0] < 200  # Raw uint8 scale.
  # Deterministic per (seed, epoch), different across epochs.
  again = list(source.train_batches(epoch=0, global_batch_size=16))
  np.testing.assert_array_equal(batches[1]["image"], again[1]["image"])
  other = list(source.train_batches(epoch=1, global_batch_size=16))
  assert not np.array_equal(batches[0]["image"], other[0]["image"])
  # Resume.
  (resumed,) = source.train_batches(epoch=0, global_batch_size=16, start_step=1)
  np.testing.assert_array_equal(resumed["label"], batches[1]["label"])


def test_cifar10_two_processes(mock_tfds):
  single = data.load_source("cifar10", seed=3)
  shards = [data.load_source("cifar10", seed=3, process_index=i, process_count=2) for i in range(2)]
  global_batches = list(single.train_batches(epoch=2, global_batch_size=12))
  local = [list(s.train_batches(epoch=2, global_batch_size=12)) for s in shards]
  assert len(local[0]) == len(local[1]) == len(global_batches) == 3
  for step, global_batch in enumerate(global_batches):
    parts = [local[0][step], local[1][step]]
    assert parts[0]["image"].shape == (6, 32, 32, 3)
    assert not _rows(parts[0]["image"]) & _rows(parts[1]["image"])
    for key in ("image", "label"):
      np.testing.assert_array_equal(np.concatenate([p[key] for p in parts]), global_batch[key])
  # Evaluation: 40 test examples, batches of 12 (6 per process), every example once.
  (everything,) = single.eval_batches(global_batch_size=NUM_EXAMPLES)
  seen = []
  evals = [list(s.eval_batches(global_batch_size=12)) for s in shards]
  assert len(evals[0]) == len(evals[1]) == 4
  for batch in evals[0] + evals[1]:
    assert batch["mask"].shape == (6,) and batch["mask"].dtype == bool
    assert np.all(batch["image"][~batch["mask"]] == 0)
    seen.extend(batch["image"][batch["mask"]])
  assert len(seen) == NUM_EXAMPLES
  assert _rows(np.stack(seen)) == _rows(everything["image"])


def test_mnist_with_label_noise(mock_tfds):
  source = data.load_source("mnist", seed=1, label_noise=0.5)
  assert source.info.input_shape == (28, 28, 1) and source.info.num_classes == 10
  assert len(source.corrupted_indices) == NUM_EXAMPLES // 2
  # Exactly the corrupted labels may differ from the clean load; the test split stays clean.
  clean = data.load_source("mnist", seed=1)
  changed = np.flatnonzero(source.train_labels != clean.train_labels)
  assert set(changed) <= set(source.corrupted_indices) and len(changed) > 0
  np.testing.assert_array_equal(source.test_labels, clean.test_labels)
  (batch,) = source.train_batches(epoch=0, global_batch_size=8, start_step=4)
  assert batch["image"].shape == (8, 28, 28, 1)


# ---------------------------------------------------------------------------------------
# Streamed: imagenet2012 (variable-size images)


def test_imagenet2012_streamed_on_two_processes(mock_tfds):
  first, second = [
    tfds_images.load_tfds_source(
      "imagenet2012",
      seed=0,
      image_size=32,
      resize_size=40,
      stats_examples=16,
      shuffle_buffer=64,
      process_index=i,
      process_count=2,
    )
    for i in range(2)
  ]
  assert isinstance(first, tfds_images.StreamingSource)
  assert first.info.input_shape == (32, 32, 3) and first.info.num_classes == 1000
  np.testing.assert_array_equal(first.mean, second.mean)  # Same statistics everywhere.
  # Train: determinism per (seed, epoch), resume, a new order each epoch.
  batches = list(first.train_batches(epoch=0, global_batch_size=8))
  assert len(batches) == first.steps_per_epoch(8) == NUM_EXAMPLES // 8
  for batch in batches:
    assert batch["image"].shape == (4, 32, 32, 3) and batch["image"].dtype == np.float32
    assert batch["label"].shape == (4,) and batch["label"].dtype == np.int32
  images = np.stack([b["image"] for b in batches])
  assert abs(images.mean()) < 0.3 and 0.5 < images.std() < 1.5  # Normalised.
  again = list(first.train_batches(epoch=0, global_batch_size=8))
  np.testing.assert_array_equal(np.stack([b["image"] for b in again]), images)
  resumed = list(first.train_batches(epoch=0, global_batch_size=8, start_step=3))
  assert len(resumed) == len(batches) - 3
  np.testing.assert_array_equal(np.stack([b["image"] for b in resumed]), images[3:])
  other = list(first.train_batches(epoch=1, global_batch_size=8))
  assert not np.array_equal(np.stack([b["label"] for b in other]), [b["label"] for b in batches])
  # Mock shards hold the same examples in the same order; the crops still differ by process.
  theirs = list(second.train_batches(epoch=0, global_batch_size=8))
  np.testing.assert_array_equal([b["label"] for b in theirs], [b["label"] for b in batches])
  assert not np.array_equal(np.stack([b["image"] for b in theirs]), images)
  # Eval: padded batches, in step. Under mock_data each shard holds all NUM_EXAMPLES.
  batches = list(second.eval_batches(global_batch_size=12))
  assert len(batches) == -(-NUM_EXAMPLES // 6)
  for batch in batches:
    assert batch["image"].shape == (6, 32, 32, 3) and batch["mask"].shape == (6,)
    padding = ~batch["mask"]
    assert np.all(batch["image"][padding] == 0) and np.all(batch["label"][padding] == 0)
  assert sum(b["mask"].sum() for b in batches) == NUM_EXAMPLES


def test_default_rule_streams_variable_size_images_only(mock_tfds):
  assert isinstance(data.load_source("fashion_mnist", seed=0), arrays.ArraySource)
  with pytest.raises(NotImplementedError, match="label_noise.*imagenet2012"):
    data.load_source("imagenet2012", seed=0, label_noise=0.1)
  mnist = tfds_images.load_tfds_source("mnist", seed=0, streaming=True, stats_examples=8)
  assert isinstance(mnist, tfds_images.StreamingSource) and mnist.info.input_shape == (28, 28, 1)
  (batch,) = mnist.train_batches(epoch=0, global_batch_size=10, start_step=3)
  assert batch["image"].shape == (10, 28, 28, 1)


def test_large_training_splits_are_streamed(mock_tfds, monkeypatch):
  monkeypatch.setattr(tfds_images, "STREAM_ABOVE", NUM_EXAMPLES - 1)
  streamed = tfds_images.load_tfds_source("cifar10", seed=0, stats_examples=8)
  assert isinstance(streamed, tfds_images.StreamingSource)
  monkeypatch.setattr(tfds_images, "STREAM_ABOVE", NUM_EXAMPLES)
  assert isinstance(tfds_images.load_tfds_source("cifar10", seed=0), arrays.ArraySource)


def test_streaming_arguments_are_checked(mock_tfds):
  for kwargs, match in [
    (dict(image_size=0), "`image_size` must be a positive int, got 0"),
    (dict(shuffle_buffer=True), "`shuffle_buffer` must be a positive int, got True"),
    (dict(image_size=64, resize_size=32), "`resize_size` must be at least image_size=64"),
  ]:
    with pytest.raises(ValueError, match=match):
      tfds_images.load_tfds_source("imagenet2012", seed=0, **kwargs)
  with pytest.raises(ValueError, match="seed"):
    tfds_images.load_tfds_source("cifar10", seed=-1)


# ---------------------------------------------------------------------------------------
# Errors (no mock: nothing is prepared and nothing may be downloaded)


@pytest.mark.parametrize(
  "name, match",
  [
    ("cifar10", r"'cifar10' is not prepared in `data_dir`=.*tfds build cifar10"),
    ("imagenet2012", "imagenet2012.*not prepared.*manual download.*downloads/manual"),
  ],
)
def test_missing_data_is_a_clear_error(tmp_path, name, match):
  with pytest.raises(FileNotFoundError, match=match):
    data.load_source(name, seed=0, data_dir=str(tmp_path))


def test_as_dataset_says_how_to_prepare_a_missing_dataset(tmp_path):
  builder = tfds.builder("mnist", data_dir=str(tmp_path))
  with pytest.raises(FileNotFoundError, match=r"'mnist' is not prepared.*tfds build mnist"):
    tfds_images.as_dataset(builder, str(tmp_path), split="train")


def test_unknown_and_unsuitable_datasets(tmp_path):
  with pytest.raises(ValueError, match="`name`.*'no_such_dataset'.*tfds does not know"):
    data.load_source("no_such_dataset", seed=0, data_dir=str(tmp_path))
  with pytest.raises(ValueError, match="`name`='glue'.*'image'.*'label'"):
    data.load_source("glue", seed=0, data_dir=str(tmp_path))


# ---------------------------------------------------------------------------------------
# Prepared toy datasets (no mock): exact sharding


def _labels(batches, masked=False):
  return [b["label"][b["mask"]] if masked else b["label"] for b in batches]


@pytest.mark.parametrize("name", ["mixjax_toy_variable", "mixjax_toy_fixed"])
def test_prepared_dataset_two_processes(toy_data_dir, name):
  """Streamed (variable-size images) or in memory (fixed-size), sharded over 2 processes."""
  sources = [
    tfds_images.load_tfds_source(
      name,
      seed=4,
      data_dir=toy_data_dir,
      process_index=i,
      process_count=2,
      image_size=8,
      resize_size=10,
    )
    for i in range(2)
  ]
  streamed = name == "mixjax_toy_variable"
  assert all(isinstance(s, tfds_images.StreamingSource) == streamed for s in sources)
  assert sources[0].info.input_shape == (8, 8, 3) and sources[0].info.num_train == 30
  assert sources[0].info.num_test == 11
  np.testing.assert_array_equal(sources[0].mean, sources[1].mean)
  # Train: 30 // 8 = 3 steps of 4 examples per process, all distinct.
  epochs = [_labels(s.train_batches(epoch=0, global_batch_size=8)) for s in sources]
  assert [len(e) for e in epochs] == [3, 3]
  seen = np.concatenate(epochs[0] + epochs[1])
  assert len(seen) == 24 and len(np.unique(seen)) == 24
  for source, epoch in zip(sources, epochs, strict=True):
    again = _labels(source.train_batches(epoch=0, global_batch_size=8))
    np.testing.assert_array_equal(again, epoch)
    resumed = _labels(source.train_batches(epoch=0, global_batch_size=8, start_step=2))
    np.testing.assert_array_equal(resumed, epoch[2:])
    other = _labels(source.train_batches(epoch=1, global_batch_size=8))
    assert not np.array_equal(other, epoch)
  # Eval: 11 examples in batches of 6 (3 per process), every one exactly once.
  evals = [list(s.eval_batches(global_batch_size=6)) for s in sources]
  assert len(evals[0]) == len(evals[1]) == 2
  for batch in evals[0] + evals[1]:
    assert batch["image"].shape == (3, 8, 8, 3) and batch["image"].dtype == np.float32
    assert np.all(batch["image"][~batch["mask"]] == 0)
  seen = np.concatenate(_labels(evals[0], masked=True) + _labels(evals[1], masked=True))
  np.testing.assert_array_equal(np.sort(seen), np.arange(11))
