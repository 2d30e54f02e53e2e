"""The mixup paper's CIFAR-100 recipe: the CIFAR-10 one on 100 classes.

The paper reports 21.1% median test error with PreAct ResNet-18 and mixup α = 1
(ERM 25.6%).

Run:
  python train.py --config configs/cifar100.py --workdir runs/cifar100_mixup
"""

from configs import cifar10


def get_config():
  config = cifar10.get_config()
  config.dataset = "cifar100"
  return config
