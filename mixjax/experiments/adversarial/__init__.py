"""Adversarial robustness (mixup paper §3.5): FGSM / I-FGSM attacks and the experiment.

Modules:
  attacks: FGSM and iterative FGSM on any `apply_fn(variables, inputs) -> logits`.
  experiment: `run(out_dir, ...)`, ERM vs mixup under white- and black-box attacks.
"""

from mixjax.experiments.adversarial.experiment import add_arguments
from mixjax.experiments.adversarial.experiment import run

__all__ = ("add_arguments", "run")
