"""The embedded default: scikit-learn's bundled digits, small CNN, on 2 CPU cores.

1,797 8×8 grayscale images, 10 classes; stratified 1,347 train / 450 test by seed.

Run:
  python train.py --config configs/digits.py --workdir runs/digits/mixup
  python train.py --config configs/digits.py --workdir runs/digits/erm --config.mix=none
ERM vs mixup side by side (what `make train` runs):
  python -m mixjax.training.compare --config configs/digits.py --workdir runs/digits
"""

from configs import default


def get_config():
  config = default.get_config()
  config.dataset = "digits"
  config.model = "small_cnn"
  config.num_epochs = 30
  config.batch_size = 64
  config.learning_rate = 0.05
  config.lr_milestones = (20, 26)
  config.weight_decay = 5e-4
  config.mix = "mixup"
  config.mixup_alpha = 0.4
  return config
