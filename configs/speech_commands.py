"""mixup on Google Speech Commands log-mel spectrograms (after Zhang et al. 2017, section 3.3).

tfds `speech_commands` (12 classes: ten words, silence, unknown), each clip a 1 s log-mel
spectrogram of shape [98, 40, 1] (25 ms frames every 10 ms, 40 mel bins; see
mixjax/data/speech.py), trained with SmallCNN, the package's small image CNN (the paper's
speech models are not in mixjax). Adam at 3e-3, divided by 10 after epochs 10 and 20, 30
epochs, mixup α = 0.1 (a small α, as commonly used for this task; not tuned here). Mixing
is on from the first step.

SmallCNN keeps the full 98×40 resolution in its first two convolutions: on two shared
CPU cores it trains at only tens of clips per second (about an hour per epoch), so run
the full recipe on an accelerator, or try it with `--config.num_epochs` small.

The data must be prepared first, on a machine with internet access (the builder needs
`pip install pydub`):  tfds build speech_commands --data_dir=DIR

Run:
  python train.py --config configs/speech_commands.py --workdir runs/speech/mixup \
    --config.data_dir=DIR
  python train.py --config configs/speech_commands.py --workdir runs/speech/erm \
    --config.data_dir=DIR --config.mix=none
ERM and mixup at several α, with a table and a plot:
  python -m mixjax.experiments speech --out runs/speech --data-dir DIR
"""

from configs import default


def get_config():
  config = default.get_config()
  config.dataset = "speech_commands"  # tfds speech_commands as [98, 40, 1] log-mels.
  config.model = "small_cnn"  # 3 conv layers, global average pooling, ~24k parameters.
  config.num_epochs = 30  # Epochs over the ~85k training clips.
  config.batch_size = 128  # Global batch; divisible by 1, 2, 4 and 8 devices.
  config.optimizer = "adam"  # Adam.
  config.learning_rate = 3e-3  # Initial learning rate.
  config.lr_milestones = (10, 20)  # Divide the learning rate by 10 after these epochs.
  config.lr_decay = 0.1  # Factor applied at each milestone.
  config.weight_decay = 0.0  # No L2 penalty with Adam here.
  config.mix = "mixup"  # Mixing of the spectrograms in the compiled step.
  config.mixup_alpha = 0.1  # Beta(α, α) for λ.
  config.eval_batch_size = 512  # The test split (~4.9k clips) in few batches.
  config.checkpoint_every_epochs = 1  # Epochs are long: checkpoint every one.
  return config
