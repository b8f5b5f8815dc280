"""What `python -m gan_jax.main` does, callable from Python: train the run or the sweep that a
config describes; a sweep then gets its results.csv, report.md and plots.

    from gan_jax.commands import train_and_report
    outcome = train_and_report(config, "runs/unroll_ring")

This is the top layer (see `gan_jax/__init__.py`): the loop trains, the results layer reports,
and only this module calls both.
"""

import ml_collections
from absl import logging

from gan_jax.loop import run, sharding, sweep
from gan_jax.results import report, summary


def train_and_report(
    config: ml_collections.ConfigDict,
    workdir: str,
    *,
    overwrite: bool = False,
    stop_after_chunks: int | None = None,
    progress: bool = True,
) -> run.Outcome:
    """Trains `config` in `workdir` (`gan_jax.loop.run.train` for one run,
    `gan_jax.loop.sweep.run_sweep` for a sweep, both resuming) and, for a sweep, reports its
    finished runs (`gan_jax.results.report.write_sweep_report`), also after an interruption.
    Ends with the closing lines of `gan_jax.results.summary` in the log (absl, INFO).

    Returns:
      The `Outcome`: finished, the signal that stopped it, the runs that diverged.
    """
    train = sweep.run_sweep if sweep.is_sweep(config) else run.train
    outcome = train(
        config,
        workdir,
        overwrite=overwrite,
        stop_after_chunks=stop_after_chunks,
        progress=progress,
    )
    if sweep.is_sweep(config):
        report.write_sweep_report(config, workdir)
    if sharding.is_primary():
        for line in summary.closing_lines(config, workdir, outcome):
            logging.info("%s", line)
    return outcome
