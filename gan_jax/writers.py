"""Host-side metric outputs: `metrics.jsonl` (one JSON object per eval) and TensorBoard events.

TensorBoard files are written with tensorboardX, which does not need TensorFlow.
"""

import json
import math
import os

import numpy as np
import tensorboardX


def _jsonable(value):
    array = np.asarray(value)
    if array.ndim:
        return array.tolist()
    number = array.item()
    if isinstance(number, float) and not math.isfinite(number):
        return None  # JSON has no NaN; null reads back as "undefined"
    return number


class MetricsWriter:
    """Appends metric rows to `<workdir>/metrics.jsonl` and scalars to TensorBoard."""

    def __init__(self, workdir: str):
        self.path = os.path.join(workdir, "metrics.jsonl")
        self._tb = tensorboardX.SummaryWriter(os.path.join(workdir, "tensorboard"))

    def truncate_after(self, step: int) -> None:
        """Drops rows logged after `step`: a resumed run logs those steps again."""
        rows = read_metrics(self.path)
        with open(self.path, "w") as f:
            for row in rows:
                if row["step"] <= step:
                    f.write(json.dumps(row) + "\n")

    def write(self, step: int, metrics: dict) -> None:
        row = {"step": int(step), **{k: _jsonable(v) for k, v in metrics.items()}}
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")
        for name, value in row.items():
            if name != "step" and isinstance(value, int | float):
                self._tb.add_scalar(name, value, step)
        self._tb.flush()

    def close(self) -> None:
        self._tb.close()


def read_metrics(path: str) -> list[dict]:
    """The rows of a `metrics.jsonl` file ([] if it does not exist)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
