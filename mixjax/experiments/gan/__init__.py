"""mixup stabilises GAN training on toy 2-D mixtures (Zhang et al. 2018, section 3.6).

The discriminator of a mixup GAN never sees a pure real or fake batch: it is trained on
`λ·x_real + (1-λ)·G(z)` with target λ (real = 1, fake = 0), λ ~ Beta(α, α), while the
generator keeps the usual (non-saturating) loss on its own samples:

  min_D  E ℓ(D(λ·x + (1-λ)·G(z)), λ),        min_G  E ℓ(D(G(z)), 1),

with ℓ the binary cross-entropy. Here both are one code path: the real and fake batches
are concatenated into `[real; fake]` with one-column labels `[1; 0]`, and
:func:`mixjax.mixup` with `pairing="flip"` pairs real example i with fake example B-1-i.
With α = 0 mixup returns the batch unchanged, which is exactly the plain GAN, so the two
methods share one compiled program and differ only in a traced α.

Data (the toy mixtures used by Metz et al. 2017 and Srivastava et al. 2017, VEEGAN):

* `ring`: 8 Gaussians, means evenly spaced on a circle of radius 2, std 0.02;
* `grid`: 25 Gaussians, means on the grid {-4, -2, 0, 2, 4}², std 0.05.

Models: generator and discriminator are MLPs with 3 hidden ReLU layers, batch 128, 5
discriminator steps per generator step, Adam; the generator's noise is 2-D or 10-D. The
paper's networks have 512 units per layer; at that width and 20,000 generator steps a
generator step costs about 60 ms on 2 CPU cores, i.e. some 8 hours for the 24 runs here,
so the defaults use 128 units and 4,000 steps and train the 6 runs of a (dataset, noise
size) pair side by side with `jax.vmap`. λ is drawn per mixed example
(`mix_mode="elem"`) and Adam uses lr 3e-4, β = (0.5, 0.99): in a pilot (z = 2, 3 seeds,
4,000 steps) lr 1e-3 left the mixup GAN's ring runs erratic (about 20% high-quality
samples), lr 1e-4 had not learned the grid yet, and at lr 1e-3 one λ per pair varied
less across seeds than one λ per batch.

Metrics on 2,500 samples from the final generator (as in VEEGAN and PacGAN, Lin et al.
2018): a sample is *high quality* if it lies within 3 std of its nearest mode; a mode is
*covered* if at least 20 high-quality samples have it as their nearest mode (a fifth of
the expected 100 per mode on the grid); `mode_kl` is KL(p̂ ‖ uniform) of the high-quality
samples' modes (0 = all modes equally often, log K = one mode).

Run it: `python -m mixjax.experiments gan --out runs/gan` (24 runs; 10-25 minutes on
2 CPU cores, depending on how busy they are), or `--quick` for a smoke test. The paper's
sizes: `--hidden 512 --steps 20000`.

Modules, one job each:
  config: :class:`GanConfig`, the quick settings and their checks.
  data: the toy mixtures and sampling from them.
  nets: the generator and discriminator MLPs, the optimiser and the train state.
  losses: the (mixup) discriminator loss and the generator loss.
  trainer: the train step and the vmapped trainer of a group of runs.
  metrics: mode coverage and sample quality, and the summary over seeds.
  plots: the three figures.
  experiment: `run` (results.json, results.md, PNGs) and its command-line options.
"""

from mixjax.experiments.gan.config import METHODS
from mixjax.experiments.gan.config import QUICK
from mixjax.experiments.gan.config import GanConfig
from mixjax.experiments.gan.config import check_config
from mixjax.experiments.gan.config import make_config
from mixjax.experiments.gan.config import method_alpha
from mixjax.experiments.gan.config import method_label
from mixjax.experiments.gan.data import DATASETS
from mixjax.experiments.gan.data import MAX_MODES
from mixjax.experiments.gan.data import Dataset
from mixjax.experiments.gan.data import grid
from mixjax.experiments.gan.data import padded_modes
from mixjax.experiments.gan.data import ring
from mixjax.experiments.gan.data import sample_data
from mixjax.experiments.gan.experiment import add_arguments
from mixjax.experiments.gan.experiment import results_table
from mixjax.experiments.gan.experiment import run
from mixjax.experiments.gan.experiment import train_all
from mixjax.experiments.gan.losses import discriminator_loss
from mixjax.experiments.gan.losses import generator_loss
from mixjax.experiments.gan.metrics import late_modes
from mixjax.experiments.gan.metrics import mode_metrics
from mixjax.experiments.gan.metrics import select
from mixjax.experiments.gan.metrics import summarize
from mixjax.experiments.gan.nets import MLP
from mixjax.experiments.gan.nets import Networks
from mixjax.experiments.gan.nets import TrainState
from mixjax.experiments.gan.nets import generate
from mixjax.experiments.gan.nets import init_state
from mixjax.experiments.gan.nets import make_networks
from mixjax.experiments.gan.plots import plot_curves
from mixjax.experiments.gan.plots import plot_samples
from mixjax.experiments.gan.plots import plot_snapshots
from mixjax.experiments.gan.trainer import Trainer
from mixjax.experiments.gan.trainer import eval_points
from mixjax.experiments.gan.trainer import make_trainer
from mixjax.experiments.gan.trainer import snapshot_points
from mixjax.experiments.gan.trainer import train_for
from mixjax.experiments.gan.trainer import train_group
from mixjax.experiments.gan.trainer import train_step

__all__ = (
  "DATASETS",
  "Dataset",
  "GanConfig",
  "MAX_MODES",
  "METHODS",
  "MLP",
  "Networks",
  "QUICK",
  "TrainState",
  "Trainer",
  "add_arguments",
  "check_config",
  "discriminator_loss",
  "eval_points",
  "generate",
  "generator_loss",
  "grid",
  "init_state",
  "late_modes",
  "make_config",
  "make_networks",
  "make_trainer",
  "method_alpha",
  "method_label",
  "mode_metrics",
  "padded_modes",
  "plot_curves",
  "plot_samples",
  "plot_snapshots",
  "results_table",
  "ring",
  "run",
  "sample_data",
  "select",
  "snapshot_points",
  "summarize",
  "train_all",
  "train_for",
  "train_group",
  "train_step",
)
