"""How far a run's final samples lie from the modes, in units of the mixture's sigma: tells a G
whose samples sit near the modes but outside the 3-sigma high-quality test (blurred) from one
that puts them between or away from the modes.

  python experiments/literature_2d/spread.py experiments/literature_2d/sweep/runs/*wgan_gp-ring*

Reads each run folder's newest saved samples (samples/step_*.npy, the final eval's plot
samples) and its config's data set; prints per run the quartiles of the distance to the nearest
mode over sigma and the share within 3, 6 and 10 sigma, then the means over the runs.
"""

import glob
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from gan_jax.parts import data  # noqa: E402

WITHIN = (3, 6, 10)


def distances(run_dir: str) -> np.ndarray:
    """Distance of each saved final sample to its nearest mode, over the mixture's sigma."""
    with open(os.path.join(run_dir, "config.json")) as f:
        config = json.load(f)
    mixture = data.from_config(config["data"])
    samples = np.load(sorted(glob.glob(os.path.join(run_dir, "samples", "step_*.npy")))[-1])
    sq = ((samples[:, None, :] - np.asarray(mixture.centers)[None]) ** 2).sum(-1)
    return np.sqrt(sq.min(1)) / mixture.std


def main(run_dirs: list[str]) -> int:
    if not run_dirs:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    print(
        "| run | samples | distance / sigma: 25 % / median / 75 % | "
        + " | ".join(f"within {k} sigma" for k in WITHIN)
        + " |"
    )
    print("| --- | --- | --- | " + " | ".join("---" for _ in WITHIN) + " |")
    shares = []
    for run_dir in run_dirs:
        d = distances(run_dir)
        q = np.percentile(d, [25, 50, 75])
        share = [100.0 * np.mean(d < k) for k in WITHIN]
        shares.append([*q, *share])
        print(
            f"| {os.path.basename(run_dir.rstrip('/'))} | {len(d)} | "
            f"{q[0]:.1f} / {q[1]:.1f} / {q[2]:.1f} | "
            + " | ".join(f"{s:.1f} %" for s in share)
            + " |"
        )
    mean = np.mean(shares, axis=0)
    print(
        f"| mean of {len(run_dirs)} runs | | {mean[0]:.1f} / {mean[1]:.1f} / {mean[2]:.1f} | "
        + " | ".join(f"{s:.1f} %" for s in mean[3:])
        + " |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
