"""Your own images: a folder with one sub-folder of image files per class, in memory.

Two layouts of `data_dir` are understood:

* Flat: `data_dir/<class>/<image>` (images may sit in nested folders below a class
  folder). A stratified fraction `test_fraction` (default 0.2), fixed by `seed`, is held
  out as the test split (`sklearn.model_selection.train_test_split`).
* Split: `data_dir/train/<class>/...` and `data_dir/test/<class>/...`, used as they are.
  The test tree may lack some classes (or hold them as empty folders) but must not add
  any. A `train/` without a `test/` is read like a flat `data_dir` (a fraction is held out).

Class names are the class folders' names, sorted; label `i` is `class_names[i]`. Files
with the extensions in `IMAGE_EXTENSIONS` (any case) are read; other files and anything
whose name starts with "." are ignored. Images are decoded with `tf.io.decode_image`
(PNG, JPEG, BMP, GIF: first frame, WebP; palette BMPs with Pillow) to RGB (alpha
dropped, grey repeated) and resized, aspect ratio not kept, to
`image_size × image_size` with `tf.image.resize(antialias=True)`, then stored as uint8.
When every image of the folder is grey (equal R, G and B), a single channel is kept.

A file that cannot be read or decoded (corrupt, empty, not really an image) is skipped,
and one warning at load time says how many files were skipped and which; they are also
listed in `FolderSource.skipped_files`. Loading never fails later, mid-epoch, because
everything is decoded up front.

Batching, resuming, per-process sharding and normalisation (per channel, with the
training split's statistics) are those of every in-memory source
(`mixjax.data.arrays.ArraySource`).
"""

from __future__ import annotations

import dataclasses
import os
import warnings

import numpy as np
import tensorflow as tf

from mixjax import _checks
from mixjax.data import _tf
from mixjax.data import arrays
from mixjax.data import base
from mixjax.data import splits

# Lower-case file name extensions that are decoded; other files are ignored.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".webp")
# Side of the square images when `image_size` is None.
DEFAULT_IMAGE_SIZE = 32
# Held-out fraction of the flat layout when `test_fraction` is None.
DEFAULT_TEST_FRACTION = 0.2
# Images per tf.data batch while decoding.
_DECODE_BATCH = 256
# At most this many skipped files are named in the start-up warning.
_MAX_LISTED = 20


class FolderSource(arrays.ArraySource):
  """An `ArraySource` read from an image folder, remembering which file is which.

  Attributes:
    class_names: the class folders' names, sorted; label `i` is `class_names[i]`.
    train_files: the path of each training example, in the training split's order.
    test_files: the path of each test example, in the test split's order (the order of
      `eval_batches` and of `mixjax.training.loop.predict` for a single process).
    skipped_files: the image files that could not be read or decoded, sorted.
  """

  train_files: tuple[str, ...]
  test_files: tuple[str, ...]
  skipped_files: tuple[str, ...]


