"""Mode hopping: does G hold its modes, or cycle through them (Metz et al. 2016, Figure 1)?

Computed on the host from the per-eval mode histograms of high-quality samples that every eval
logs (`mode_histogram` in metrics.jsonl), so it costs nothing during training.
"""

import numpy as np


def occupancy(histograms) -> np.ndarray:
    """(evals, modes) share of high-quality samples per mode; rows without any are all zero."""
    counts = np.asarray(histograms, float)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def dominant_modes(histograms, min_share: float = 0.5) -> np.ndarray:
    """The mode holding at least `min_share` of the high-quality samples at each eval, or -1
    when no mode does (G spread over several modes, or no high-quality sample)."""
    shares = occupancy(histograms)
    dominant = shares.argmax(axis=1)
    return np.where(shares.max(axis=1) >= min_share, dominant, -1)


def count_hops(dominant) -> int:
    """Switches of the dominant mode between consecutive evals where one mode dominates."""
    held = [int(m) for m in dominant if m >= 0]
    return sum(a != b for a, b in zip(held, held[1:], strict=False))


def mean_occupancy_shift(histograms) -> float:
    """Mean total-variation distance between consecutive occupancies: 0 when the share of each
    mode stays put, near 1 when the mass jumps to other modes at every eval."""
    shares = occupancy(histograms)
    filled = shares[shares.sum(axis=1) > 0]
    if len(filled) < 2:
        return float("nan")
    return float(np.mean(0.5 * np.abs(np.diff(filled, axis=0)).sum(axis=1)))
