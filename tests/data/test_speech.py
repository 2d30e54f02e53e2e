"""Tests for the speech_commands source (`mixjax.data.speech`); nothing is downloaded.

`tfds.testing.mock_data` stands in for the prepared dataset. Its default generator gives
every split the same few random int16 clips of random, very short lengths; a custom
`as_dataset_fn` gives fixed-length and over-long clips too.
"""

from __future__ import annotations

import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")
tf = pytest.importorskip("tensorflow")

from mixjax import data  # noqa: E402
from mixjax.data import speech  # noqa: E402

NUM_EXAMPLES = 24
SHAPE = (98, 40, 1)  # 1 + (16000 - 400) // 160 frames, 40 mel bins.


@pytest.fixture
def mock_tfds():
  with tfds.testing.mock_data(num_examples=NUM_EXAMPLES):
    yield


def _clips_dataset(lengths, labels):
  """A tfds-like dataset of random int16 clips of the given lengths."""
  rng = np.random.default_rng(0)
  clips = [rng.integers(-3000, 3000, n, dtype=np.int16) for n in lengths]

  def generate():
    for clip, label in zip(clips, labels, strict=True):
      yield {"audio": clip, "label": np.int64(label)}

  signature = {
    "audio": tf.TensorSpec([None], tf.int16),
    "label": tf.TensorSpec([], tf.int64),
  }
  return clips, tf.data.Dataset.from_generator(generate, output_signature=signature)


# ---------------------------------------------------------------------------------------
# Spectrograms


def test_default_spectrogram_shape():
  config = speech.SpectrogramConfig()
  assert (config.fft_size, config.num_frames, config.input_shape) == (512, 98, SHAPE)


@pytest.mark.parametrize(
  "kwargs, match",
  [
    (dict(frame_length=0), "frame_length"),
    (dict(frame_length=20_000), "frame_length"),
    (dict(fft_length=256), "fft_length"),
    (dict(upper_edge_hertz=9_000.0), "upper_edge_hertz"),
    (dict(log_offset=0.0), "log_offset"),
  ],
)
def test_spectrogram_config_rejects_bad_values(kwargs, match):
  with pytest.raises(ValueError, match=match):
    speech.SpectrogramConfig(**kwargs)


def test_spectrogram_config_messages_say_what_was_expected():
  with pytest.raises(ValueError, match=r"`num_mel_bins` must be a positive int, got True"):
    speech.SpectrogramConfig(num_mel_bins=True)
  with pytest.raises(ValueError, match=r"`fft_length` must be None or an int >= frame_length=400"):
    speech.SpectrogramConfig(fft_length=256)
  assert speech.SpectrogramConfig(fft_length=400).fft_size == 400


def test_arguments_are_checked_before_anything_is_read(tmp_path):
  # Nothing is prepared in tmp_path: a bad argument must be reported, not the missing data.
  for kwargs, match in [
    (dict(seed=-1), r"seed.*\[0, 2\*\*32\)"),
    (dict(label_noise=2.0), "label_noise"),
    (dict(process_index=1), "process_index"),
    (dict(max_train_examples=0), r"`max_train_examples` must be None \(all\) or a positive int"),
  ]:
    with pytest.raises(ValueError, match=match):
      speech.load_speech_source(**{"seed": 0, "data_dir": str(tmp_path), **kwargs})


@pytest.mark.parametrize("length", [9, 16_000, 20_000])
def test_pad_or_crop_keeps_the_first_second_and_pads_with_zeros(length):
  audio = tf.range(1, length + 1, dtype=tf.float32)
  out = speech.pad_or_crop(audio, 16_000).numpy()
  kept = min(length, 16_000)
  assert out.shape == (16_000,)
  np.testing.assert_array_equal(out[:kept], np.arange(1, kept + 1))
  assert not out[kept:].any()


def test_log_mel_of_silence_is_log_offset_and_tones_land_in_their_band():
  config = speech.SpectrogramConfig()
  t = np.arange(16_000) / 16_000
  waves = np.stack([np.zeros_like(t), 0.5 * np.sin(2 * np.pi * 500 * t)])
  waves = np.concatenate([waves, 0.5 * np.sin(2 * np.pi * 4_000 * t)[None]])
  out = speech.log_mel_spectrogram(tf.constant(waves, tf.float32), config).numpy()
  assert out.shape == (3, 98, 40) and np.isfinite(out).all()
  np.testing.assert_allclose(out[0], np.log(config.log_offset), rtol=1e-6)
  low_band, high_band = out[1].mean(0).argmax(), out[2].mean(0).argmax()
  assert 0 < low_band < high_band < 39


