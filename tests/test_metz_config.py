"""configs/metz_stacked_mnist.py, Metz et al. 2016's Table 2 protocol: the grids it expands to
(full MNIST on tfds mock data, and stacked_mnist_5k), and a stacked_mnist_5k run for one step
through the real loop and metrics, then exported (`python -m gan_jax.results.export`). Loading
full stacked MNIST through tfds is tests/test_image_data.py's."""

import json
import os

import numpy as np
import tensorflow_datasets as tfds

from configs import metz_stacked_mnist
from gan_jax.loop import sweep
from gan_jax.loop.run import train_and_evaluate
from gan_jax.results import export


def test_the_sweep_is_d_a_quarter_and_a_half_of_g_times_k_0_1_5_10():
    with tfds.testing.mock_data(num_examples=24):
        runs = sweep.expand(metz_stacked_mnist.get_config())
    variants = sorted({(r.config.model.d.base_features, r.config.unroll.steps) for r in runs})
    assert variants == [(d, k) for d in (16, 32) for k in (0, 1, 5, 10)]
    assert len(runs) == 40
    for run in runs:
        assert run.config.data.name == "stacked_mnist" and run.config.model.g.base_features == 64
        assert run.config.update_order == "simultaneous" and run.config.unroll.second_order


def _shrink(config, *, steps, eval_samples, plot_samples):
    """The Metz protocol at test size: tiny G, D a quarter of G's width, `steps` steps."""
    config.num_steps = config.eval_every = config.checkpoint_every = steps
    config.batch_size = 8
    config.model.g.latent_dim, config.model.g.base_features = 8, 4
    config.model.d.base_features = 1  # a quarter of G's 4
    config.eval.num_samples, config.eval.plot_samples = eval_samples, plot_samples


def test_the_5k_sweep_is_the_protocol_on_stacked_mnist_5k():
    runs = sweep.expand(metz_stacked_mnist.get_config("5k"))
    assert sorted(r.config.unroll.steps for r in runs) == sorted([0, 5] * 5)
    for run in runs:
        config = run.config
        assert config.data.name == "stacked_mnist_5k" and config.unroll.second_order
        assert config.model.g.base_features == 4 * config.model.d.base_features == 32
        assert config.eval.num_samples == 10_000 and config.update_order == "simultaneous"
    assert metz_stacked_mnist.get_config("5k_single").unroll.steps == 0
    try:
        metz_stacked_mnist.get_config("5K")
    except ValueError as error:
        assert "'5k_single'" in str(error) and "\n" not in str(error)
    else:
        raise AssertionError("an unknown variant must fail")


def test_a_5k_run_logs_both_mode_counts_on_real_digits(tmp_path):
    config = metz_stacked_mnist.get_config("5k_single")
    _shrink(config, steps=1, eval_samples=64, plot_samples=0)
    workdir = str(tmp_path / "metz_5k")
    train_and_evaluate(config, workdir, progress=False)
    images = export.export_samples(workdir, 5, str(tmp_path / "samples.npz"))
    # The export of the trained run: uint8 NHWC, restore(workdir).sample quantised.
    assert images.shape == (5, 28, 28, 3) and images.dtype == np.uint8
    assert np.array_equal(np.load(tmp_path / "samples.npz")["arr_0"], images)
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        final = [json.loads(line) for line in f][-1]
    assert final["step"] == 1 and len(final["mode_histogram"]) == 1000
    # The field's count takes every sample; the project's none of a 1-step G's.
    assert sum(final["mode_histogram"]) == 64 and 1 <= final["modes_covered"] <= 64
    assert final["recognized_modes_covered"] == 0 and final["high_quality_pct"] == 0.0
    for key in ("fd", "kid", "precision", "recall", "density", "coverage", "inception_score"):
        assert key in final, key
