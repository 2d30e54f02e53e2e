"""Defaults shared by every config; the others derive from `get_config()` here.

Run:  python train.py --config configs/default.py --workdir runs/default
(this is the digits setup; prefer configs/digits.py, which names it).
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  # --- data ---
  config.dataset = (
    "digits"  # digits/iris/wine/breast_cancer (offline), "folder" or a tfds name (cifar10, ...).
  )
  config.data_dir = ""  # tfds data_dir ("" = tfds default); for "folder", the image folder.
  config.test_fraction = 0.0  # Held-out fraction without a test split (by seed); 0 = default.
  config.image_size = 0  # dataset="folder": side of the resized square images; 0 = 32.
  config.label_noise = 0.0  # Fraction of training labels replaced by uniform random classes.
  config.augment = "none"  # "none" | "crop_flip" (pad-4 random crop + horizontal flip, in-graph).
  # --- model ---
  config.model = "small_cnn"  # small_cnn | mlp | preact_resnet18 | wrn28_10 | resnet50.
  config.dropout_rate = 0.0  # Dropout before the classifier (0 = off).
  config.half_precision = False  # bfloat16 compute (params and loss stay float32).
  # --- optimisation ---
  config.num_epochs = 30  # Training epochs.
  config.batch_size = 64  # Global batch size, split over all devices of all processes.
  config.optimizer = "sgd"  # "sgd" (momentum) | "adam".
  config.learning_rate = 0.05  # Initial learning rate.
  config.momentum = 0.9  # SGD momentum.
  config.weight_decay = 1e-4  # L2 weight decay through optax.add_decayed_weights.
  config.lr_milestones = (20,)  # Epochs at which the learning rate is multiplied by lr_decay.
  config.lr_decay = 0.1  # Factor applied at each milestone.
  # --- mixing (in the compiled step) ---
  config.mix = "mixup"  # "none" | "mixup" | "cutmix" | "mixup_or_cutmix".
  config.mixup_alpha = 1.0  # Beta(α, α) for mixup's λ.
  config.cutmix_alpha = 1.0  # Beta(α, α) for CutMix's kept area.
  config.switch_prob = 0.5  # P(CutMix) in mixup_or_cutmix.
  config.mix_mode = "batch"  # "batch" (one λ per device batch) | "elem" (one λ per example).
  config.mix_pairing = "permute"  # "permute" (random partner) | "flip" (reversed batch).
  config.mix_off_epochs = 0  # Train the last N epochs without mixing.
  config.label_smoothing = 0.0  # One-hot smoothing before mixing.
  config.random_erasing = 0.0  # Probability of random erasing per example (0 = off).
  config.gridmask = 0.0  # Probability of GridMask per example (0 = off).
  # --- run ---
  config.parallel = "pmap"  # "pmap" (default) | "shard_map" (1-D mesh over all devices).
  config.seed = 0  # Seeds the split, label noise, init, data order and mixing.
  config.checkpoint_every_epochs = 1  # Checkpoint period in epochs (and at the end).
  config.eval_batch_size = 0  # Global eval batch (0 = batch_size).
  config.cv_folds = 0  # k-fold cross-validation on the training split (0 = off).
  return config
