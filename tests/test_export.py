"""`python -m gan_jax.results.export`: a run's samples as uint8 NHWC in an .npz (key arr_0).

The logic runs against a stand-in for `gan_jax.restore` (fast); tests/test_metz_config.py
exports a real trained run."""

import os
import subprocess
import sys
import types

import numpy as np
import pytest
from conftest import ROOT

import gan_jax
from gan_jax.results import export


class FakeGAN:
    """What `gan_jax.restore(workdir)` returns, as far as export uses it: `sample(n, seed, ema)`
    and `state.g_ema` (None when the run kept no EMA of G)."""

    def __init__(self, shape, g_ema=None):
        self.shape, self.calls = shape, []
        self.sample_shape = shape
        self.state = types.SimpleNamespace(g_ema=g_ema)

    def sample(self, n, seed, ema=False):
        self.calls.append((n, seed, ema))
        offset = 0.5 if ema else 0.0
        draw = np.random.default_rng(seed).uniform(-1.2, 1.2, (n, *self.shape)) + offset
        return draw.astype(np.float32)


@pytest.fixture
def fake(monkeypatch):
    def use(shape, g_ema=None):
        gan = FakeGAN(shape, g_ema)
        monkeypatch.setattr(gan_jax, "restore", lambda workdir: gan)
        return gan

    return use


def test_export_writes_uint8_nhwc_batch_by_batch(fake, tmp_path):
    gan = fake((8, 8, 3))
    out = str(tmp_path / "samples.npz")
    images = export.export_samples("run", 25, out, seed=3, batch_size=10)
    with np.load(out) as saved:
        assert list(saved) == ["arr_0"]
        np.testing.assert_array_equal(saved["arr_0"], images)
    assert images.shape == (25, 8, 8, 3) and images.dtype == np.uint8
    seeds = export.batch_seeds(3, 3)
    assert gan.calls == [(n, s, False) for n, s in zip((10, 10, 5), seeds, strict=True)]
    assert len(set(seeds)) == 3 and export.batch_seeds(4, 1)[0] not in seeds
    expected = np.concatenate([FakeGAN((8, 8, 3)).sample(*call) for call in gan.calls])
    # round((x + 1) * 127.5), clipped: -1 -> 0, 1 -> 255, out of range clipped.
    np.testing.assert_array_equal(images, np.round(np.clip((expected + 1) * 127.5, 0, 255)))
    assert images.min() == 0 and images.max() == 255
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]


def test_export_uses_g_ema_when_the_run_kept_one(fake, tmp_path):
    gan = fake((4, 4, 1), g_ema={"params": 0})
    export.export_samples("run", 3, str(tmp_path / "auto.npz"))
    export.export_samples("run", 3, str(tmp_path / "raw.npz"), weights="raw")
    assert [call[2] for call in gan.calls] == [True, False]
    fake((4, 4, 1))  # no EMA kept: auto falls back to G's weights, ema is refused
    export.export_samples("run", 3, str(tmp_path / "plain.npz"))
    with pytest.raises(ValueError, match="kept no EMA of G"):
        export.export_samples("run", 3, str(tmp_path / "x.npz"), weights="ema")


def test_export_refuses_a_run_without_images_and_bad_arguments(fake, tmp_path):
    fake((2,))  # a 2D mixture run's samples
    with pytest.raises(ValueError, match="not an image run"):
        export.export_samples("ring", 4, str(tmp_path / "x.npz"))
    for kwargs, message in [
        ({"out": "x.png"}, "must name a .npz file"),
        ({"num_samples": 0}, "--num_samples=0 is invalid"),
        ({"batch_size": -1}, "--batch_size=-1 is invalid"),
        ({"weights": "best"}, "--weights='best' is invalid"),
        ({"out": str(tmp_path / "missing" / "x.npz")}, "does not exist"),
    ]:
        with pytest.raises(ValueError, match=message):
            export.export_samples(**{"workdir": "ring", "num_samples": 4, "out": "x.npz", **kwargs})
    assert not os.listdir(tmp_path)


def test_command_errors_are_one_line_and_exit_2():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gan_jax.results.export",
            "--workdir=/nonexistent/run",
            "--out=x.npz",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "/nonexistent/run" in lines[0]
