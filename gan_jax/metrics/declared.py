"""Every evaluation metric, declared once: its name in metrics.jsonl, its label, which direction
is better, how many digits it is reported with and whether it comes with a per-mode histogram.

Each kind of data set's evaluator (`gan_jax.metrics.EVALUATORS`) lists its metrics from here;
the report (`gan_jax/results/report.py`), the comparison tool and the sweep plots read these
declarations: a new metric is its function plus one entry here, and it reaches results.csv,
report.md and the plots by itself.
"""

from typing import NamedTuple


class Metric(NamedTuple):
    name: str  # the key its evaluator logs
    label: str  # how tables and plots name it
    higher_is_better: bool
    digits: int = 2
    # Logged with "mode_histogram", the per-mode counts behind it (mode hops, occupancy plots).
    mode_histogram: bool = False


# Mixtures (gan_jax/metrics/mixture.py): the report's main table, in this order.
MIXTURE = (
    Metric("modes_covered", "modes covered", True, mode_histogram=True),
    Metric("high_quality_pct", "HQ %", True, 1),
    Metric("reverse_kl", "reverse KL", False, 3),
)
# Stacked images (gan_jax/metrics/images.py, `stacked_mode_metrics`): beside the field's count
# (modes_covered / reverse_kl above, every sample by its argmax labels), the stricter one of the
# stacks whose every channel lies on the real-digit manifold (high_quality_pct is their share).
STACKED = (
    Metric("recognized_modes_covered", "modes covered (recognised stacks)", True),
    Metric("recognized_reverse_kl", "reverse KL (recognised stacks)", False, 3),
)
# Images (gan_jax/metrics/images.py; FID and KID on Inception: gan_jax/metrics/inception.py).
IMAGE = (
    Metric("fd", "Frechet distance", False),
    Metric("precision", "precision", True, 3),
    Metric("recall", "recall", True, 3),
    Metric("density", "density", True, 3),
    Metric("coverage", "coverage", True, 3),
    Metric("kid", "KID (classifier features)", False, 4),
    Metric("inception_score", "IS analogue", True),
    Metric("fid", "FID", False),
    Metric("kid_inception", "KID", False, 4),
)
# Dirac-GAN (gan_jax/parts/data/dirac.py): how far G is from the data point.
DIRAC = (Metric("distance_to_data", "distance to data", False, 4),)
# Samplers over G and D (gan_jax/step/samplers.py): their diagnostics, logged only under the
# sampler's prefix ("drs/acceptance_rate") beside its samples' metrics. No direction is better
# in itself; a high fill or restart share says the sampler fell back on plain G samples.
SAMPLER = (
    Metric("acceptance_rate", "acceptance rate", True, 3),
    Metric("fill_share", "fill share", False, 3),
    Metric("restart_share", "restart share", False, 3),
)

ALL = {m.name: m for m in MIXTURE + STACKED + IMAGE + DIRAC + SAMPLER}
