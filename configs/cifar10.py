"""The mixup paper's CIFAR-10 recipe (Zhang et al. 2017, section 3.2).

PreAct ResNet-18, SGD momentum 0.9, lr 0.1 divided by 10 at epochs 100 and 150,
200 epochs, weight decay 1e-4, batch 128, pad-4 random crop + horizontal flip,
mixup α = 1. The paper reports 3.1% median test error over the last 10 epochs
(ERM 5.6%) for this setting. Needs the tfds data (`tfds build cifar10`, or a
data_dir holding it) and, in practice, a GPU.

Run:
  python train.py --config configs/cifar10.py --workdir runs/cifar10_mixup
  python train.py --config configs/cifar10.py --workdir runs/cifar10_erm --config.mix=none
"""

from configs import default


def get_config():
  config = default.get_config()
  config.dataset = "cifar10"
  config.model = "preact_resnet18"
  config.augment = "crop_flip"
  config.num_epochs = 200
  config.batch_size = 128
  config.learning_rate = 0.1
  config.momentum = 0.9
  config.weight_decay = 1e-4
  config.lr_milestones = (100, 150)
  config.mix = "mixup"
  config.mixup_alpha = 1.0
  config.eval_batch_size = 512
  config.checkpoint_every_epochs = 5
  return config
