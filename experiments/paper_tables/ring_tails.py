"""Where a ring recipe's samples miss the modes, and what reading them differently does
(ring step 13's diagnostic, experiments/paper_tables/README.md).

For a sweep of ring runs (final checkpoints): the distances of the first run's EMA G samples
(20,000, key 1) to their nearest centre, in units of sigma; then per reading, over every run and
two keys of 2,500 samples each, the mean modes, HQ % and reverse KL: the EMA G, the raw G, the
EMA G from z drawn truncated to [-t, t] (t = 1, 1.5, 2), and DRS over the raw G and D (the run's
20 candidates per sample) at gamma quantiles 0.5, 0.8 and 0.95.

  python experiments/paper_tables/ring_tails.py runs/confirm/ring_literature
"""

import os
import sys

import jax
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import gan_jax  # noqa: E402
from gan_jax.loop import workdir as wd  # noqa: E402
from gan_jax.metrics.mixture import mixture_metrics  # noqa: E402
from gan_jax.parts.models.mlp import apply_generator  # noqa: E402
from gan_jax.step import samplers  # noqa: E402
from gan_jax.step.train import ema_params  # noqa: E402

BINS = (0, 1, 2, 3, 4, 6, 10, np.inf)  # distance to the nearest centre, in sigma
TRUNCATIONS = (1.0, 1.5, 2.0)
QUANTILES = (0.5, 0.8, 0.95)
SAMPLES, KEYS = 2_500, 2


def readings(gan, key):
    """{reading: samples} of one run for one key."""
    exp, state = gan.experiment, gan.state
    seed = int(key)
    out = {"EMA G": gan.sample(SAMPLES, seed=seed, ema=True), "raw G": gan.sample(SAMPLES, seed)}
    for t in TRUNCATIONS:
        z = jax.random.truncated_normal(
            jax.random.PRNGKey(seed), -t, t, (SAMPLES, exp.generator.latent_dim)
        )
        out[f"EMA G, z in [-{t}, {t}]"] = apply_generator(
            exp.generator, ema_params(state), z, train=False
        )[0]
    model = samplers.model_of(exp, state.g_params, state.d_params)
    for q in QUANTILES:
        options = exp.sampler_options._replace(drs_gamma_quantile=q)
        out[f"raw G + DRS at {q}"] = samplers.drs(
            model, jax.random.PRNGKey(seed), SAMPLES, options
        )[0]
    return out


def main(sweep: str) -> None:
    folders = wd.sweep_runs(sweep)
    table: dict = {}
    for number, folder in enumerate(folders):
        gan = gan_jax.restore(os.path.join(sweep, "runs", folder))
        centers, std = gan.experiment.dataset.centers, gan.experiment.dataset.std
        if number == 0:
            x = gan.sample(20_000, seed=1, ema=True)
            distance = np.sqrt(((x[:, None] - centers[None]) ** 2).sum(-1)).min(1) / std
            shares = np.histogram(distance, bins=BINS)[0] / len(x)
            print(
                f"{folder}, EMA G, 20,000 samples: median distance {np.median(distance):.2f} sigma"
            )
            print(
                "| sigma from the nearest centre | "
                + " | ".join(f"{a:g}-{b:g}" for a, b in zip(BINS[:-1], BINS[1:], strict=True))
                + " |"
            )
            print("| --- " * len(shares) + "| --- |")
            print("| share % | " + " | ".join(f"{100 * v:.1f}" for v in shares) + " |\n")
        for key in range(KEYS):
            for name, samples in readings(gan, key).items():
                found = mixture_metrics(samples, centers, std)
                table.setdefault(name, []).append(
                    [float(found[k]) for k in ("modes_covered", "high_quality_pct", "reverse_kl")]
                )
    print(f"{len(folders)} runs x {KEYS} keys x {SAMPLES:,} samples")
    print("| reading | modes | HQ % | reverse KL | fewest modes |")
    print("| --- | --- | --- | --- | --- |")
    for name, rows in table.items():
        rows = np.asarray(rows)
        modes, hq, kl = rows.mean(axis=0)
        print(f"| {name} | {modes:.2f} | {hq:.1f} | {kl:.3f} | {rows[:, 0].min():.0f} |")


if __name__ == "__main__":
    main(sys.argv[1])
