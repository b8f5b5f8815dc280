"""Grid step 20 (issue 23, item 3), a diagnostic: what keeps the samplers over a classifier fit
to G (`eval.sampler_ratio="classifier"`) above the grid's KL target, the classifier's reading of
the modes or the pool it selects from?

On one run's final checkpoint, with one pool of n * `candidates` of G's samples, it prints:

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
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from drs_ceiling import ceiling_row, drs_row, print_rows  # noqa: E402

import gan_jax  # noqa: E402
from gan_jax.metrics import mixture  # noqa: E402
from gan_jax.step import samplers  # noqa: E402

POOL_KEY, ACCEPT_KEY = 7, 11


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
