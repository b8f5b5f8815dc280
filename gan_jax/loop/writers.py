"""Host-side metric outputs: `metrics.jsonl` (one JSON object per eval) and TensorBoard events.

TensorBoard files are written with tensorboardX, which does not need TensorFlow. The file
rules (append only, torn lines dropped on read) live in `gan_jax.loop.workdir`.
"""

import atexit
import contextlib
import math
import os

import numpy as np
import tensorboardX

from gan_jax.loop import workdir as wd
from gan_jax.loop.workdir import read_metrics

__all__ = ["MetricsWriter", "read_metrics"]


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

    def __init__(self, run_workdir: str):
        self.path = os.path.join(run_workdir, wd.METRICS)
        with wd.writing(run_workdir):
            self._tb = tensorboardX.SummaryWriter(os.path.join(run_workdir, "tensorboard"))
        # Runs before tensorboardX's own exit hook (last registered, first run): a run that
        # stopped on a fault (a full disk) never closed its writer, and that hook would print
        # the fault again as a traceback.
        atexit.register(self._close_at_exit)

    def truncate_after(self, step: int) -> None:
        """Drops rows logged after `step`: a resumed run logs those steps again."""
        wd.keep_metrics_until(self.path, step)

    def write(self, step: int, metrics: dict) -> None:
        row = {"step": int(step), **{k: _jsonable(v) for k, v in metrics.items()}}
        try:
            wd.append_metrics(self.path, row)
            with wd.writing(self.path):
                for name, value in row.items():
                    if name != "step" and isinstance(value, int | float):
                        self._tb.add_scalar(name, value, step)
                self._tb.flush()
        except wd.WorkdirError:  # a full disk, say: reported in one line by the caller
            self._abandon()
            raise

    def close(self) -> None:
        self._tb.close()
        atexit.unregister(self._close_at_exit)

    def _close_at_exit(self) -> None:
        try:
            self._tb.close()
        except Exception:  # noqa: BLE001 - the fault was already reported in one line
            self._abandon()

    def _abandon(self) -> None:
        """Gives up TensorBoard's writer after a failed write (a full disk): its pending events
        cannot be written, and tensorboardX's exit hook would only try again and print the same
        failure; so its worker thread is stopped and its writers marked closed."""
        for writer in getattr(self._tb, "all_writers", {}).values():
            event_writer = getattr(writer, "event_writer", None)
            if event_writer is None or not hasattr(event_writer, "_closed"):
                continue
            with contextlib.suppress(Exception):
                event_writer._worker.stop()
            event_writer._closed = True
