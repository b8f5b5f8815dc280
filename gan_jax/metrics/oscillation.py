"""Loss swing: the dominant period and amplitude of a loss curve (host side, numpy).

A GAN whose players circle each other shows it in the losses: D's and G's losses rise and fall
with a period of tens to thousands of steps. Computed at each eval over the per-step losses of
the steps since the last eval (the chunk metrics the host already holds), so it costs nothing on
device.
"""

import numpy as np


def loss_swing(values) -> dict[str, np.ndarray]:
    """Dominant period (in steps) and amplitude of the series along the last axis.

    The series is detrended (least-squares line), Hann-windowed and Fourier transformed; the
    dominant frequency is the largest bin above zero, its amplitude the sinusoid's half
    peak-to-peak (|X_k| * 2 / sum(window)), and `share` the fraction of the detrended series'
    spectral power in that bin and its two neighbours, where the window spreads a sinusoid
    (near 1 for a clean oscillation, small for noise). A series shorter than 4 steps gives NaN.
    """
    values = np.asarray(values, np.float64)
    length = values.shape[-1]
    if length < 4:
        nan = np.full(values.shape[:-1], np.nan)
        return {"period": nan, "amplitude": nan, "share": nan}
    t = np.arange(length, dtype=np.float64)
    design = np.stack([np.ones_like(t), t], axis=-1)
    coeffs, *_ = np.linalg.lstsq(design, np.moveaxis(values.reshape(-1, length), -1, 0), None)
    detrended = values.reshape(-1, length) - (design @ coeffs).T
    window = np.hanning(length)
    spectrum = np.abs(np.fft.rfft(detrended * window, axis=-1))[:, 1:]  # drop the mean
    peak = spectrum.argmax(axis=-1)
    peak_magnitude = np.take_along_axis(spectrum, peak[:, None], axis=-1)[:, 0]
    power = np.sum(spectrum**2, axis=-1)
    padded = np.pad(spectrum**2, ((0, 0), (1, 1)))
    rows = np.arange(len(peak))[:, None]
    peak_power = padded[rows, peak[:, None] + np.arange(3)].sum(axis=-1)
    shape = values.shape[:-1]
    return {
        "period": (length / (peak + 1)).reshape(shape),
        "amplitude": (2 * peak_magnitude / window.sum()).reshape(shape),
        "share": np.divide(peak_power, power, out=np.zeros_like(power), where=power > 0).reshape(
            shape
        ),
    }


def swing_metrics(series: dict[str, np.ndarray], keys=("d/loss", "g/loss")) -> dict:
    """`{key}_period`, `{key}_amplitude` for each loss in `series` (arrays (runs, steps))."""
    out = {}
    for key in keys:
        if key in series:
            swing = loss_swing(series[key])
            out[f"{key}_period"] = swing["period"]
            out[f"{key}_amplitude"] = swing["amplitude"]
    return out
