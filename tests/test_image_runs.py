"""Image runs end to end: digits and stacked digits through the real loop with the classifier
metrics, the GPU configs (MNIST DCGAN, CelebA BEGAN) for a few steps on tfds mock data, and
one-line errors for data and models that do not fit."""

import json
import os

import pytest
import tensorflow_datasets as tfds

from gan_jax.loop.run import train_and_evaluate
from gan_jax.step.config import ConfigError, set_field, validate

TINY_G = {"latent_dim": 8, "base_features": 4}
TINY_D = {"base_features": 4}


def _shrink(config, steps=4, every=2):
    config.num_steps, config.eval_every, config.checkpoint_every = steps, every, every
    config.batch_size = 8
    for key, value in TINY_G.items():
        config.model.g[key] = value
    for key, value in TINY_D.items():
        config.model.d[key] = value
    config.eval.num_samples = 64
    config.eval.plot_samples = 16
    return config


def _rows(workdir):
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_mnist_5k_dcgan_logs_classifier_metrics_its_ema_and_sample_grids(tmp_path):
    """configs/mnist_5k_dcgan.py on real digits (the 8x8 digits' configs/digits_dcgan.py runs the
    same loop and metrics with the digits' MLP classifier, tests/test_image_metrics.py)."""
    from configs import mnist_5k_dcgan

    config = _shrink(mnist_5k_dcgan.get_config(), steps=2, every=1)
    workdir = str(tmp_path / "mnist_5k")
    train_and_evaluate(config, workdir, progress=False)
    rows = _rows(workdir)
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert os.path.exists(os.path.join(workdir, "samples", "samples_over_training.png"))
    final = rows[-1]
    assert config.data.name == "mnist_5k" and config.ema.enabled
    for key in ("fd", "precision", "recall", "density", "coverage", "kid"):
        assert key in final and f"ema/{key}" in final, key
    # One step from initialisation: far from the held-out digits (real vs real: FD ~28).
    assert final["fd"] > 100 and final["precision"] < 0.5


def test_celeba_began_runs_a_few_steps_on_mock_data(tmp_path):
    """configs/celeba_began.py, a GPU config, on tfds mock data at 8x8. (configs/mnist_dcgan.py's
    G, D and recipe train on real digits in the mnist_5k test above; the tfds sets load under mock
    data in tests/test_image_data.py.)"""
    from configs import celeba_began

    config = _shrink(celeba_began.get_config(), steps=2, every=2)
    config.data.image_size = 8  # the same code path as 64 (tests/test_dcgan.py), smaller
    workdir = str(tmp_path / "celeba_began")
    with tfds.testing.mock_data(num_examples=24):
        train_and_evaluate(config, workdir, progress=False)
    rows = _rows(workdir)
    assert rows[-1]["step"] == 2
    assert "began/k" in rows[-1] and "fd" not in rows[-1]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"data.name": "ring"},
            r"model.g.name='dcgan' / model.d.name='dcgan' cannot take data.name='ring' "
            r"\(samples of shape \(2,\)\): data shape \(2,\): dcgan",
        ),
        (
            {"data.image_size": 10},
            r"cannot take data.name='digits' \(samples of shape \(10, 10, 1\)\)",
        ),
        ({"data.image_size": 0}, r"data.image_size=0 is invalid: must be an integer >= 1"),
        (
            {"model.g.upsample": "bicubic"},
            r"model.g.upsample='bicubic' is invalid: choose one of \['resize', 'transpose'\]",
        ),
        (
            {"model.d.base_features": 0},
            r"model.d.base_features=0 is invalid: must be an integer >= 1",
        ),
        ({"data.name": "mnist", "data.tfds_dir": "/nonexistent/tfds"}, r"mnist.*/nonexistent/tfds"),
    ],
)
def test_data_that_does_not_fit_gets_one_line_before_anything_compiles(changes, message):
    from configs import digits_dcgan

    config = digits_dcgan.get_config()
    for field, value in changes.items():
        set_field(config, field, value)
    with pytest.raises(ConfigError, match=message) as error:
        validate(config)
    assert "\n" not in str(error.value)


def test_an_image_sweep_reports_classifier_metrics_and_real_vs_fake_grids(tmp_path):
    import ml_collections

    from configs import digits_dcgan
    from gan_jax.commands import train_and_report

    config = _shrink(digits_dcgan.get_config(), steps=2)
    # A dynamic field: both runs share one compiled program.
    config.sweep = ml_collections.ConfigDict(
        dict(seeds=1, grid=dict(optim=dict(d=dict(learning_rate=(1e-4, 2e-4)))))
    )
    workdir = str(tmp_path / "sweep")
    train_and_report(config, workdir, progress=False)
    report = open(os.path.join(workdir, "report.md")).read()
    image_table = report.split("## Image metrics")[1].split("\n## ")[0]
    for variant in ("optim.d.learning_rate=0.0001", "optim.d.learning_rate=0.0002"):
        row = next(line for line in image_table.splitlines() if f"| {variant} |" in line)
        assert "n/a" not in row  # FD, precision, recall and IS all measured
    for name in ("final_samples.png", "curve_fd.png", "final_vs_optim_d_learning_rate.png"):
        assert os.path.exists(os.path.join(workdir, "plots", name)), name
