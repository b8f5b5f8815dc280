"""Command-line plumbing shared by the entry points: bad flags as one line, exit codes.

absl and ml_collections report a mistyped override or a broken config file as a traceback
from deep inside flag parsing; `flag_error_line` turns each into the one line a user needs.
"""

import logging as py_logging
import os
import re
import signal
import traceback

from absl import flags, logging

# Exit codes (README, "Exit codes"): a scheduler tells these apart.
EXIT_FINISHED = 0
EXIT_BAD_INPUT = 2  # refused input or a file-system fault, one line on stderr; nothing lost
EXIT_DIVERGED = 3  # every run finished or stopped, and at least one went non-finite
# Stopped by a signal after saving: 128 + the signal number (130 SIGINT, 143 SIGTERM).


def one_line(error: BaseException | str) -> str:
    return " ".join(str(error).split())


def config_path(argv: list[str]) -> str | None:
    """The file named by --config (without its `:argument`), or None."""
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            return arg.split("=", 1)[1].split(":", 1)[0]
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1].split(":", 1)[0]
    return None


def _config_file_problem(path: str, error: BaseException) -> str | None:
    """One line when `error` came from importing the config file itself (absl executes it once,
    while parsing), else None."""
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


def _config_call_problem(argv: list[str], error: BaseException) -> str | None:
    """One line when `get_config(arg)` of `--config=file.py:arg` failed (ml_collections puts
    the whole traceback into its message; its last line says what failed), else None."""
    message = str(error)
    if "Error whilst parsing config file" not in message:
        return None
    full = next(
        (a.split("=", 1)[1] for a in argv if a.startswith("--config=")), config_path(argv) or ""
    )
    path, _, arg = full.partition(":")
    last = message.strip().splitlines()[-1].strip()
    if "get_config() takes 0 positional arguments" in last:
        return f"--config={full}: {path}'s get_config() takes no argument; drop ':{arg}'"
    call = f"get_config({arg!r})" if arg else "get_config()"
    return f"--config={full}: {call} failed ({last})"


def flag_error_line(argv: list[str], error: BaseException) -> str:
    """The one line for an exception raised while parsing `argv` with absl flags."""
    if problem := _config_call_problem(argv, error):
        return one_line(problem)
    path = config_path(argv)
    if isinstance(error, flags.UnrecognizedFlagError):
        if error.flagname.startswith("config."):
            return _unknown_field(argv, error.flagname.split(".")[-1])
        return one_line(error)
    if path is not None and (problem := _config_file_problem(path, error)):
        return one_line(problem)
    cause = error.__cause__ or error
    if isinstance(cause, KeyError | AttributeError):
        return _unknown_field(argv, str(cause.args[0] if cause.args else ""))
    return one_line(cause)


def parse(argv: list[str], flag_values=flags.FLAGS) -> tuple[list[str], str | None]:
    """Parses `argv` into `flag_values`: (remaining arguments, None), or ([], the one line that
    says what is wrong). A missing --config file is named before absl tries to load it."""
    path = config_path(argv)
    if path is not None and not os.path.isfile(path):
        return [], f"--config={path}: no such file"
    absl_logger = py_logging.getLogger("absl")  # ml_collections warns of a None config there
    level = absl_logger.level
    absl_logger.setLevel(py_logging.ERROR)
    try:
        remaining = flag_values(argv)
    except Exception as error:  # noqa: BLE001 - absl and ml_collections raise many types here
        return [], flag_error_line(argv, error)
    finally:
        absl_logger.setLevel(level)
    if path is not None and "config" in flag_values and flag_values["config"].value is None:
        return [], (
            f"--config={path}: get_config() returned None; it must return the config (an "
            "ml_collections.ConfigDict): is its return statement missing?"
        )
    return remaining, None


def outcome_report(outcome) -> tuple[int, list[str]]:
    """(exit code, lines for stderr) of a run's or sweep's `Outcome`: one line per diverged run
    (also off a terminal) and one for a stop by signal."""
    lines = [
        f"diverged: {name} went non-finite at step {step} and was frozen there "
        "(its rows say diverged_at)"
        for name, step in outcome.diverged.items()
    ]
    if outcome.stopped_by is not None:
        name = signal.Signals(outcome.stopped_by).name
        lines.append(f"stopped by {name} after saving; rerun the same command to resume")
        return 128 + outcome.stopped_by, lines
    return (EXIT_DIVERGED if outcome.diverged else EXIT_FINISHED), lines


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _from_this_package_or_warning(record: py_logging.LogRecord) -> bool:
    return record.levelno >= py_logging.WARNING or record.pathname.startswith(_PACKAGE_DIR)


def configure_logging(flag_values=flags.FLAGS) -> None:
    """absl logging for a command: gan_jax's INFO lines (one per eval, the closing summary) and
    every library's warnings; the libraries' own INFO lines (orbax reports every checkpoint file,
    jax its backends) only when --verbosity/-v is given. With --log_dir, the log goes to absl's
    log files there (stderr then keeps what --stderrthreshold lets through)."""
    if not flag_values["verbosity"].present:
        logging.get_absl_handler().addFilter(_from_this_package_or_warning)
    if flag_values["log_dir"].value:
        logging.get_absl_handler().use_absl_log_file()
