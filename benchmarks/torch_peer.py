"""The PyTorch peer of the train-step benchmark: PreAct ResNet-18 + mixup, the paper's way.

The mixup paper's own code is PyTorch: λ from `np.random.beta`, the partner from
`torch.randperm`, the blend on the batch, and the loss as λ·CE(y_i) + (1-λ)·CE(y_j) with SGD
(momentum 0.9, weight decay 1e-4). This module is that recipe, written for the benchmark
(architecture as in mixjax.training.models.PreActResNet18: 3×3 stem, [2, 2, 2, 2] pre-activation
blocks, final BN-ReLU).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class PreActBlock(nn.Module):
  def __init__(self, cin: int, cout: int, stride: int):
    super().__init__()
    self.bn1 = nn.BatchNorm2d(cin)
    self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
    self.bn2 = nn.BatchNorm2d(cout)
    self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
    self.shortcut = None
    if stride != 1 or cin != cout:
      self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False)

  def forward(self, x):
    out = F.relu(self.bn1(x))
    shortcut = self.shortcut(out) if self.shortcut is not None else x
    out = self.conv1(out)
    out = self.conv2(F.relu(self.bn2(out)))
    return out + shortcut


class PreActResNet18(nn.Module):
  def __init__(self, num_classes: int = 10):
    super().__init__()
    self.stem = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    blocks, cin = [], 64
    for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
      blocks += [PreActBlock(cin, cout, stride), PreActBlock(cout, cout, 1)]
      cin = cout
    self.blocks = nn.Sequential(*blocks)
    self.bn = nn.BatchNorm2d(512)
    self.fc = nn.Linear(512, num_classes)

  def forward(self, x):
    out = F.relu(self.bn(self.blocks(self.stem(x))))
    return self.fc(out.mean(dim=(2, 3)))


def make_step(model: nn.Module, *, mix: bool, alpha: float = 1.0, dtype=None):
  """One SGD step with (or without) mixup, as in the paper's train loop.

  `dtype` (e.g. `torch.bfloat16`) runs the forward pass and the loss under autocast on the
  images' device; None computes in float32.
  """
  optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
  criterion = nn.CrossEntropyLoss()

  def step(images: torch.Tensor, labels: torch.Tensor) -> float:
    model.train()
    autocast = torch.autocast(images.device.type, dtype=dtype, enabled=dtype is not None)
    with autocast:
      if mix:
        lam = float(np.random.beta(alpha, alpha))  # noqa: NPY002 - as the paper does
        index = torch.randperm(images.shape[0], device=images.device)
        images = lam * images + (1 - lam) * images[index]
        outputs = model(images)
        loss = lam * criterion(outputs, labels) + (1 - lam) * criterion(outputs, labels[index])
      else:
        loss = criterion(model(images), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss

  return step
