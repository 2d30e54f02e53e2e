"""ERM vs mixup on Google Speech Commands spectrograms (mixup paper §3.3).

Modules:
  recipe: the speech_commands training recipe (`get_config`, which
    configs/speech_commands.py returns) and the config of each run (`make_config`).
  experiment: `run(out_dir, ...)`, ERM and mixup at several α over seeds, with a table
    and a plot.
"""

from mixjax.experiments.speech.experiment import DEFAULT_ALPHAS
from mixjax.experiments.speech.experiment import add_arguments
from mixjax.experiments.speech.experiment import plot_errors
from mixjax.experiments.speech.experiment import results_table
from mixjax.experiments.speech.experiment import run
from mixjax.experiments.speech.experiment import summarize
from mixjax.experiments.speech.recipe import get_config
from mixjax.experiments.speech.recipe import make_config
from mixjax.experiments.speech.recipe import method_label
from mixjax.experiments.speech.recipe import method_name

__all__ = (
  "DEFAULT_ALPHAS",
  "add_arguments",
  "get_config",
  "make_config",
  "method_label",
  "method_name",
  "plot_errors",
  "results_table",
  "run",
  "summarize",
)
