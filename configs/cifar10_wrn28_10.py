"""WRN-28-10 on CIFAR-10 with mixup (paper: 2.7% median error, ERM 3.8%).

Same schedule as configs/cifar10.py (200 epochs, lr 0.1 ÷10 at 100/150, wd 1e-4).

Run:
  python train.py --config configs/cifar10_wrn28_10.py --workdir runs/c10_wrn
  python train.py --config configs/cifar10_wrn28_10.py --workdir runs/c100_wrn \
      --config.dataset=cifar100
"""

import os

from mixjax.training.config import load_config_file


def get_config():
  config = load_config_file(os.path.join(os.path.dirname(__file__), "cifar10.py"))
  config.model = "wrn28_10"  # Wide ResNet, depth 28, width ×10 (36.5M parameters).
  return config
