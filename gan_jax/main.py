"""Command line entry point: train the run, or the sweep, that a config file describes.

  python -m gan_jax.main --config=configs/unrolled.py --workdir=runs/unrolled
  python -m gan_jax.main --config=configs/unrolled.py --config.unroll.steps=10 --workdir=runs/k10

Rerunning a command on its workdir resumes it. The logic lives in `gan_jax.run`, importable
from a notebook; this file only parses flags and turns bad input into one line on stderr.
"""

import os
import re
import signal
import sys
import traceback

from absl import app, flags, logging
from ml_collections import config_flags

from gan_jax.config import ConfigError
from gan_jax.run import Outcome, WorkdirError, train
from gan_jax.sweep import is_sweep, run_sweep

# Exit codes (README, "Exit codes"): a scheduler tells these apart.
EXIT_FINISHED = 0
EXIT_BAD_INPUT = 2  # refused input or a file-system fault, one line on stderr; nothing lost
EXIT_DIVERGED = 3  # every run stopped or finished, and at least one went non-finite
# Stopped by a signal after saving: 128 + the signal number (130 SIGINT, 143 SIGTERM).

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
    sys.exit(EXIT_BAD_INPUT)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _config_path(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            return arg.split("=", 1)[1].split(":", 1)[0]
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1].split(":", 1)[0]
    return None


def _config_file_problem(path: str, error: BaseException) -> str | None:
    """One line when `error` came from importing the config file itself (the file is executed
    once, by absl's flag parsing), else None."""
    if isinstance(error, AttributeError) and "get_config" in str(error):
        return f"--config={path}: the file has no get_config() function"
    frames = traceback.extract_tb(error.__traceback__)
    if any(os.path.abspath(frame.filename) == os.path.abspath(path) for frame in frames):
        return f"--config={path}: the file fails to import ({type(error).__name__}: {error})"
    return None


def _unknown_field(argv: list[str], message: str) -> str:
    """One line for an override of a field the config lacks, from ml_collections' message."""
    key = re.search(r"[A-Za-z_]\w*", message)
    key = key.group(0) if key else message
    hint = re.search(r'Did you mean "(\w+)"', message)
    hint = f'; did you mean "{hint.group(1)}"?' if hint else ""
    for arg in argv:
        name = arg.split("=", 1)[0]
        if name.startswith("--config.") and key in name[len("--config.") :].split("."):
            return f"{arg}: the config has no field {name[len('--config.') :]!r}{hint}"
    return f"the config has no field {key!r}{hint}"


def parse_flags(argv: list[str]) -> list[str]:
    """absl flag parsing, with a bad --config file or override reported as one line."""
    path = _config_path(argv)
    if path is not None and not os.path.isfile(path):
        _exit_with(f"--config={path}: no such file")
    try:
        return flags.FLAGS(argv)
    except flags.UnrecognizedFlagError as error:
        if error.flagname.startswith("config."):
            _exit_with(_unknown_field(argv, error.flagname.split(".")[-1]))
        _exit_with(_one_line(error))
    except Exception as error:  # noqa: BLE001 - absl and ml_collections raise many types here
        if path is not None and (problem := _config_file_problem(path, error)):
            _exit_with(_one_line(problem))
        cause = error.__cause__ or error
        if isinstance(cause, KeyError | AttributeError):
            _exit_with(_unknown_field(argv, str(cause.args[0] if cause.args else "")))
        _exit_with(_one_line(cause))
    return []


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


def exit_code(outcome: Outcome) -> int:
    """The process's exit code for an `Outcome`; prints one line per diverged run (to stderr,
    also off a terminal) and one for a stop by signal."""
    for name, step in outcome.diverged.items():
        print(
            f"diverged: {name} went non-finite at step {step} and was frozen there "
            "(its rows say diverged_at)",
            file=sys.stderr,
        )
    if outcome.stopped_by is not None:
        name = signal.Signals(outcome.stopped_by).name
        print(f"stopped by {name} after saving; rerun the same command to resume", file=sys.stderr)
        return 128 + outcome.stopped_by
    return EXIT_DIVERGED if outcome.diverged else EXIT_FINISHED


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        _exit_with(f"unexpected arguments {argv[1:]}; fields are set with --config.<field>=<value>")
    if _CONFIG.value is None:
        _exit_with("--config is required, e.g. --config=configs/unrolled.py")
    if not _WORKDIR.value:
        _exit_with("--workdir is required, e.g. --workdir=runs/unrolled")
    logging.set_verbosity(logging.WARNING)  # orbax logs every checkpoint file at INFO
    if _DISTRIBUTED.value:
        initialize_distributed(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value)
    try:
        run = run_sweep if is_sweep(_CONFIG.value) else train
        outcome = run(_CONFIG.value, _WORKDIR.value, overwrite=_OVERWRITE.value)
    except (ConfigError, WorkdirError) as error:
        _exit_with(_one_line(error))
    except OSError as error:  # a file-system fault outside the workdir's own writers
        _exit_with(f"{error.filename or _WORKDIR.value}: {error.strerror or error}")
    sys.exit(exit_code(outcome))


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
