"""Grid step 18 (issue 23, item 3), a diagnostic: how far can a sampler over the trained G and D
bring the grid's reverse KL, and what stops it?

Why: every grid row so far misses the KL target (0.04) by 4x or more, and the best rows are DRS
rows (step 16: 0.165 at packing 4). DRS can only keep or drop G's samples, so two things bound
it: the pool it draws from (a mode G almost never visits has few samples in a pool of 20 per
returned sample) and D's logit as the log density ratio it corrects by. This script separates
the two on a sweep's final checkpoints (grid step 17's CPU probe: runs/search/
probe_grid_full_nets_pack3, seeds 0-2), on one pool per run of CANDIDATES_MAX candidates per
returned sample, its first 20 batches being the eval's pool size:

- the raw G (the pool's first 2,500 samples) and DRS at the run's gamma quantile, as evals read;
- DRS without the gamma shift (rule "zero": rejection sampling with M = e^(max logit), exact when
  D's logit is the log density ratio);
- DRS with the "budget" rule (`samplers.gamma_for_budget`: gamma = 0 when the pool affords it,
  else the least shift that fills the request from the pool) at D's logit times 1 to 2
  (`eval.sampler_logit_scale`: a D that under-states the ratio is read sharper with a scale
  > 1, the temperature a Platt fit would set, Turner et al. 2019);
- MH-GAN (Turner et al. 2019) with as many proposals per chain, at D's logit times 1 and 1.5;
- both at the temperature a Platt fit gives the run (`eval.sampler_calibration="platt"`,
  `samplers.platt_fit` on 10,000 real and 10,000 G samples), printed per run: a scale chosen by
  the run's own D and data instead of by us;
- the ceiling: the lowest reverse KL any selection of 2,500 samples with HQ at the target (93 %)
  can have from the same pool (`mixture.lowest_reverse_kl`), whatever D says.

Per mode it also prints G's share of the pool's HQ samples against D's mean logit there, and the
slope of one on the other. It motivates a scale, it does not measure one: even an optimal D's mean
logit over G's samples at a mode is the log ratio of the mode masses minus how much G's shape
there differs from the data's (a KL), so a slope under 1 can come from shapes as well as from a
tempered D.

  python experiments/paper_tables/drs_ceiling.py runs/search/probe_grid_full_nets_pack3
"""

import math
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from recipe import TARGETS  # noqa: E402

import gan_jax  # noqa: E402
from gan_jax.loop import workdir as wd  # noqa: E402
from gan_jax.metrics import mixture  # noqa: E402
from gan_jax.step import samplers  # noqa: E402

CANDIDATES = (20, 100)  # per returned sample: the eval's pool, and five times more
LOGIT_SCALES = (1.0, 1.25, 1.5, 1.75, 2.0)
MH_LOGIT_SCALES = (1.0, 1.5)
KEY = 0


def run_rows(gan) -> tuple[list, dict]:
    """One run's rows, (label, modes, HQ %, KL, acceptance) each, and its per-mode reading."""
    # D's logit as trained: the rows below apply their own scales, whatever the run's was.
    exp = gan.experiment._replace(
        sampler_options=gan.experiment.sampler_options._replace(logit_scale=1.0, calibration="none")
    )
    state = gan.state
    n, centers, std = exp.eval_samples, exp.dataset.centers, exp.dataset.std
    pool_key, partners_key, accept_key = jax.random.split(jax.random.PRNGKey(KEY), 3)
    model = samplers.model_of(exp, state.g_params, state.d_params, partners_key=partners_key)
    platt = samplers.model_of(
        exp._replace(sampler_options=exp.sampler_options._replace(calibration="platt")),
        state.g_params,
        state.d_params,
        partners_key=partners_key,
    ).logit_scale
    z, logits = jax.jit(lambda k: samplers.draw_pool(model, k, n, max(CANDIDATES)))(pool_key)
    pool = jax.jit(model.generate)(z)

    def row(label, samples, rate=float("nan")):
        return metrics_row(label, samples, centers, std, rate)

    rows = [row("raw G", pool[:n])]
    quantile = exp.sampler_options.drs_gamma_quantile
    readings = [(f"DRS, gamma at the {quantile} quantile", "quantile", 1.0)]
    readings += [("DRS, gamma 0", "zero", 1.0)]
    readings += [(f"DRS, budget gamma, logit x {s:g}", "budget", s) for s in LOGIT_SCALES]
    readings += [("DRS, budget gamma, logit x Platt's", "budget", platt)]
    for candidates in CANDIDATES:
        size = n * candidates
        for label, rule, scale in readings:
            options = exp.sampler_options._replace(drs_gamma_rule=rule)
            # A run with `eval.sampler_logit_scale` = scale reads these logits times it.
            rows.append(
                drs_row(
                    f"{label}, {candidates} candidates",
                    pool[:size],
                    scale * logits[:size],
                    accept_key,
                    options,
                    n,
                    centers,
                    std,
                )
            )
        rows.append(ceiling_row(pool[:size], centers, std, n, candidates))
        # MH-GAN draws its own proposals (`candidates` per chain), so it reads no shared pool.
        for scale in (*MH_LOGIT_SCALES, "Platt's"):
            options = exp.sampler_options._replace(candidates=candidates)
            if scale == "Platt's":
                options = options._replace(calibration="platt")
            else:
                options = options._replace(logit_scale=scale)
            scaled = samplers.model_of(
                exp._replace(sampler_options=options),
                state.g_params,
                state.d_params,
                partners_key=partners_key,
            )
            drawn, diagnostics = jax.jit(lambda k, m=scaled, o=options: samplers.mh(m, k, n, o))(
                accept_key
            )
            rows.append(
                row(
                    f"MH-GAN, logit x {scale if isinstance(scale, str) else f'{scale:g}'}, "
                    f"{candidates} candidates",
                    drawn,
                    float(diagnostics["acceptance_rate"]),
                )
            )
    # Per mode: G's share of the pool's HQ samples, and D's mean logit over them.
    nearest, hq = (np.asarray(a) for a in mixture.nearest_modes(pool, centers, std))
    logits = np.asarray(logits)
    shares, mean_logits = [], []
    for m in range(len(centers)):
        mask = hq & (nearest == m)
        shares.append(mask.sum() / hq.sum())
        mean_logits.append(logits[mask].mean() if mask.any() else np.nan)
    shares, mean_logits = np.array(shares), np.array(mean_logits)
    seen = shares > 0
    log_ratio = np.log(1.0 / (len(centers) * shares[seen]))
    slope = np.polyfit(log_ratio, mean_logits[seen], 1)[0]
    corr = np.corrcoef(log_ratio, mean_logits[seen])[0, 1]
    return rows, dict(shares=shares, logits=mean_logits, slope=slope, corr=corr, platt=platt)


