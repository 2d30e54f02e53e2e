"""Image folders as in-memory sources (`mixjax.data.image_folder`): layouts, decoding,
skipped files, errors, the image size, a training run."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from mixjax import data
from mixjax.data import arrays
from mixjax.data import base
from mixjax.data import image_folder
from mixjax.training import config as config_lib
from mixjax.training import loop

DIGITS_CONFIG = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "digits.py")

# One solid colour per class (classes listed out of order: labels must follow the names).
COLOURS = {"eel": (30, 30, 200), "cat": (200, 30, 30), "dog": (30, 200, 30)}
SIZES = ((12, 12), (20, 16), (9, 30))  # (height, width): resized to a square anyway.
TOLERANCE = 4  # JPEG may move a solid colour by a few levels.


def _write_image(path, colour, size, grey=False):
  height, width = size
  pixels = np.broadcast_to(np.asarray(colour, np.uint8), (height, width, 3))
  if grey:
    pixels = pixels[..., :1]
  encode = tf.io.encode_png if path.endswith(".png") else tf.io.encode_jpeg
  tf.io.write_file(path, encode(tf.constant(pixels)))


def _write_class(root, name, count, colour=None, grey=False):
  folder = os.path.join(root, name)
  os.makedirs(folder, exist_ok=True)
  for i in range(count):
    ext = ".png" if i % 2 else ".jpg"
    _write_image(os.path.join(folder, f"{i:02d}{ext}"), colour or COLOURS[name], SIZES[i % 3], grey)


def _add_bad_files(root):
  """A corrupt .png, a zero-byte .jpg and a non-image file; returns the two bad images."""
  corrupt = os.path.join(root, "cat", "corrupt.png")
  with open(corrupt, "wb") as f:
    f.write(np.random.default_rng(0).bytes(200))
  empty = os.path.join(root, "dog", "empty.jpg")
  open(empty, "wb").close()
  with open(os.path.join(root, "dog", "notes.txt"), "w") as f:
    f.write("not an image")
  return corrupt, empty


@pytest.fixture(scope="module")
def flat_dir(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("flat"))
  for name in COLOURS:
    _write_class(root, name, 10)
  os.makedirs(os.path.join(root, ".hidden"))  # Not a class.
  _add_bad_files(root)
  return root


@pytest.fixture(scope="module")
def split_dir(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("split"))
  for name in COLOURS:
    _write_class(os.path.join(root, "train"), name, 6)
  for name in ("cat", "dog"):  # The test tree may lack a class.
    _write_class(os.path.join(root, "test"), name, 2)
  return root


def _load(data_dir, **kwargs):
  kwargs.setdefault("seed", 0)
  kwargs.setdefault("image_size", 16)
  return data.load_source("folder", data_dir=data_dir, **kwargs)


def _load_flat(flat_dir, **kwargs):
  with pytest.warns(UserWarning, match="Skipped 2 unreadable image file"):
    return _load(flat_dir, **kwargs)


def _raw(source, batch):
  """Un-normalises a batch back to pixel values."""
  return batch["image"] * source.std + source.mean


def _expected_colours(source, labels):
  return np.array([COLOURS[source.class_names[y]] for y in labels], np.float32)


def test_flat_layout_holds_out_a_stratified_fraction(flat_dir):
  source = _load_flat(flat_dir)
  assert isinstance(source, image_folder.FolderSource)
  assert isinstance(source, arrays.ArraySource)
  assert source.class_names == ("cat", "dog", "eel")
  assert source.info == base.DatasetInfo(
    name="folder", num_classes=3, input_shape=(16, 16, 3), num_train=24, num_test=6
  )
  np.testing.assert_array_equal(np.bincount(source.test_labels), [2, 2, 2])  # 20% per class
  np.testing.assert_array_equal(np.bincount(source.train_labels), [8, 8, 8])
  files = source.train_files + source.test_files
  assert len(set(files)) == 30 and not set(source.train_files) & set(source.test_files)
  for path, label in zip(
    files, np.concatenate([source.train_labels, source.test_labels]), strict=True
  ):
    assert os.path.basename(os.path.dirname(path)) == source.class_names[label]


def test_skipped_files_are_counted_named_and_never_loaded(flat_dir):
  with pytest.warns(UserWarning) as record:
    source = _load(flat_dir)
  message = str(record[0].message)
  assert "Skipped 2 unreadable" in message
  assert "corrupt.png" in message and "empty.jpg" in message
  assert [os.path.basename(p) for p in source.skipped_files] == ["corrupt.png", "empty.jpg"]
  assert not any(p.endswith((".txt", "corrupt.png", "empty.jpg")) for p in source.train_files)


def test_pixels_and_statistics_come_from_the_images(flat_dir):
  source = _load_flat(flat_dir)
  batch = next(source.eval_batches(global_batch_size=8))
  raw = _raw(source, batch)[batch["mask"]]
  expected = _expected_colours(source, batch["label"][batch["mask"]])
  np.testing.assert_allclose(raw.mean(axis=(1, 2)), expected, atol=TOLERANCE)
  # Statistics of the training split only: 8 images of each solid colour.
  colours = np.array(list(COLOURS.values()), np.float32)
  np.testing.assert_allclose(source.mean, colours.mean(axis=0), atol=TOLERANCE)
  np.testing.assert_allclose(source.std, colours.std(axis=0), atol=TOLERANCE)


def test_batches_resume_and_shard_like_every_in_memory_source(flat_dir):
  source = _load_flat(flat_dir, seed=3)
  full = list(source.train_batches(epoch=1, global_batch_size=8))
  resumed = list(source.train_batches(epoch=1, global_batch_size=8, start_step=1))
  assert len(full) == 3
  for a, b in zip(full[1:], resumed, strict=True):
    np.testing.assert_array_equal(a["image"], b["image"])
  halves = [_load_flat(flat_dir, seed=3, process_index=i, process_count=2) for i in range(2)]
  shares = [next(h.train_batches(epoch=1, global_batch_size=8)) for h in halves]
  np.testing.assert_array_equal(np.concatenate([s["label"] for s in shares]), full[0]["label"])
  np.testing.assert_allclose(np.concatenate([s["image"] for s in shares]), full[0]["image"])


def test_the_held_out_split_is_fixed_by_the_seed(flat_dir):
  a, b, c = (_load_flat(flat_dir, seed=s) for s in (5, 5, 6))
  assert a.test_files == b.test_files
  assert a.test_files != c.test_files
  assert _load_flat(flat_dir, test_fraction=0.5).info.num_test == 15


def test_split_layout_uses_train_and_test_trees(split_dir):
  source = _load(split_dir, image_size=8)
  assert source.class_names == ("cat", "dog", "eel")
  assert (source.info.num_train, source.info.num_test) == (18, 4)
  assert source.info.input_shape == (8, 8, 3)
  assert all(f"{os.sep}test{os.sep}" in p for p in source.test_files)
  np.testing.assert_array_equal(source.test_labels, [0, 0, 1, 1])
  assert source.skipped_files == ()
  with pytest.raises(ValueError, match="test_fraction"):
    _load(split_dir, test_fraction=0.2)


def test_an_empty_test_class_folder_counts_as_lacking(tmp_path):
  for name in COLOURS:
    _write_class(str(tmp_path / "train"), name, 4)
  _write_class(str(tmp_path / "test"), "cat", 2)
  os.makedirs(tmp_path / "test" / "dog")  # Empty: no test images of dogs.
  source = _load(str(tmp_path), image_size=8)
  assert source.info.num_test == 2 and source.class_names == ("cat", "dog", "eel")


def test_default_image_size_and_grey_folders(tmp_path):
  for name, level in (("dark", 40), ("light", 220)):
    _write_class(str(tmp_path), name, 3, colour=(level,) * 3, grey=True)
  source = data.load_source("folder", data_dir=str(tmp_path), seed=0, test_fraction=0.34)
  assert source.info.input_shape == (image_folder.DEFAULT_IMAGE_SIZE,) * 2 + (1,)


def test_alpha_and_palette_images_decode_to_their_colours(tmp_path):
  """RGBA WebP (which `decode_image(channels=3)` refuses), RGBA and grey + alpha PNG, and
  palette BMP (which `tf.io.decode_bmp` reads as indices) all load as their RGB colour."""
  from PIL import Image
  from PIL import features

  colours = {"cat": (200, 30, 30), "dog": (30, 200, 30), "eel": (90, 90, 90)}
  for name, colour in colours.items():
    os.makedirs(tmp_path / name)
    rgba = np.broadcast_to(np.asarray(colour + (128,), np.uint8), (10, 12, 4))
    Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(tmp_path / name / "a.png")
    Image.fromarray(np.ascontiguousarray(rgba[..., :3])).convert(
      "P", palette=Image.Palette.ADAPTIVE, colors=4
    ).save(tmp_path / name / "p.bmp")
    if features.check("webp"):
      Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(
        tmp_path / name / "w.webp", lossless=True
      )
  grey_alpha = np.broadcast_to(np.asarray([90, 255], np.uint8), (8, 8, 2))
  Image.fromarray(np.ascontiguousarray(grey_alpha), "LA").save(tmp_path / "eel" / "la.png")
  source = _load(str(tmp_path), test_fraction=0.5)
  assert source.skipped_files == () and source.info.input_shape == (16, 16, 3)
  batch = next(source.eval_batches(global_batch_size=16))
  raw = _raw(source, batch)[batch["mask"]]
  expected = [colours[source.class_names[y]] for y in batch["label"][batch["mask"]]]
  assert len(raw) >= 3
  expected = np.broadcast_to(np.asarray(expected, np.float32)[:, None, None, :], raw.shape)
  np.testing.assert_allclose(raw, expected, atol=0.01)


@pytest.mark.parametrize("image_size", [16, 5])
def test_batches_have_the_requested_image_size(flat_dir, image_size):
  source = _load_flat(flat_dir, image_size=image_size)
  assert source.info.input_shape == (image_size, image_size, 3)
  for batch in source.train_batches(epoch=0, global_batch_size=8):
    assert batch["image"].shape == (8, image_size, image_size, 3)
  for batch in source.eval_batches(global_batch_size=4):
    assert batch["image"].shape == (4, image_size, image_size, 3)
  # The solid colours survive the resize to any size.
  batch = next(source.train_batches(epoch=0, global_batch_size=8))
  expected = _expected_colours(source, batch["label"])[:, None, None, :]
  np.testing.assert_allclose(
    _raw(source, batch), np.broadcast_to(expected, batch["image"].shape), atol=TOLERANCE
  )


def test_a_missing_folder_is_named(tmp_path):
  missing = str(tmp_path / "nowhere")
  with pytest.raises(FileNotFoundError, match="nowhere"):
    _load(missing)
  with pytest.raises(ValueError, match="data_dir"):
    data.load_source("folder", seed=0)


def test_a_single_class_is_refused(tmp_path):
  _write_class(str(tmp_path), "cat", 3)
  with pytest.raises(ValueError, match="at least 2 classes"):
    _load(str(tmp_path))


def test_a_class_without_readable_images_is_named(tmp_path):
  root = str(tmp_path)
  _write_class(root, "cat", 3)
  _write_class(root, "dog", 3)
  os.makedirs(os.path.join(root, "eel"))
  with open(os.path.join(root, "eel", "broken.png"), "wb") as f:
    f.write(b"\x89PNG not really")
  with pytest.raises(ValueError, match="'eel' has no readable images"):
    _load(root)
  os.remove(os.path.join(root, "eel", "broken.png"))
  with open(os.path.join(root, "eel", "readme.txt"), "w") as f:
    f.write("no images here")
  with pytest.raises(ValueError, match="'eel'.*no image files"):
    _load(root)


def test_a_test_class_unknown_to_training_is_refused(tmp_path):
  _write_class(str(tmp_path / "train"), "cat", 2)
  _write_class(str(tmp_path / "train"), "dog", 2)
  _write_class(str(tmp_path / "test"), "eel", 2)
  with pytest.raises(ValueError, match="eel"):
    _load(str(tmp_path))


def test_bad_arguments_are_refused(flat_dir):
  with pytest.raises(ValueError, match="image_size"):
    _load(flat_dir, image_size=0)
  with pytest.raises(ValueError, match="image_size"):
    data.load_source("digits", seed=0, image_size=16)
  config = config_lib.load_config_file(DIGITS_CONFIG)
  config.image_size = -1
  with pytest.raises(ValueError, match="config.image_size"):
    config_lib.validate(config)


def test_training_on_a_folder(flat_dir, tmp_path):
  config = config_lib.load_config_file(DIGITS_CONFIG)
  config.dataset = "folder"
  config.data_dir = flat_dir
  config.image_size = 16
  config.model = "small_cnn"
  config.num_epochs = 1
  config.lr_milestones = ()
  config.batch_size = 8
  with pytest.warns(UserWarning, match="Skipped 2 unreadable"):
    summary = loop.train_and_evaluate(config, str(tmp_path))
  assert summary["dataset"] == "folder" and summary["epochs"] == 1
  records = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  assert records[-1]["test_count"] == 6
  assert np.isfinite(records[-1]["train_loss"])