def load_folder_source(
  data_dir: str,
  *,
  seed: int,
  image_size: int | None = None,
  test_fraction: float | None = None,
  label_noise: float = 0.0,
  process_index: int = 0,
  process_count: int = 1,
) -> FolderSource:
  """Loads an image folder (see the module docstring for the layouts) into memory.

  Args:
    data_dir: the folder.
    seed: an int in [0, 2**32); fixes the held-out split, the label noise and the order
      of every epoch.
    image_size: the side of the square images, a positive int; None uses
      `DEFAULT_IMAGE_SIZE` (32).
    test_fraction: the held-out fraction of the flat layout, in (0, 1); None uses
      `DEFAULT_TEST_FRACTION` (0.2). Must be None for the split layout.
    label_noise: fraction of training labels redrawn uniformly from all classes, in
      [0, 1] (`mixjax.data.noise.corrupt_labels`).
    process_index: this process, in `[0, process_count)`.
    process_count: the number of processes sharing each global batch.

  Returns:
    A `FolderSource` with uint8 images `[image_size, image_size, C]`, C = 3 (or 1 for
    an all-grey folder).

  Raises:
    FileNotFoundError: `data_dir` does not exist or is not a folder.
    ValueError: fewer than 2 class folders, a class folder without readable images, a
      test class absent from training, or a bad argument.
  """
  seed, label_noise, process_index, process_count = base.check_source_args(
    seed, label_noise, process_index, process_count
  )
  if image_size is None:
    image_size = DEFAULT_IMAGE_SIZE
  image_size = _checks.check_positive_int(image_size, "image_size")
  layout = _find_layout(data_dir, test_fraction)
  images = _read_images(layout, image_size)
  if layout.test_fraction is None:
    train, test = np.flatnonzero(~images.is_test), np.flatnonzero(images.is_test)
  else:
    train, test = splits.stratified_split(
      images.labels,
      test_fraction=layout.test_fraction,
      seed=seed,
      dataset=data_dir,
      unit="images",
    )
    train, test = np.sort(train), np.sort(test)
  source = FolderSource.from_splits(
    "folder",
    num_classes=len(layout.class_names),
    train_inputs=images.pixels[train],
    train_labels=images.labels[train],
    test_inputs=images.pixels[test],
    test_labels=images.labels[test],
    seed=seed,
    label_noise=label_noise,
    process_index=process_index,
    process_count=process_count,
    class_names=layout.class_names,
  )
  source.train_files = tuple(images.files[i] for i in train)
  source.test_files = tuple(images.files[i] for i in test)
  source.skipped_files = images.skipped
  return source


@dataclasses.dataclass(frozen=True)
class _Layout:
  """The image files of a folder, by split and class.

  Attributes:
    data_dir: the folder.
    train: {class name: sorted image paths} of the training tree (or the whole folder).
    test: the same for the test tree; empty when a fraction is held out instead.
    class_names: the training classes, sorted; label `i` is `class_names[i]`.
    ignored: how many files that are not images were ignored.
    test_fraction: the fraction to hold out, or None when there is a test tree.
  """

  data_dir: str
  train: dict[str, list[str]]
  test: dict[str, list[str]]
  class_names: tuple[str, ...]
  ignored: int
  test_fraction: float | None


def _find_layout(data_dir: str, test_fraction: float | None) -> _Layout:
  """Lists the image files of `data_dir` in either layout; checks the classes."""
  if not isinstance(data_dir, str) or not data_dir:
    raise ValueError(f"`data_dir` must name the image folder, got {data_dir!r}.")
  if not tf.io.gfile.isdir(data_dir):
    raise FileNotFoundError(
      f"`data_dir`={data_dir!r} is not an existing folder; expected one sub-folder of images "
      "per class (or train/ and test/ trees of them)."
    )
  train_dir, test_dir = os.path.join(data_dir, "train"), os.path.join(data_dir, "test")
  if tf.io.gfile.isdir(train_dir) and tf.io.gfile.isdir(test_dir):
    if test_fraction is not None:
      raise ValueError(
        f"`test_fraction` applies only to folders without a test/ tree, got {test_fraction!r} "
        f"for {data_dir!r}, which has train/ and test/."
      )
    (train, ignored), (test, ignored_test) = _list_classes(train_dir), _list_classes(test_dir)
    ignored += ignored_test
    test = {name: paths for name, paths in test.items() if paths}  # Empty: a lacking class.
    extra = sorted(set(test) - set(train))
    if extra:
      raise ValueError(
        f"{test_dir!r} has class folders that {train_dir!r} lacks: {extra}; the test tree "
        "must use the training classes."
      )
  else:
    test_fraction = splits.check_test_fraction(test_fraction, DEFAULT_TEST_FRACTION)
    train, ignored = _list_classes(train_dir if tf.io.gfile.isdir(train_dir) else data_dir)
    test = {}
  class_names = tuple(sorted(train))
  if len(class_names) < 2:
    raise ValueError(
      f"`data_dir`={data_dir!r} needs at least 2 classes (one sub-folder of images each), "
      f"found {len(class_names)}: {list(class_names)}."
    )
  return _Layout(data_dir, train, test, class_names, ignored, test_fraction)