# ---------------------------------------------------------------------------------------
# The source


@pytest.fixture(scope="module")
def mock_speech_data():
  """The mock dataset, loaded once for the module (the mock is off again afterwards)."""
  with tfds.testing.mock_data(num_examples=NUM_EXAMPLES):
    return speech.load_speech_data()


def test_source_yields_float32_spectrograms_and_labels_in_range(mock_tfds):
  source = data.load_source("speech_commands", seed=0)
  info = source.info
  assert (info.name, info.num_classes, info.input_shape) == ("speech_commands", 12, SHAPE)
  assert (info.num_train, info.num_test) == (NUM_EXAMPLES, NUM_EXAMPLES)
  batches = list(source.train_batches(epoch=0, global_batch_size=8))
  assert len(batches) == NUM_EXAMPLES // 8
  for batch in batches:
    assert batch["image"].shape == (8, *SHAPE) and batch["image"].dtype == np.float32
    assert np.isfinite(batch["image"]).all()
    assert batch["label"].dtype == np.int32
    assert ((batch["label"] >= 0) & (batch["label"] < 12)).all()
  images = np.concatenate([b["image"] for b in batches])
  # Normalised with the training statistics: mean 0, std 1 over the whole split.
  assert abs(images.mean()) < 1e-2 and abs(images.std() - 1) < 1e-2
  evals = list(source.eval_batches(global_batch_size=16))
  assert sum(int(b["mask"].sum()) for b in evals) == NUM_EXAMPLES
  assert all(b["image"].shape == (16, *SHAPE) for b in evals)


def test_loading_is_deterministic(mock_tfds, mock_speech_data):
  assert mock_speech_data.train_inputs.dtype == np.float16
  assert mock_speech_data.train_inputs.shape == (NUM_EXAMPLES, *SHAPE)
  # An independent load, through load_source, gives the same batches for (seed, epoch).
  sources = [data.load_source("speech_commands", seed=3), mock_speech_data.source(seed=3)]
  batches = [list(s.train_batches(epoch=1, global_batch_size=8)) for s in sources]
  for a, b in zip(*batches, strict=True):
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(a["label"], b["label"])
  other_epoch = list(sources[0].train_batches(epoch=2, global_batch_size=8))
  assert any(
    not np.array_equal(a["image"], b["image"]) for a, b in zip(other_epoch, batches[0], strict=True)
  )


def test_label_noise_and_process_shares(mock_speech_data):
  noisy = mock_speech_data.source(seed=0, label_noise=0.5)
  assert len(noisy.corrupted_indices) == NUM_EXAMPLES // 2
  with pytest.raises(ValueError, match="seed"):
    mock_speech_data.source(seed=2**32)
  whole = next(mock_speech_data.source(seed=1).train_batches(epoch=0, global_batch_size=8))
  shares = [
    next(
      mock_speech_data.source(seed=1, process_index=i, process_count=2).train_batches(
        epoch=0, global_batch_size=8
      )
    )
    for i in range(2)
  ]
  np.testing.assert_array_equal(np.concatenate([s["image"] for s in shares]), whole["image"])


def test_fixed_length_and_long_clips():
  lengths, labels = [16_000, 20_000, 16_000, 700], [0, 5, 11, 3]
  clips, _ = _clips_dataset(lengths, labels)

  def as_dataset(self, split, **kwargs):
    del self, split, kwargs
    return _clips_dataset(lengths, labels)[1]

  with tfds.testing.mock_data(as_dataset_fn=as_dataset):
    loaded = speech.load_speech_data(max_test_examples=2)
  assert loaded.train_inputs.shape == (4, *SHAPE) and loaded.test_inputs.shape == (2, *SHAPE)
  np.testing.assert_array_equal(loaded.train_labels, labels)
  # A long clip is cut to its first second; a short one is zero-padded.
  waves = np.zeros((4, 16_000), np.float32)
  for i, clip in enumerate(clips):
    waves[i, : min(len(clip), 16_000)] = clip[:16_000] / 32768.0
  expected = speech.log_mel_spectrogram(tf.constant(waves)).numpy()[..., None]
  np.testing.assert_allclose(loaded.train_inputs, expected, rtol=1e-2, atol=1e-2)


def test_not_prepared_raises_file_not_found_with_instructions(tmp_path):
  with pytest.raises(FileNotFoundError, match="tfds build speech_commands"):
    speech.load_speech_data(data_dir=str(tmp_path))
