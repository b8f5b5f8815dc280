"""Grid step 20 (issue 23, item 3), a diagnostic: what keeps the samplers over a classifier fit
to G (`eval.sampler_ratio="classifier"`) above the grid's KL target, the classifier's reading of
the modes or the pool it selects from?

On one run's final checkpoint, with one pool of n * `candidates` of G's samples, it prints:

- each classifier's loss on real samples over the finite data set's points its fit drew from
  against fresh draws of the mixture (`real_losses`): a memorising fit reads the points higher;
- the classifier's error per mode: log of the mean of exp(logit) over G's high-quality samples at
  a mode (what reweighting G by the classifier gives that mode) against the true log ratio of the
  modes' masses, log(1 / (25 q_m)) with q_m G's share of the pool's high-quality samples there;
  centred (a constant offset changes no sampler), its root mean square and range over the modes;
- DRS ("budget" gamma, as the evals) over that pool reading one classifier (the eval's fit, from
  its own key) and the mean logit of `ensemble` classifiers fit from different keys;
- DRS over the same pool reading the true per-mode ratio instead (an oracle: 0 off the modes'
  3-sigma discs, log(1 / (25 q_m)) on them): what a perfect reading of the modes' masses gives;
- the ceiling (`drs_ceiling.ceiling_row`): the lowest KL any selection from the pool can have at
  HQ 93 %.

  python experiments/paper_tables/ratio_reading_check.py \\
      runs/search/probe_grid_ratio_classifier/runs/seed=4 [candidates] [ensemble]
"""

import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from drs_ceiling import ceiling_row, drs_row, print_rows  # noqa: E402

import gan_jax  # noqa: E402
from gan_jax.metrics import mixture  # noqa: E402
from gan_jax.parts.data import mixtures  # noqa: E402
from gan_jax.step import samplers  # noqa: E402

POOL_KEY, ACCEPT_KEY, HOLDOUT_KEY = 7, 11, 13


def mode_errors(logits, nearest, high_quality, num_modes: int):
    """Per mode: log mean exp(logit) over G's HQ samples there minus log(1 / (M q_m)), centred
    over the modes G visits (nan where it visits none), and the true log ratio itself."""
    shares = np.array([np.sum(high_quality & (nearest == m)) for m in range(num_modes)])
    shares = shares / high_quality.sum()
    seen = shares > 0
    true = np.where(seen, -np.log(num_modes * np.maximum(shares, 1e-30)), np.nan)
    read = np.array(
        [
            np.log(np.mean(np.exp(logits[high_quality & (nearest == m)]))) if seen[m] else np.nan
            for m in range(num_modes)
        ]
    )
    errors = read - true
    return errors - np.nanmean(errors), true


def real_losses(logit, dataset, key, m: int = 100_000) -> tuple[float, float, float]:
    """The classifier's loss on real samples, mean softplus(-logit), over `m` of the finite data
    set's points (those its fit drew its real batches from) and over `m` fresh draws from the same
    mixture (held out), and the standard error of their difference under no memorisation: a
    classifier that memorised the points reads them higher than new ones."""
    index = jax.random.randint(key, (m,), 0, dataset.points.shape[0])
    fresh = mixtures.draw(jax.random.fold_in(key, 1), dataset.centers, dataset.std, m)
    read = jax.jit(logit)
    losses = [
        np.asarray(jax.nn.softplus(-read(x))) for x in (jnp.asarray(dataset.points)[index], fresh)
    ]
    # The points are themselves N draws of the mixture, resampled m times: var / m + var / N.
    points = dataset.points.shape[0]
    seen_var, fresh_var = (np.var(x, ddof=1) for x in losses)
    se = np.sqrt(seen_var * (1 / m + 1 / points) + fresh_var / m)
    return float(np.mean(losses[0])), float(np.mean(losses[1])), float(se)


def main(run: str, candidates: int = 100, ensemble: int = 3) -> None:
    gan = gan_jax.restore(run)
    exp, state = gan.experiment, gan.state
    options = exp.sampler_options._replace(
        candidates=candidates, drs_gamma_rule="budget", logit_scale=1.0, calibration="none"
    )
    exp = exp._replace(sampler_options=options._replace(ratio="classifier"))
    n, centers, std = exp.eval_samples, exp.dataset.centers, exp.dataset.std
    start = time.time()
    # Classifier r is fit with the key the eval's fold gives partners key r (`model_of`).
    models = [
        samplers.model_of(exp, state.g_params, state.d_params, partners_key=jax.random.PRNGKey(r))
        for r in range(ensemble)
    ]
    z, _ = jax.jit(lambda k: samplers.draw_pool(models[0], k, n, candidates))(
        jax.random.PRNGKey(POOL_KEY)
    )
    pool = jax.jit(models[0].generate)(z)
    batches = pool.reshape(candidates, n, *pool.shape[1:])
    logits = np.stack(
        [
            np.asarray(jax.jit(lambda b, m=m: jax.lax.map(m.logit, b))(batches)).ravel()
            for m in models
        ]
    )
    print(
        f"## {run} (step {gan.step}, {candidates} candidates, {time.time() - start:.0f} s); "
        "fit losses " + ", ".join(f"{float(m.ratio_diagnostics['ratio_loss']):.3f}" for m in models)
    )
    if exp.dataset.points is not None:
        for r, m in enumerate(models):
            seen, held_out, se = real_losses(m.logit, exp.dataset, jax.random.PRNGKey(HOLDOUT_KEY))
            print(
                f"  classifier {r}: loss on real samples {seen:.4f} over the data set's points, "
                f"{held_out:.4f} over fresh draws of the mixture (held out); difference "
                f"{held_out - seen:+.4f} ± {se:.4f} (standard error)"
            )
    nearest, high_quality = (np.asarray(a) for a in mixture.nearest_modes(pool, centers, std))

    def drs(label, reading):
        key = jax.random.PRNGKey(ACCEPT_KEY)
        return drs_row(label, pool, reading, key, exp.sampler_options, n, centers, std)

    for label, reading in (
        ("one classifier", logits[0]),
        (f"{ensemble} classifiers", logits.mean(0)),
    ):
        errors, true = mode_errors(reading, nearest, high_quality, len(centers))
        print(
            f"  {label}: per-mode error rms {np.sqrt(np.nanmean(errors**2)):.2f}, range "
            f"[{np.nanmin(errors):.2f}, {np.nanmax(errors):.2f}] nats"
        )
    oracle = np.where(high_quality, np.nan_to_num(true, nan=-30.0)[nearest], -30.0)
    rows = [
        drs("DRS, one classifier", logits[0]),
        drs(f"DRS, mean logit of {ensemble} classifiers", logits.mean(0)),
        drs("DRS, the true per-mode ratio", oracle),
        ceiling_row(pool, centers, std, n, candidates),
    ]
    print_rows(rows, {})


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:]))
