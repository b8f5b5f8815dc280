"""Exact metrics on Gaussian mixtures: the VEEGAN / PacGAN evaluation harness.

Srivastava et al. 2017 (VEEGAN), Sec. 5.1, and Lin et al. 2018 (PacGAN), Sec. 5.1: a sample is
*high quality* when it lies within 3 standard deviations of its nearest mode; a mode is *covered*
when it is the nearest mode of at least one high-quality sample; the *reverse KL* is
KL(p_gen || p_true) between the histogram of high-quality samples over modes and the true
(uniform) mode distribution.
"""

import jax
import jax.numpy as jnp
import numpy as np


def nearest_modes(samples: jax.Array, centers, std: float) -> tuple[jax.Array, jax.Array]:
    """Each sample's nearest mode, (n,) int, and whether it is high quality there (within 3 std
    of that mode's centre), (n,) bool."""
    centers = jnp.asarray(centers, jnp.float32)
    sq_dist = jnp.sum((samples[:, None, :] - centers[None, :, :]) ** 2, axis=-1)  # (n, M)
    return jnp.argmin(sq_dist, axis=1), jnp.min(sq_dist, axis=1) < (3.0 * std) ** 2


def mixture_metrics(samples: jax.Array, centers, std: float) -> dict[str, jax.Array]:
    """Mode coverage, high-quality percentage and reverse KL of `samples`, shape (n, 2).

    Returns:
      modes_covered: number of modes hit by at least one high-quality sample (float, 0..M).
      high_quality_pct: percentage of samples within 3 std of their nearest mode.
      reverse_kl: sum_m p_m log(p_m / (1/M)) over the high-quality histogram p; NaN when no
        sample is high quality (the histogram is undefined then).
      mode_histogram: (M,) counts of high-quality samples per mode.
    """
    num_modes = len(centers)
    nearest, high_quality = nearest_modes(samples, centers, std)
    counts = jnp.sum(jax.nn.one_hot(nearest, num_modes) * high_quality[:, None], axis=0)
    total = jnp.sum(counts)
    p = counts / jnp.maximum(total, 1.0)
    kl = jnp.sum(jnp.where(p > 0, p * jnp.log(p * num_modes), 0.0))
    return {
        "modes_covered": jnp.sum(counts > 0).astype(jnp.float32),
        "high_quality_pct": 100.0 * jnp.mean(high_quality),
        "reverse_kl": jnp.where(total > 0, kl, jnp.nan),
        "mode_histogram": counts,
    }


def lowest_reverse_kl(pool_counts, num_high_quality: int) -> float:
    """The lowest reverse KL that any selection of `num_high_quality` high-quality samples from a
    pool can have: a floor under every sampler that keeps or drops a pool's samples (DRS,
    MH-GAN), not necessarily reached by one that reads only D.

    Minimising KL(h / N || uniform) = sum_m (h_m / N) log(M h_m / N) over histograms h with
    0 <= h_m <= pool_counts[m] and sum_m h_m = N is a convex problem whose KKT conditions give
    water-filling, h_m = min(pool_counts[m], lam) with lam set by the sum. h is left continuous,
    so this is a lower bound on integer selections (equal to it when lam is a whole number).

    Args:
      pool_counts: (M,) high-quality samples of the pool per mode (`mixture_metrics`'
        "mode_histogram" of the pool).
      num_high_quality: N, the high-quality samples the selection must hold (e.g. 93 % of the
        samples returned, the HQ a row must reach).

    Returns:
      The lowest reverse KL, in nats; inf when the pool holds fewer than N high-quality samples.

    Raises:
      ValueError: N < 1 (no histogram to compare: `mixture_metrics` gives NaN there).
    """
    if num_high_quality < 1:
        raise ValueError(f"lowest_reverse_kl: num_high_quality={num_high_quality} must be >= 1")
    counts = np.sort(np.asarray(pool_counts, np.float64))
    num_modes, total = counts.size, float(num_high_quality)
    if counts.sum() < total:
        return float("inf")
    # The m smallest modes are given all they have; the rest share what is left equally, as long
    # as that share is not above what the next mode holds.
    given = np.concatenate([[0.0], np.cumsum(counts)])
    for m in range(num_modes):
        level = (total - given[m]) / (num_modes - m)
        if level <= counts[m]:
            break
    h = np.minimum(counts, level)
    p = h[h > 0] / total
    return float(np.sum(p * np.log(p * num_modes)))
