"""Figures of a run: 2D samples over training, as in Metz et al. 2016, Figure 1."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_samples_over_training(
    samples_by_step: dict[int, np.ndarray], centers: np.ndarray, path: str, title: str = ""
) -> None:
    """One 2D scatter per step in a row, the true modes marked with red crosses."""
    steps = sorted(samples_by_step)
    fig, axes = plt.subplots(1, len(steps), figsize=(2.4 * len(steps), 2.6), squeeze=False)
    extent = 1.5 * np.abs(centers).max() + 0.5
    for ax, step in zip(axes[0], steps, strict=True):
        points = samples_by_step[step]
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, color="tab:green", linewidths=0)
        ax.scatter(centers[:, 0], centers[:, 1], s=25, marker="x", color="tab:red")
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"step {step}", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def pick_evenly(steps: list[int], count: int) -> list[int]:
    """Up to `count` of `steps`, evenly spaced, always the first and the last."""
    steps = sorted(steps)
    if len(steps) <= count:
        return steps
    index = np.round(np.linspace(0, len(steps) - 1, count)).astype(int)
    return [steps[i] for i in index]


def plot_mode_occupancy(steps: list[int], shares: np.ndarray, path: str) -> None:
    """Heatmap of the share of high-quality samples per mode (rows) at each eval (columns):
    a collapsed G cycling round the modes draws a staircase."""
    fig, ax = plt.subplots(figsize=(max(4.0, 0.12 * len(steps) + 2), 0.25 * shares.shape[1] + 1.2))
    image = ax.imshow(
        shares.T, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest"
    )
    ticks = np.linspace(0, len(steps) - 1, min(6, len(steps))).astype(int)
    ax.set_xticks(ticks, [str(steps[i]) for i in ticks])
    ax.set_xlabel("step")
    ax.set_ylabel("mode")
    fig.colorbar(image, ax=ax, label="share of HQ samples")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
