"""Command line entry point: train the run, or the sweep, that a config file describes.

  python -m gan_jax.main --config=configs/unrolled.py --workdir=runs/unrolled
  python -m gan_jax.main --config=configs/unrolled.py --config.unroll.steps=10 --workdir=runs/k10

Rerunning a command on its workdir resumes it. The logic lives in `gan_jax.commands`, importable
from a notebook; this file only parses flags and turns bad input into one line on stderr.
"""

import sys

from absl import app, flags
from ml_collections import config_flags

from gan_jax import cli

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Path to a config file with get_config().", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and samples.")
_OVERWRITE = flags.DEFINE_bool(
    "overwrite", False, "Discard a run with a different config already in --workdir."
)
_DISTRIBUTED = flags.DEFINE_bool(
    "distributed",
    False,
    "Multi-host: call jax.distributed.initialize() first (auto-detected on TPU pods / SLURM, or "
    "set --coordinator_address, --num_processes, --process_id); every process runs the same "
    "command, the runs axis spans all processes' devices and process 0 writes the outputs.",
)
_COORDINATOR = flags.DEFINE_string("coordinator_address", None, "host:port of process 0.")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "Number of processes.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None, "This process's index.")


def _exit_with(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(cli.EXIT_BAD_INPUT)


def parse_flags(argv: list[str]) -> list[str]:
    """absl flag parsing, with a bad --config file or override reported as one line."""
    remaining, problem = cli.parse(argv)
    if problem:
        _exit_with(problem)
    return remaining


def initialize_distributed(coordinator_address, num_processes, process_id) -> None:
    """jax.distributed.initialize before any computation; on CPU, gloo carries the collectives
    that gather metrics from every process."""
    import jax

    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except (AttributeError, ValueError):  # a jax without the option
        pass
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
    )


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        _exit_with(f"unexpected arguments {argv[1:]}; fields are set with --config.<field>=<value>")
    if _CONFIG.value is None:
        _exit_with("--config is required, e.g. --config=configs/unrolled.py")
    if not _WORKDIR.value:
        _exit_with("--workdir is required, e.g. --workdir=runs/unrolled")
    try:
        cli.configure_logging()
    except OSError as error:  # an unusable --log_dir
        _exit_with(cli.one_line(error))
    # The training stack (jax, orbax, matplotlib: seconds) loads only after the command line has
    # parsed, so a mistyped flag or config file is reported at once.
    from gan_jax.commands import train_and_report
    from gan_jax.loop.run import WorkdirError
    from gan_jax.step.config import ConfigError

    if _DISTRIBUTED.value:
        initialize_distributed(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value)
    try:
        outcome = train_and_report(_CONFIG.value, _WORKDIR.value, overwrite=_OVERWRITE.value)
    except (ConfigError, WorkdirError) as error:
        _exit_with(cli.one_line(error))
    except OSError as error:  # a file-system fault outside the workdir's own writers
        _exit_with(f"{error.filename or _WORKDIR.value}: {error.strerror or error}")
    code, lines = cli.outcome_report(outcome)
    for line in lines:
        print(line, file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
