"""Google Speech Commands (tfds `speech_commands`) as log-mel spectrogram images.

The tfds dataset (Warden 2018, version 0.02 of the recordings) has 12 classes: the ten
words yes, no, up, down, left, right, on, off, stop, go, plus `_silence_` and
`_unknown_` (every other word). Its `audio` feature is int16 PCM at 16 kHz, at most one
second long; splits are `train`, `validation` and `test`. Training here uses `train` and
evaluation uses `test`.

Each clip becomes a `[frames, mels, 1]` float array, so that the image models and every
mixing op (mixup, CutMix, ...) apply unchanged:

1. the waveform is scaled to [-1, 1) and zero-padded at the end (or cut) to exactly
   `clip_samples` samples (one second);
2. `tf.signal.stft` with a periodic Hann window (25 ms frames every 10 ms by default, no
   padding at the end), then the power spectrum;
3. a mel filterbank from `tf.signal.linear_to_mel_weight_matrix` (40 bins from 20 Hz to
   8 kHz by default), then `log(mel + log_offset)`.

With the defaults one clip is `[98, 40, 1]`. The spectrograms are computed once, with a
batched tf.data map, and held in memory as **float16** NumPy arrays (half the memory of
float32; the log-mels lie in about [-14, 20], where float16 keeps ~3 significant
digits): roughly 0.7 GB for the ~85k training clips. They feed an
:class:`mixjax.data.arrays.ArraySource`, which normalises with the training split's mean
and standard deviation and returns float32 batches, so batching, resuming and
per-process sharding work exactly as for the other in-memory datasets.

Nothing is ever downloaded: when the dataset is not prepared in `data_dir`, loading
raises `FileNotFoundError` saying how to prepare it (`tfds build speech_commands
--data_dir=DIR` on a machine with internet access; the builder needs `pydub`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from mixjax import _checks
from mixjax.data import _tf
from mixjax.data import arrays
from mixjax.data import base
from mixjax.data import tfds_images

NAME = "speech_commands"
# Clips per tf.data batch when computing the spectrograms.
_LOAD_BATCH = 512
# int16 full scale.
_INT16_SCALE = 32768.0


@dataclasses.dataclass(frozen=True)
class SpectrogramConfig:
  """How a clip becomes a log-mel spectrogram.

  Attributes:
    sample_rate: the audio's sample rate in Hz.
    clip_samples: every clip is zero-padded at the end, or cut, to this many samples.
    frame_length: STFT window length in samples (400 = 25 ms at 16 kHz).
    frame_step: STFT hop in samples (160 = 10 ms at 16 kHz).
    fft_length: FFT size, at least `frame_length`; None uses the next power of two.
    num_mel_bins: mel bands, the width of the spectrogram "image".
    lower_edge_hertz: lowest frequency of the mel filterbank.
    upper_edge_hertz: highest frequency of the mel filterbank, at most `sample_rate / 2`.
    log_offset: added to the mel energies before the log, so silence stays finite.
  """

  sample_rate: int = 16_000
  clip_samples: int = 16_000
  frame_length: int = 400
  frame_step: int = 160
  fft_length: int | None = None
  num_mel_bins: int = 40
  lower_edge_hertz: float = 20.0
  upper_edge_hertz: float = 8_000.0
  log_offset: float = 1e-6

  def __post_init__(self):
    for field in ("sample_rate", "clip_samples", "frame_length", "frame_step", "num_mel_bins"):
      _checks.check_positive_int(getattr(self, field), field)
    if self.frame_length > self.clip_samples:
      raise ValueError(
        f"`frame_length` must be at most clip_samples={self.clip_samples}, got {self.frame_length}."
      )
    if self.fft_length is not None:
      expected = f"None or an int >= frame_length={self.frame_length}"
      base.check_int(self.fft_length, "fft_length", low=self.frame_length, expected=expected)
    if not 0.0 <= self.lower_edge_hertz < self.upper_edge_hertz <= self.sample_rate / 2:
      raise ValueError(
        "The mel filterbank needs 0 <= lower_edge_hertz < upper_edge_hertz <= "
        f"sample_rate / 2 = {self.sample_rate / 2}, got lower_edge_hertz="
        f"{self.lower_edge_hertz!r} and upper_edge_hertz={self.upper_edge_hertz!r}."
      )
    if not self.log_offset > 0:
      raise ValueError(f"`log_offset` must be positive, got {self.log_offset!r}.")

  @property
  def fft_size(self) -> int:
    """The FFT size actually used."""
    return self.fft_length or 2 ** math.ceil(math.log2(self.frame_length))

  @property
  def num_frames(self) -> int:
    """Spectrogram frames of one clip (the STFT does not pad the end)."""
    return 1 + (self.clip_samples - self.frame_length) // self.frame_step

  @property
  def input_shape(self) -> tuple[int, int, int]:
    """`(frames, mels, 1)`, the shape of one example."""
    return (self.num_frames, self.num_mel_bins, 1)


def pad_or_crop(audio: tf.Tensor, length: int) -> tf.Tensor:
  """The first `length` samples of the 1-D `audio`, zero-padded at the end if shorter."""
  audio = audio[:length]
  audio = tf.pad(audio, [[0, length - tf.shape(audio)[0]]])
  return tf.ensure_shape(audio, [length])


def log_mel_spectrogram(
  waveforms: tf.Tensor, config: SpectrogramConfig = SpectrogramConfig()
) -> tf.Tensor:
  """Log-mel spectrograms of a batch of waveforms.

  Args:
    waveforms: float32 `[batch, config.clip_samples]`, scaled to about [-1, 1].
    config: the STFT and filterbank parameters.

  Returns:
    float32 `[batch, config.num_frames, config.num_mel_bins]`:
    `log(mel_filterbank(|STFT|^2) + config.log_offset)`.
  """
  stft = tf.signal.stft(
    waveforms,
    frame_length=config.frame_length,
    frame_step=config.frame_step,
    fft_length=config.fft_size,
    window_fn=tf.signal.hann_window,
  )
  power = tf.math.square(tf.math.abs(stft))
  mel_matrix = tf.signal.linear_to_mel_weight_matrix(
    num_mel_bins=config.num_mel_bins,
    num_spectrogram_bins=config.fft_size // 2 + 1,
    sample_rate=config.sample_rate,
    lower_edge_hertz=config.lower_edge_hertz,
    upper_edge_hertz=config.upper_edge_hertz,
  )
  mel = tf.tensordot(power, mel_matrix, axes=1)
  return tf.math.log(mel + config.log_offset)


@dataclasses.dataclass(frozen=True)
class SpeechData:
  """Both splits as spectrograms, computed once; `source` builds a source per seed.

  Attributes:
    train_inputs: float16 `[num_train, frames, mels, 1]` log-mel spectrograms.
    train_labels: int64 `[num_train]`.
    test_inputs: float16 `[num_test, frames, mels, 1]`.
    test_labels: int64 `[num_test]`.
    num_classes: number of classes (12 for tfds speech_commands).
    label_names: the class names, index by label.
    spectrogram: how the spectrograms were computed.
  """

  train_inputs: np.ndarray
  train_labels: np.ndarray
  test_inputs: np.ndarray
  test_labels: np.ndarray
  num_classes: int
  label_names: tuple[str, ...]
  spectrogram: SpectrogramConfig

  def source(
    self,
    *,
    seed: int,
    label_noise: float = 0.0,
    process_index: int = 0,
    process_count: int = 1,
  ) -> arrays.ArraySource:
    """This process's in-memory source of normalised float32 batches.

    Args:
      seed: an int in [0, 2**32); fixes the label noise and the order of every epoch.
      label_noise: fraction of training labels redrawn uniformly, in [0, 1].
      process_index: this process, in `[0, process_count)`.
      process_count: the number of processes sharing each global batch.

    Returns:
      An :class:`mixjax.data.arrays.ArraySource` named `speech_commands`.
    """
    return arrays.ArraySource.from_splits(
      NAME,
      num_classes=self.num_classes,
      train_inputs=self.train_inputs,
      train_labels=self.train_labels,
      test_inputs=self.test_inputs,
      test_labels=self.test_labels,
      seed=seed,
      label_noise=label_noise,
      process_index=process_index,
      process_count=process_count,
    )


def _check_max_examples(value: int | None, name: str) -> int | None:
  if value is None:
    return None
  return base.check_int(value, name, low=1, expected="None (all) or a positive int")


def _load_split(
  builder: tfds.core.DatasetBuilder,
  split: str,
  *,
  data_dir: str | None,
  spectrogram: SpectrogramConfig,
  max_examples: int | None,
) -> tuple[np.ndarray, np.ndarray]:
  """One split, in its stored order, as (float16 spectrograms, int64 labels)."""
  read_config = tfds.ReadConfig(try_autocache=False)
  ds = tfds_images.as_dataset(  # Raises FileNotFoundError if the data are not prepared.
    builder, data_dir, split=split, shuffle_files=False, read_config=read_config
  )
  if max_examples is not None:
    ds = ds.take(max_examples)

  def waveform(example):
    audio = tf.cast(example["audio"], tf.float32) / _INT16_SCALE
    return pad_or_crop(audio, spectrogram.clip_samples), example["label"]

  def features(audio, label):
    return log_mel_spectrogram(audio, spectrogram)[..., None], label

  ds = ds.map(waveform, num_parallel_calls=tf.data.AUTOTUNE).batch(_LOAD_BATCH)
  ds = ds.map(features, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
  inputs, labels = [], []
  for batch_inputs, batch_labels in tfds.as_numpy(ds.with_options(_tf.deterministic_options())):
    inputs.append(batch_inputs.astype(np.float16))
    labels.append(batch_labels.astype(np.int64))
  if not inputs:
    raise ValueError(f"Split {split!r} of tfds dataset {builder.name!r} has no examples.")
  return np.concatenate(inputs), np.concatenate(labels)


def load_speech_data(
  *,
  data_dir: str | None = None,
  spectrogram: SpectrogramConfig = SpectrogramConfig(),
  max_train_examples: int | None = None,
  max_test_examples: int | None = None,
) -> SpeechData:
  """Loads tfds `speech_commands` (train and test) as log-mel spectrograms in memory.

  Args:
    data_dir: the tfds data directory; None uses tfds's default (or TFDS_DATA_DIR).
    spectrogram: the STFT and filterbank parameters.
    max_train_examples: keep only the first this many training clips (stored order);
      None keeps all. For quick runs.
    max_test_examples: likewise for the test split.

  Returns:
    The :class:`SpeechData`.

  Raises:
    FileNotFoundError: the dataset is not prepared in `data_dir`.
  """
  max_train_examples = _check_max_examples(max_train_examples, "max_train_examples")
  max_test_examples = _check_max_examples(max_test_examples, "max_test_examples")
  builder = tfds.builder(NAME, data_dir=data_dir)
  label = builder.info.features["label"]
  splits = {}
  for split, max_examples in (("train", max_train_examples), ("test", max_test_examples)):
    splits[split] = _load_split(
      builder, split, data_dir=data_dir, spectrogram=spectrogram, max_examples=max_examples
    )
  return SpeechData(
    train_inputs=splits["train"][0],
    train_labels=splits["train"][1],
    test_inputs=splits["test"][0],
    test_labels=splits["test"][1],
    num_classes=label.num_classes,
    label_names=tuple(label.names),
    spectrogram=spectrogram,
  )


def load_speech_source(
  *,
  seed: int,
  label_noise: float = 0.0,
  process_index: int = 0,
  process_count: int = 1,
  data_dir: str | None = None,
  spectrogram: SpectrogramConfig = SpectrogramConfig(),
  max_train_examples: int | None = None,
  max_test_examples: int | None = None,
) -> arrays.ArraySource:
  """Loads tfds `speech_commands` as this process's source of spectrogram batches.

  Args:
    seed: an int in [0, 2**32); fixes the label noise and the order of every epoch.
    label_noise: fraction of training labels redrawn uniformly, in [0, 1].
    process_index: this process, in `[0, process_count)`.
    process_count: the number of processes sharing each global batch.
    data_dir: the tfds data directory; None uses tfds's default (or TFDS_DATA_DIR).
    spectrogram: the STFT and filterbank parameters.
    max_train_examples: keep only the first this many training clips; None keeps all.
    max_test_examples: keep only the first this many test clips; None keeps all.

  Returns:
    An :class:`mixjax.data.arrays.ArraySource` whose batches have `image` float32
    `[b, frames, mels, 1]` (`[b, 98, 40, 1]` with the defaults) and `label` int32 `[b]`.

  Raises:
    FileNotFoundError: the dataset is not prepared in `data_dir`.
  """
  # Checked once here, before the minutes-long load (`SpeechData.source` passes them on).
  seed, label_noise, process_index, process_count = base.check_source_args(
    seed, label_noise, process_index, process_count
  )
  data = load_speech_data(
    data_dir=data_dir,
    spectrogram=spectrogram,
    max_train_examples=max_train_examples,
    max_test_examples=max_test_examples,
  )
  return data.source(
    seed=seed,
    label_noise=label_noise,
    process_index=process_index,
    process_count=process_count,
  )
