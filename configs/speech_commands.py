"""mixup on Google Speech Commands log-mel spectrograms (after Zhang et al. 2017, section 3.3).

The recipe lives in the package, `mixjax.experiments.speech.recipe.get_config` (documented
there, one comment per field): tfds `speech_commands` as [98, 40, 1] log-mel
spectrograms, SmallCNN, Adam at 3e-3 divided by 10 after epochs 10 and 20, 30 epochs,
mixup α = 0.1.

SmallCNN keeps the full 98×40 resolution in its first two convolutions: on two shared
CPU cores it trains at only tens of clips per second (about an hour per epoch), so run
the full recipe on an accelerator, or try it with `--config.num_epochs` small.

The data must be prepared first, on a machine with internet access (the builder needs
`pip install pydub`):  tfds build speech_commands --data_dir=DIR

Run:
  python train.py --config configs/speech_commands.py --workdir runs/speech/mixup \
    --config.data_dir=DIR
  python train.py --config configs/speech_commands.py --workdir runs/speech/erm \
    --config.data_dir=DIR --config.mix=none
ERM and mixup at several α, with a table and a plot:
  python -m mixjax.experiments speech --out runs/speech --data_dir DIR
"""

from mixjax.experiments.speech import recipe


def get_config():
  return recipe.get_config()
