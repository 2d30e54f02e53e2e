"""The embedded default: scikit-learn's bundled digits, small CNN, on 2 CPU cores.

1,797 8×8 grayscale images, 10 classes; stratified 1,347 train / 450 test by seed.

Run:
  python train.py --config configs/digits.py --workdir runs/digits/mixup
  python train.py --config configs/digits.py --workdir runs/digits/erm --config.mix=none
ERM vs mixup side by side (what `make train` runs):
  python -m mixjax.training.compare --config configs/digits.py --workdir runs/digits
"""

from mixjax.training.config import default_config


def get_config():
  config = default_config()
  config.dataset = "digits"  # sklearn's 8×8 digits, offline.
  config.model = "small_cnn"  # ~24k parameters.
  config.num_epochs = 30  # Epochs over the 1,347 training images.
  config.batch_size = 64  # Global batch.
  config.learning_rate = 0.05  # SGD with momentum 0.9.
  config.lr_milestones = (20, 26)  # lr ÷10 after epochs 20 and 26.
  config.weight_decay = 5e-4  # L2 penalty.
  config.mix = "mixup"  # In-graph mixup.
  config.mixup_alpha = 0.4  # Beta(0.4, 0.4) for λ.
  return config
