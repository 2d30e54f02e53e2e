"""The pmap / shard_map driver of the steps on 8 fake CPU devices."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from mixjax.training import calibration
from mixjax.training import parallel as parallel_lib
from tests.training.helpers import make_batch
from tests.training.helpers import make_state
from tests.training.helpers import run_steps
from tests.training.helpers import step_config


@pytest.mark.parametrize("mix", ["none", "mixup", "cutmix", "mixup_or_cutmix"])
def test_pmap_and_shard_map_give_the_same_state(mix):
  cfg = step_config(mix=mix, mix_mode="elem")
  hparams = {"mixup_alpha": 1.0, "cutmix_alpha": 1.0}
  pmap_state, pmap_losses = run_steps("pmap", cfg, hparams)
  shmap_state, shmap_losses = run_steps("shard_map", cfg, hparams)
  assert int(pmap_state.step) == 3
  np.testing.assert_allclose(pmap_losses, shmap_losses, rtol=1e-5)
  for a, b in zip(jax.tree.leaves(pmap_state), jax.tree.leaves(shmap_state), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["pmap", "shard_map"])
def test_eval_counts_only_unmasked_examples(kind):
  parallel = parallel_lib.Parallel(kind, step_config())
  state = parallel.put_state(jax.tree.map(np.asarray, make_state()))
  batch = make_batch()
  batch["mask"] = np.arange(16) < 11
  sums = parallel.eval(state, batch)
  assert sums["count"] == 11
  host = parallel.get_state(state)
  logits = host.apply_fn(
    {"params": host.params, "batch_stats": host.batch_stats}, batch["image"], train=False
  )
  correct = (np.argmax(logits, -1) == batch["label"])[:11].sum()
  assert sums["correct"] == correct
  probs = np.asarray(jax.nn.softmax(logits))[:11]
  expected = calibration.expected_calibration_error(probs, batch["label"][:11])
  assert calibration.ece_from_sums(sums) == pytest.approx(expected, rel=1e-5)
  assert sums["ece_count"].shape == (calibration.NUM_BINS,) and sums["ece_count"].sum() == 11


def test_unknown_parallel_kind():
  with pytest.raises(ValueError, match="parallel"):
    parallel_lib.Parallel("vmap", step_config())


@pytest.mark.parametrize("kind", ["pmap", "shard_map"])
def test_the_train_step_donates_the_state_it_replaces(kind):
  parallel = parallel_lib.Parallel(kind, step_config())
  state = parallel.put_state(jax.tree.map(np.asarray, make_state()))
  new_state, _ = parallel.train(state, make_batch(), {"mixup_alpha": 1.0, "cutmix_alpha": 1.0})
  assert all(leaf.is_deleted() for leaf in jax.tree.leaves(state.params))
  assert not any(leaf.is_deleted() for leaf in jax.tree.leaves(new_state.params))
