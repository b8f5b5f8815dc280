"""Figures of runs and sweeps, drawn by the evaluators (`gan_jax.metrics.EVALUATORS`): 2D samples
over training as in Metz et al. 2016, Figure 1, mode occupancy, image grids, sample panels."""

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


PLOTTED_STEPS = 6  # evals shown in a run's samples_over_training.png


def show_points(ax, points: np.ndarray, centers: np.ndarray, title: str = "") -> None:
    """2D samples (green) and the mixture's modes (red crosses) on `ax`."""
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, color="tab:green", linewidths=0)
    ax.scatter(centers[:, 0], centers[:, 1], s=20, marker="x", color="tab:red")
    ax.set_title(title, fontsize=7)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def show_line(ax, points: np.ndarray, location: float, title: str = "") -> None:
    """1D samples as a histogram, the data point as a red line (Dirac-GAN)."""
    ax.hist(points[:, 0], bins=30, color="tab:green")
    ax.axvline(location, color="tab:red")
    ax.set_title(title, fontsize=7)


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


def image_grid(images: np.ndarray, columns: int) -> np.ndarray:
    """(n, H, W, C) images in [-1, 1] tiled into one (rows*(H+1), columns*(W+1), C) array in
    [0, 1], a 1-pixel white gap between tiles; missing tiles stay white."""
    images = np.clip((np.asarray(images, np.float32) + 1) / 2, 0, 1)
    n, height, width, channels = images.shape
    rows = -(-n // columns)
    grid = np.ones((rows * (height + 1) - 1, columns * (width + 1) - 1, channels), np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[
            r * (height + 1) : r * (height + 1) + height, c * (width + 1) : c * (width + 1) + width
        ] = image
    return grid


def show_grid(ax, images: np.ndarray, columns: int, title: str = "") -> None:
    """Draws `image_grid(images, columns)` on `ax`: grey for one channel, RGB for three."""
    grid = image_grid(images, columns)
    if grid.shape[-1] == 1:
        ax.imshow(grid[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(grid, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def plot_image_samples_over_training(
    samples_by_step: dict[int, np.ndarray], path: str, per_step: int = 36, real=None
) -> None:
    """One square grid of generated images per step in a row (and the real images first, when
    given): the image-data counterpart of `plot_samples_over_training`."""
    panels = ([("real", real)] if real is not None else []) + [
        (f"step {step}", samples_by_step[step]) for step in sorted(samples_by_step)
    ]
    columns = int(np.ceil(np.sqrt(per_step)))
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 2.8), squeeze=False)
    for ax, (title, images) in zip(axes[0], panels, strict=True):
        show_grid(ax, images[:per_step], columns, title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