def metrics_row(label: str, samples, centers, std, rate: float = float("nan")) -> tuple:
    """The row (label, modes, HQ %, KL, acceptance) of `samples` on the mixture at `centers`."""
    found = mixture.mixture_metrics(samples, centers, std)
    return (
        label,
        *(float(found[k]) for k in ("modes_covered", "high_quality_pct", "reverse_kl")),
        rate,
    )


def drs_row(label: str, pool, reading, key, options, n: int, centers, std) -> tuple:
    """The row of DRS (`samplers.drs_accepted` with `options`' gamma rule) over `pool` read by
    `reading` (one log density ratio per pool entry): the first n accepted samples in pool order,
    filled with rejected ones when fewer are accepted, as `samplers.drs` returns; the acceptance
    is the accepted share of the pool."""
    accepted = samplers.drs_accepted(jnp.asarray(reading), key, options, n)
    selected = pool[samplers.first_accepted(accepted, n)]
    return metrics_row(label, selected, centers, std, float(jnp.mean(accepted)))


def ceiling_row(pool, centers, std, n: int, candidates: int) -> tuple:
    """The row (label, modes, HQ %, KL, acceptance) of the lowest reverse KL any selection of n
    samples with HQ at the grid's target (93 %) can have from `pool` (n * `candidates` of G's
    samples; `mixture.lowest_reverse_kl`), whatever reads it. The selection holds every mode the
    pool holds, at the HQ target by construction."""
    hq_needed = math.ceil(TARGETS["grid"]["hq"] / 100 * n)
    counts = mixture.mixture_metrics(pool, centers, std)["mode_histogram"]
    return (
        f"ceiling (any selection at HQ {TARGETS['grid']['hq']:g} %), {candidates} candidates",
        float(jnp.sum(counts > 0)),
        100.0 * hq_needed / n,
        mixture.lowest_reverse_kl(counts, hq_needed),
        float("nan"),
    )


def print_rows(rows: list, table: dict) -> None:
    """One run's rows, (label, modes, HQ %, KL, acceptance) each, printed and added to `table`."""
    for label, *values in rows:
        table.setdefault(label, []).append(values)
        modes_, hq, kl, rate = values
        print(f"  {label}: {modes_:.0f} / {hq:.1f} / {kl:.3f}, acceptance {rate:.3f}")
    print(flush=True)


def print_means(table: dict) -> None:
    """The mean of each row of `table` over its runs, as a markdown table."""
    print(f"## mean over {len(next(iter(table.values())))} runs")
    print("| G read through | modes | HQ % | reverse KL | acceptance |")
    print("| --- | --- | --- | --- | --- |")
    for label, values in table.items():
        modes_, hq, kl, rate = np.mean(values, axis=0)
        print(f"| {label} | {modes_:.2f} | {hq:.1f} | {kl:.3f} | {rate:.3f} |")


def main(sweep: str) -> None:
    table: dict = {}
    for folder in wd.sweep_runs(sweep):
        rows, modes = run_rows(gan_jax.restore(os.path.join(sweep, "runs", folder)))
        print(f"## {folder}")
        print(
            f"D's mean logit per mode against log(1 / (25 p_m)): slope {modes['slope']:.2f}, "
            f"correlation {modes['corr']:.3f}; Platt's temperature {float(modes['platt']):.2f}"
        )
        order = np.argsort(modes["shares"])
        print(
            "G's share of HQ samples, rarest modes first (%): "
            + ", ".join(f"{100 * modes['shares'][m]:.2f}" for m in order[:6])
        )
        print_rows(rows, table)
    print_means(table)


if __name__ == "__main__":
    main(sys.argv[1])
