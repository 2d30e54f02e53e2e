"""The mixup paper's CIFAR-100 recipe: the CIFAR-10 one (configs/cifar10.py) on 100 classes.

The paper reports 21.1% median test error with PreAct ResNet-18 and mixup α = 1
(ERM 25.6%).

Run:
  python train.py --config configs/cifar100.py --workdir runs/cifar100_mixup
"""

import os

from mixjax.training.config import load_config_file


def get_config():
  config = load_config_file(os.path.join(os.path.dirname(__file__), "cifar10.py"))
  config.dataset = "cifar100"  # tfds cifar100: 50k train / 10k test, 100 classes.
  return config