@dataclasses.dataclass(frozen=True)
class _Images:
  """The readable images of a folder, in the order of its files.

  Attributes:
    pixels: uint8 `[n, size, size, C]`, C = 1 when every image is grey, else 3.
    labels: int64 `[n]`.
    is_test: bool `[n]`, True for the files of the test tree.
    files: the `n` paths.
    skipped: the image files that could not be read or decoded, sorted.
  """

  pixels: np.ndarray
  labels: np.ndarray
  is_test: np.ndarray
  files: list[str]
  skipped: tuple[str, ...]


def _read_images(layout: _Layout, image_size: int) -> _Images:
  """Decodes every image file of both trees; warns once about the unreadable ones."""
  label_of = {name: i for i, name in enumerate(layout.class_names)}
  files, labels, is_test = [], [], []
  for tree, test in ((layout.train, False), (layout.test, True)):
    for name in sorted(tree):
      files += tree[name]
      labels += [label_of[name]] * len(tree[name])
      is_test += [test] * len(tree[name])
  pixels, readable = _decode(files, image_size)
  skipped = tuple(sorted(set(files) - {files[i] for i in readable}))
  kept = [files[i] for i in readable]
  _check_every_class_readable((layout.train, layout.test), set(kept), skipped, layout.ignored)
  if skipped:
    listed = ", ".join(skipped[:_MAX_LISTED])
    more = f" and {len(skipped) - _MAX_LISTED} more" if len(skipped) > _MAX_LISTED else ""
    warnings.warn(
      f"Skipped {len(skipped)} unreadable image file(s) in {layout.data_dir!r}: {listed}{more}.",
      stacklevel=3,
    )
  if _all_grey(pixels):
    pixels = np.ascontiguousarray(pixels[..., :1])
  labels = np.asarray(labels, np.int64)[readable]
  return _Images(pixels, labels, np.asarray(is_test, bool)[readable], kept, skipped)


def _is_hidden(name: str) -> bool:
  return name.startswith(".")


def _list_classes(root: str) -> tuple[dict[str, list[str]], int]:
  """The image files of each class folder of `root`, and how many other files were ignored.

  Returns:
    `({class name: sorted image paths}, number of ignored non-image files)`.
  """
  classes, ignored = {}, 0
  for entry in sorted(tf.io.gfile.listdir(root)):
    name = entry.rstrip("/")
    path = os.path.join(root, name)
    if _is_hidden(name) or not tf.io.gfile.isdir(path):
      continue
    paths = []
    for folder, subdirs, filenames in tf.io.gfile.walk(path):
      subdirs[:] = [d for d in subdirs if not _is_hidden(d)]
      for filename in filenames:
        if _is_hidden(filename):
          continue
        if os.path.splitext(filename)[1].lower() in IMAGE_EXTENSIONS:
          paths.append(os.path.join(folder, filename))
        else:
          ignored += 1
    classes[name] = sorted(paths)
  return classes, ignored


def _check_every_class_readable(
  trees: tuple[dict[str, list[str]], ...],
  readable: set[str],
  skipped: tuple[str, ...],
  ignored: int,
) -> None:
  """Raises a ValueError naming the first class folder without a readable image."""
  for tree in trees:
    for name, paths in sorted(tree.items()):
      if any(p in readable for p in paths):
        continue
      folder = os.path.dirname(paths[0]) if paths else name
      if paths:
        bad = [p for p in paths if p in skipped][:_MAX_LISTED]
        raise ValueError(
          f"Class folder {name!r} has no readable images: its {len(paths)} image file(s) "
          f"could not be decoded ({', '.join(bad)})."
        )
      raise ValueError(
        f"Class folder {name!r} (under {folder!r}) has no image files with extensions "
        f"{IMAGE_EXTENSIONS} ({ignored} other file(s) in the folder tree were ignored)."
      )


