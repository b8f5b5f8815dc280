"""Grid step 20 (issue 23, item 3), the direction before the ten-seed step: a sweep's final
checkpoints read through DRS ("budget" gamma) and MH-GAN with 100 candidates per sample (or as
many as given), the samplers reading a classifier fit to each run's final G
(`eval.sampler_ratio="classifier"`, gan_jax/step/ratio_classifier.py) instead of its D. The same
runs read through D (x 1.5, the step-18 reading) are `drs_ceiling.py`'s rows. Each run's last row
is the ceiling of a pool as large as the samplers' (`drs_ceiling.ceiling_row`): the lowest KL any
reading could select at HQ 93 %.

  python experiments/paper_tables/ratio_classifier_check.py runs/search/probe_grid_full_nets_pack3
  # more candidates per sample, on some of a sweep's runs (grid step 20's seeds 4 and 8):
  python experiments/paper_tables/ratio_classifier_check.py \
      runs/search/probe_grid_ratio_classifier 1000 seed=4 seed=8
"""

import json
import os
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from drs_ceiling import ceiling_row, print_means, print_rows  # noqa: E402

import gan_jax  # noqa: E402
from gan_jax.loop import workdir as wd  # noqa: E402
from gan_jax.step import samplers  # noqa: E402
from gan_jax.step.train import make_evaluate, make_generate  # noqa: E402

CANDIDATES = 100
CEILING_KEY = 3  # the ceiling's pool: G's samples, drawn apart from the eval's

# The compiled programs, one pair per configuration (less its seed) and pool size: a sweep's runs
# differ only in their state (the seed lives in it), so each run after the first skips the compile
# (at 1,000 candidates on this CPU, sharing it: 258 s for the first run, 238 s for the next).
_PROGRAMS: dict = {}


def _programs(gan, exp, candidates: int):
    """(evaluate(state), pool(g_params)) for `exp`, jitted once per configuration."""
    config = {k: v for k, v in gan.config.to_dict().items() if k != "seed"}
    key = (json.dumps(config, sort_keys=True, default=str), candidates)
    if key not in _PROGRAMS:
        n, generate = exp.eval_samples, make_generate(exp)
        keys = jax.random.split(jax.random.PRNGKey(CEILING_KEY), candidates)
        _PROGRAMS[key] = (
            jax.jit(make_evaluate(exp)),
            jax.jit(lambda p: jax.lax.map(lambda k: generate(p, k, n), keys)),
        )
    return _PROGRAMS[key]


def run_rows(gan, candidates: int = CANDIDATES) -> list[tuple]:
    """(label, modes, HQ %, KL, acceptance) for the raw G, the EMA G and each sampler over the
    classifier, as the run's eval program (`make_evaluate`) computes them at its final step."""
    options = gan.experiment.sampler_options._replace(
        candidates=candidates,
        drs_gamma_rule="budget",
        logit_scale=1.0,
        calibration="none",
        ratio="classifier",
    )
    exp = gan.experiment._replace(sampler_options=options, samplers=tuple(samplers.SAMPLERS))
    evaluate, draw_pool = _programs(gan, exp, candidates)
    metrics, _ = jax.device_get(evaluate(gan.state))
    rows = []
    for prefix, label in (
        ("", "raw G"),
        ("ema/", "EMA G"),
        *(
            (f"{name}/", f"{name}, classifier, {candidates} candidates")
            for name in samplers.SAMPLERS
        ),
    ):
        if f"{prefix}modes_covered" in metrics:
            rows.append(
                (
                    label,
                    *(
                        float(metrics.get(f"{prefix}{k}", np.nan))
                        for k in (
                            "modes_covered",
                            "high_quality_pct",
                            "reverse_kl",
                            "acceptance_rate",
                        )
                    ),
                )
            )
    # What any reading could reach from a pool as large as the samplers' (its own draw).
    n = exp.eval_samples
    pool = draw_pool(gan.state.g_params).reshape(n * candidates, -1)
    rows.append(ceiling_row(pool, exp.dataset.centers, exp.dataset.std, n, candidates))
    return rows


def main(sweep: str, candidates: int = CANDIDATES, *runs: str) -> None:
    table: dict = {}
    for folder in runs or wd.sweep_runs(sweep):
        start = time.time()
        rows = run_rows(gan_jax.restore(os.path.join(sweep, "runs", folder)), candidates)
        print(f"## {folder} ({time.time() - start:.0f} s)")
        print_rows(rows, table)
    print_means(table)


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:3]), *sys.argv[3:])
