"""MNIST-1D (Greydanus & Kobak 2020): 4,000 / 1,000 signals of length 40, the paper's CNN.

Generated offline by the `mnist1d` package on first use and cached in ~/.cache/mixjax.
The model is the benchmark's own 1-D CNN (`mnist1d_cnn`, 5,210 parameters); the dataset's
README reports 94% test accuracy for it (logistic regression 32%, MLP 68%, GRU 91%,
human 96%). `--config.dataset=mnist1d_shuffle` permutes the 40 positions (CNN 56% there).

Run:
  python train.py --config configs/mnist1d.py --workdir runs/mnist1d/mixup
  python train.py --config configs/mnist1d.py --workdir runs/mnist1d/erm --config.mix=none
ERM vs mixup over 3 seeds, mean ± std beside the published baselines (`make train`):
  python -m mixjax.training.compare --config configs/mnist1d.py --workdir runs/mnist1d \
      --seeds=0,1,2
"""

from mixjax.training.config import default_config


def get_config():
  config = default_config()
  config.dataset = "mnist1d"  # Generated offline, cached; "mnist1d_shuffle" for the shuffled one.
  config.model = "mnist1d_cnn"  # The benchmark's CNN: 3 strided 1-D convolutions, 25 channels.
  config.num_epochs = 30  # Epochs over the 4,000 training signals (1,200 steps).
  config.batch_size = 128  # Global batch (the benchmark uses 100; 128 splits over 8 devices).
  config.optimizer = "adam"  # Adam, as in the benchmark's training script.
  config.learning_rate = 0.01  # The benchmark's Adam learning rate.
  config.lr_milestones = (20, 26)  # lr ÷10 after epochs 20 and 26.
  config.weight_decay = 0.0  # None, as in the benchmark.
  config.mix = "mixup"  # In-graph mixup.
  config.mixup_alpha = 0.4  # Beta(0.4, 0.4) for λ.
  config.checkpoint_every_epochs = 30  # Checkpoint at the end only (short runs).
  return config
