"""Why discriminator rejection sampling raises HQ % but also the reverse KL on the ring: D's
logit per mode, and where DRS's samples land, for trained runs.

  python experiments/literature_2d/drs_modes.py runs/search/probe_ring_literature/runs/seed=*

For each run (a workdir with a final checkpoint; D scoring one sample alone): 20,000 samples of
the raw G and 20,000 real ones; per mode, G's share of the high-quality samples, D's mean logit
on them and on the real samples of that mode, D's mean logit on G's off-mode samples; then 2,500
DRS samples (`sample(..., sampler="drs")`, the run's candidates) as a mode histogram.
"""

import os
import sys

import jax
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import gan_jax  # noqa: E402
from gan_jax.metrics.mixture import mixture_metrics, nearest_modes  # noqa: E402
from gan_jax.step import samplers  # noqa: E402

NUM = 20_000


def nearest_mode(x, centers, std: float):
    """(nearest mode index, high quality?) per sample, as numpy arrays."""
    return tuple(np.asarray(a) for a in nearest_modes(x, centers, std))


def describe(workdir: str) -> None:
    trained = gan_jax.restore(workdir)
    exp, state = trained.experiment, trained.state
    centers, std = np.asarray(exp.dataset.centers), exp.dataset.std
    # D's logit as trained, whatever scale or calibration the run's DRS reads it with.
    as_trained = exp._replace(
        sampler_options=exp.sampler_options._replace(logit_scale=1.0, calibration="none")
    )
    logit = samplers.model_of(as_trained, state.g_params, state.d_params).logit
    fake = trained.sample(NUM, seed=0)
    real = np.asarray(exp.dataset.sample(jax.random.PRNGKey(1), NUM))
    fake_mode, fake_hq = nearest_mode(fake, centers, std)
    real_mode, _ = nearest_mode(real, centers, std)
    fake_logit, real_logit = np.asarray(logit(fake)), np.asarray(logit(real))
    drs = mixture_metrics(trained.sample(2_500, seed=0, sampler="drs"), centers, std)
    raw = mixture_metrics(fake[:2_500], centers, std)
    modes = range(len(centers))
    share = [np.mean(fake_hq & (fake_mode == m)) / max(np.mean(fake_hq), 1e-9) for m in modes]
    print(f"## {workdir} (step {trained.step})")
    print("| mode | " + " | ".join(str(m) for m in modes) + " |")
    print("| --- " * (len(centers) + 1) + "|")
    print("| G's HQ share | " + " | ".join(f"{s:.3f}" for s in share) + " |")
    for name, values, mode_of in (
        ("D logit, G's HQ samples", fake_logit[fake_hq], fake_mode[fake_hq]),
        ("D logit, real samples", real_logit, real_mode),
    ):
        cells = [
            f"{values[mode_of == m].mean():+.3f}" if np.any(mode_of == m) else "–" for m in modes
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for name, metrics in (("raw G, 2,500", raw), ("DRS, 2,500", drs)):
        counts = np.asarray(metrics["mode_histogram"]).astype(int)
        print(f"| {name} | " + " | ".join(str(c) for c in counts) + " |")
    print(
        f"\nD's mean logit on G's off-mode samples {fake_logit[~fake_hq].mean():+.3f}; "
        f"raw G HQ {float(raw['high_quality_pct']):.1f} %, KL {float(raw['reverse_kl']):.3f}; "
        f"DRS HQ {float(drs['high_quality_pct']):.1f} %, KL {float(drs['reverse_kl']):.3f}\n"
    )


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        describe(folder)