def _is_palette_bmp(path: str) -> bool:
  """Whether `path` holds a BMP of at most 8 bits per pixel (palette indices), which
  `tf.io.decode_bmp` returns as the indices themselves."""
  try:
    with open(path, "rb") as f:
      header = f.read(30)
  except OSError:
    return False
  return len(header) == 30 and header[:2] == b"BM" and int.from_bytes(header[28:], "little") <= 8


def _resized(image: tf.Tensor, image_size: int) -> tf.Tensor:
  """uint8 `[h, w, 3]` -> uint8 `[image_size, image_size, 3]`, antialiased."""
  image = tf.image.resize(image, (image_size, image_size), antialias=True)
  return tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)


def _to_rgb(image: tf.Tensor) -> tf.Tensor:
  """uint8 `[h, w, C]`, C in 1-4 (grey, grey + alpha, RGB, RGBA) -> RGB, alpha dropped."""
  grey = lambda: tf.image.grayscale_to_rgb(image[..., :1])
  return tf.cond(tf.shape(image)[-1] < 3, grey, lambda: image[..., :3])


def _decode_palette_bmps(
  paths: list[str], indices: list[int], image_size: int
) -> tuple[list[np.ndarray], list[int]]:
  """The palette BMPs among `paths`, decoded with Pillow (matplotlib's dependency)."""
  from PIL import Image

  images, readable = [], []
  for i in indices:
    try:
      with Image.open(paths[i]) as image:
        rgb = np.asarray(image.convert("RGB"))
    except (OSError, ValueError):
      continue
    images.append(_resized(tf.constant(rgb), image_size).numpy()[None])
    readable.append(i)
  return images, readable


def _decode(paths: list[str], image_size: int) -> tuple[np.ndarray, np.ndarray]:
  """Decodes and resizes every readable file of `paths`, in parallel with tf.data.

  Palette BMPs (which `tf.io.decode_bmp` reads as their indices) go through Pillow; every
  other file through `tf.io.decode_image` at its own channel count, then to RGB.

  Returns:
    `(images, readable)`: uint8 `[n, image_size, image_size, 3]` and the int64 indices
    into `paths` of the `n` files that decoded, increasing.
  """
  palette = [i for i, path in enumerate(paths) if _is_palette_bmp(path)]
  rest = np.setdiff1d(np.arange(len(paths), dtype=np.int64), palette)

  def decode(index: tf.Tensor, path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    image = tf.io.decode_image(
      tf.io.read_file(path), channels=0, dtype=tf.uint8, expand_animations=False
    )
    return index, _resized(_to_rgb(image), image_size)

  images, indices = _decode_palette_bmps(paths, palette, image_size)
  if len(rest):
    ds = tf.data.Dataset.from_tensor_slices((rest, [paths[i] for i in rest]))
    # A file that fails to read or decode raises inside `map`; `ignore_errors` drops just
    # that element, and the missing indices tell which files were skipped.
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.ignore_errors().batch(_DECODE_BATCH).prefetch(tf.data.AUTOTUNE)
    ds = ds.with_options(_tf.deterministic_options())
    for index, image in ds.as_numpy_iterator():
      indices += list(index)
      images.append(image)
  if not images:
    return np.zeros((0, image_size, image_size, 3), np.uint8), np.zeros((0,), np.int64)
  order = np.argsort(indices, kind="stable")
  return np.concatenate(images)[order], np.asarray(indices, np.int64)[order]


def _all_grey(images: np.ndarray) -> bool:
  """Whether R, G and B are equal in every pixel of uint8 `[n, H, W, 3]` images."""
  return bool(
    np.array_equal(images[..., 0], images[..., 1])
    and np.array_equal(images[..., 0], images[..., 2])
  )
