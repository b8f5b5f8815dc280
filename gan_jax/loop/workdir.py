"""The one owner of a workdir: its layout, marker, lock, config record and file writes.

A workdir is a folder this project writes into. It holds exactly one thing, named by its marker
file `gan_jax.json`:

  kind "run"        a single run: config.json, metrics.jsonl, tensorboard/, samples/,
                    checkpoints/ (orbax, one folder per saved step), group.json
  kind "sweep"      a sweep's root: config.json (the sweep definition), runs/<run>/ (each of kind
                    "sweep_run"), checkpoints/<group id>/, results.csv, report.md, plots/
  kind "sweep_run"  one run of a sweep, trained and resumed through its sweep only; its stacked
                    checkpoint lives in the sweep's checkpoints/ (group.json points there)

Rules every writer follows, so that results are never lost or silently changed:
- A folder holding files of another origin, or of another kind, is refused (one line).
- One process at a time: `lock(workdir)` takes an exclusive `flock` on `<workdir>/.lock`; the OS
  releases it when the process dies, so a killed run never leaves a stale lock behind. Before
  its writes the loop checks that the lock file is still the one it locked (`HeldLock`): a
  workdir deleted or replaced under a running process stops it with one line.
- Bookkeeping files are replaced atomically (`write_json`, `write_text`: temp file + rename),
  with the permissions the process's umask gives (0644 by default); metrics.jsonl is only
  appended to, and a torn last line (a kill mid-write) is dropped on read.
- A file-system fault while writing (an `OSError`, or orbax / tensorstore's status errors such as
  `RESOURCE_EXHAUSTED`) becomes one line naming the path and what to do (`writing`).
- `--overwrite` deletes only the outputs this project writes (`OUTPUTS`), and only in a folder
  marked as this project's.

Workdirs made before the marker existed are recognised by their config.json and adopted.
"""

import contextlib
import csv
import errno
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import warnings

import ml_collections
import numpy as np

from gan_jax.step.experiment import DYNAMIC_DEFAULTS

MARKER = "gan_jax.json"
CONFIG = "config.json"
METRICS = "metrics.jsonl"
GROUP = "group.json"  # in a run's folder: where its stacked checkpoint is, and its row in it
FINAL = "final.json"  # in a sweep run's folder once it has reached num_steps
LOCK = ".lock"
KINDS = ("run", "sweep", "sweep_run")
# Everything this project writes into a workdir; `--overwrite` deletes these and nothing else.
OUTPUTS = {
    "run": (
        "checkpoints",
        METRICS,
        "tensorboard",
        "samples",
        CONFIG,
        GROUP,
        FINAL,
        MARKER,
    ),
    "sweep": ("runs", "checkpoints", "plots", "results.csv", "report.md", CONFIG, MARKER),
}
OUTPUTS["sweep_run"] = OUTPUTS["run"]
# Fields that may change between a run and its resumption: they set how long it runs and how
# often it saves, never what a step computes.
RESUMABLE_FIELDS = ("num_steps", "checkpoint_every", "keep_checkpoints_over_last")
# Fields added to the config after runs were made, with the value that reproduces the behaviour
# those runs had: a stored config without the field still matches a config that has this value.
ADDED_FIELDS = {
    **DYNAMIC_DEFAULTS,
    "penalty.name": "none",
    "g_regularizer.name": "none",
    "pairing": "none",
    "model.encoder.name": "none",
    "model.d.minibatch_kernels": 0,
    "model.d.minibatch_kernel_dim": 5,
    "model.d.minibatch_stddev": False,
    "model.d.pack": 1,
    "model.g.orthogonal_gain": None,
    "model.d.orthogonal_gain": None,
    "consensus.enabled": False,
    "ema.enabled": False,
    "extrapolation": "none",
    "data.tfds_dir": None,
    "data.image_size": None,
    "data.radius": None,
    "data.spacing": None,
    "data.std": None,
    "data.num_points": None,
    "data.points_seed": None,
    "eval.inception_weights": None,
    "eval.samplers": (),
    "eval.sampler_candidates": 20,
    "eval.drs_gamma_quantile": 0.95,
    "eval.drs_gamma_rule": "quantile",
    "eval.sampler_logit_scale": 1.0,
    "eval.samplers_from_step": 0,
    "keep_checkpoints_over_last": 0.0,
    "eval.sampler_calibration": "none",
    "eval.sampler_ratio": "d",
    "eval.ratio_classifier_steps": 40_000,
    **{
        f"optim.{player}.{field}": value
        for player in ("g", "d")
        for field, value in (
            ("schedule", "constant"),
            ("schedule_steps", 0),
            ("schedule_final", 1.0),
        )
    },
}
# A run folder's name is its readable run name; past this many bytes (file systems allow 255)
# it is cut and a stable hash of the full name appended. The full name stays in the marker.
MAX_NAME_BYTES = 200


class WorkdirError(ValueError):
    """A workdir cannot be used as asked; the message is one line and nothing was changed."""


# --- file writes -----------------------------------------------------------------------------


def _describe(error: OSError, path: str) -> str:
    reason = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "free some space and rerun the same command (it resumes from the last checkpoint)"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "choose a --workdir you can write to"
    elif error.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        hint = "a file stands where a folder must be: choose another --workdir"
    elif error.errno == errno.ENAMETOOLONG:
        hint = "choose a shorter --workdir"
    else:
        hint = "fix the file system and rerun the same command"
    return f"cannot write {shown_path(error.filename or path)}: {reason}; {hint}"


# Orbax writes through tensorstore, which reports a file-system fault as a ValueError (or
# RuntimeError) carrying an absl status code and, often, the OS error number.
_OS_ERROR_CODE = re.compile(r"os_error_code='?(\d+)")
_STATUS_ERRNO = {
    "RESOURCE_EXHAUSTED": errno.ENOSPC,
    "PERMISSION_DENIED": errno.EACCES,
    "UNAVAILABLE": errno.EIO,
    "DATA_LOSS": errno.EIO,
}


def os_error(error: BaseException) -> OSError | None:
    """`error` as the `OSError` it reports: itself, or an orbax / tensorstore status error that
    names an OS error (`os_error_code=28`) or a status code (`RESOURCE_EXHAUSTED: ...`); None for
    any other error."""
    if isinstance(error, OSError):
        return error
    if not isinstance(error, ValueError | RuntimeError):
        return None
    text = str(error)
    found = _OS_ERROR_CODE.search(text)
    if found:
        code = int(found.group(1))
        return OSError(code, os.strerror(code))
    for status, code in _STATUS_ERRNO.items():
        if re.search(rf"\b{status}\b", text):
            return OSError(code, os.strerror(code))
    return None


def shown_path(path) -> str:
    """A path as it can be printed: bytes that are not UTF-8 as \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


@contextlib.contextmanager
def writing(path: str):
    """Turns a file-system fault raised while writing under `path` (`os_error`) into a one-line
    `WorkdirError`; any other error passes through."""
    try:
        yield
    except WorkdirError:
        raise
    except (OSError, ValueError, RuntimeError) as error:
        found = os_error(error)
        if found is None:
            raise
        if found is not error and not found.filename:
            found.filename = path
        raise WorkdirError(_describe(found, path)) from None


def check_path(workdir: str) -> None:
    """Refuses a workdir whose path is not valid UTF-8 (a byte such as \\xff in a folder's
    name): orbax's checkpoint store cannot name files there."""
    try:
        os.path.abspath(workdir).encode("utf-8")
    except UnicodeEncodeError:
        raise WorkdirError(
            f"{shown_path(os.path.abspath(workdir))} is not valid UTF-8, and orbax cannot name "
            "checkpoint files there; choose a --workdir whose path is UTF-8"
        ) from None


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:  # reads the umask without changing it (Linux)
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, then put it back
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The permissions a new file gets under the process's umask (0644 under the usual 022):
    what `open` gives, where `tempfile.mkstemp` gives 0600."""
    return 0o666 & ~_umask()


def dir_mode() -> int:
    """The permissions a new folder gets under the process's umask (0755 under 022), where
    `tempfile.mkdtemp` gives 0700."""
    return 0o777 & ~_umask()


@contextlib.contextmanager
def _temp_file(path: str, mode: str, prefix: str, suffix: str = ""):
    """Yields an open temporary file beside `path` that replaces `path` when the block ends
    (flushed and synced first); on failure the temporary file is removed, `path` untouched."""
    directory = os.path.dirname(os.path.abspath(path))
    with writing(path):
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=suffix)
        try:
            os.fchmod(fd, file_mode())
            with os.fdopen(fd, mode) as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            raise


def makedirs(path: str) -> None:
    with writing(path):
        os.makedirs(path, exist_ok=True)


def write_text(path: str, text: str) -> None:
    """Replaces `path` with `text` atomically: readers see the old file or the new, never half."""
    with _temp_file(path, "w", prefix=f".{os.path.basename(path)}.") as f:
        f.write(text)


def write_csv(path: str, rows: list[dict]) -> None:
    """Replaces `path` atomically with `rows` as a CSV: the header is every key in first-seen
    order, and a row without a key gets an empty cell (results.csv of mixed variants)."""
    fields = list(dict.fromkeys(key for row in rows for key in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields, restval="")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, text.getvalue())


def write_json(path: str, value) -> None:
    write_text(path, json.dumps(value, indent=2) + "\n")


def write_bytes(path: str, write) -> None:
    """Replaces `path` atomically with what `write(file)` writes into a binary file."""
    with _temp_file(path, "wb", prefix=f".{os.path.basename(path)}.") as f:
        write(f)


def save_array(path: str, array) -> None:
    """`np.save`, atomically (a killed run never leaves a truncated sample file)."""
    with _temp_file(path, "wb", prefix=".sample.", suffix=".npy") as f:
        np.save(f, np.asarray(array))


def load_array(path: str):
    """A saved sample array, or None (with a warning) when the file is unreadable."""
    try:
        return np.load(path)
    except (OSError, ValueError, EOFError) as error:
        warnings.warn(f"skipped unreadable {path} ({error})", stacklevel=2)
        return None


def read_samples(samples_dir: str) -> dict:
    """A run's saved eval samples (samples/step_XXXXXXXX.npy) by step, unreadable files skipped
    with a warning; {} when the run kept none (eval.plot_samples=0)."""
    if not os.path.isdir(samples_dir):
        return {}
    loaded = {
        int(name[5:13]): load_array(os.path.join(samples_dir, name))
        for name in os.listdir(samples_dir)
        if name.startswith("step_") and name.endswith(".npy")
    }
    return {step: array for step, array in sorted(loaded.items()) if array is not None}


_JSON_TYPES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "true/false",
    int: "a number",
    float: "a number",
    type(None): "null",
}
DAMAGED_ADVICE = "put back its original content, or rerun with --overwrite to start over"


def read_json(path: str, what: str = "", expect: type | None = dict):
    """A JSON file's content; a torn or unreadable file, or (with `expect`) a value of another
    JSON type than gan_jax writes there, is a one-line `WorkdirError` naming the file and
    `what` to do."""
    try:
        with open(path) as f:
            value = json.load(f)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as error:
        raise WorkdirError(
            f"{shown_path(path)} is damaged ({type(error).__name__}: "
            f"{' '.join(str(error).split())}); {what or DAMAGED_ADVICE}"
        ) from None
    if expect is not None and not isinstance(value, expect):
        raise WorkdirError(
            f"{shown_path(path)} is damaged (it holds {_JSON_TYPES.get(type(value), 'a value')}, "
            f"where gan_jax writes {_JSON_TYPES[expect]}); {what or DAMAGED_ADVICE}"
        )
    return value


# --- metrics.jsonl ---------------------------------------------------------------------------


def read_metrics(path: str) -> list[dict]:
    """The rows of a `metrics.jsonl` file ([] if it does not exist). A torn line (the process
    was killed while appending it) is dropped with a warning."""
    if not os.path.exists(path):
        return []
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError:
                warnings.warn(f"{path}: dropped unreadable line {number}", stacklevel=2)
    return rows


def append_metrics(path: str, row: dict) -> None:
    with writing(path), open(path, "a") as f:
        f.write(json.dumps(row) + "\n")


def keep_metrics_until(path: str, step: int) -> None:
    """Drops rows logged after `step` (a resumed run logs those steps again) and any torn line,
    atomically."""
    kept = "".join(json.dumps(row) + "\n" for row in read_metrics(path) if row["step"] <= step)
    current = None
    if os.path.exists(path):
        with open(path) as f:
            current = f.read()
    if kept != current:
        write_text(path, kept)


# --- config records --------------------------------------------------------------------------


def config_to_dict(config: ml_collections.ConfigDict) -> dict:
    """The config as plain JSON data (tuples become lists)."""
    return json.loads(config.to_json())


def _tuples(tree):
    if isinstance(tree, dict):
        return {k: _tuples(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return tuple(_tuples(v) for v in tree)
    return tree


def flatten(tree: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}} -> {"a.b": 1}."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_differences(old: dict, new: dict, ignore=RESUMABLE_FIELDS) -> list[str]:
    """`field: old -> new` for each field that differs between two config dicts."""
    old_flat, new_flat = flatten(old), flatten(new)
    for key, value in ADDED_FIELDS.items():
        if key not in old_flat and _tuples(new_flat.get(key)) == value:  # JSON: lists, not tuples
            old_flat[key] = new_flat.get(key)
    return [
        f"{key}: {old_flat.get(key, '<absent>')!r} -> {new_flat.get(key, '<absent>')!r}"
        for key in sorted(set(old_flat) | set(new_flat))
        if key not in ignore and old_flat.get(key) != new_flat.get(key)
    ]


def stored_config_dict(workdir: str) -> dict | None:
    path = os.path.join(workdir, CONFIG)
    if not os.path.exists(path):
        return None
    return read_json(path)


def trained_steps(workdir: str, kind_: str) -> int:
    """How far the workdir has trained, from its logged metrics: a run's last logged step, a
    sweep's furthest run's (0 when nothing was logged)."""
    folders = (
        [os.path.join(workdir, "runs", name) for name in sweep_runs(workdir)]
        if kind_ == "sweep"
        else [workdir]
    )
    steps = [0]
    for folder in folders:
        with warnings.catch_warnings():  # a torn line is reported when the run resumes
            warnings.simplefilter("ignore")
            rows = read_metrics(os.path.join(folder, METRICS))
        steps += [row["step"] for row in rows[-1:] if isinstance(row.get("step"), int)]
    return max(steps)


def config_from_dict(stored: dict) -> ml_collections.ConfigDict:
    """A stored config dict as a ConfigDict (lists become tuples again), with every field added
    since it was stored set to the value that reproduces how it ran (`ADDED_FIELDS`; a model's
    fields are left to the module's defaults, which only some models have)."""
    tree = _tuples(stored)
    if _looks_like_our_config(stored):
        for field, value in ADDED_FIELDS.items():
            if field.startswith("model."):  # module fields: absent ones keep the module default
                continue
            *parents, name = field.split(".")
            node = tree
            for part in parents:
                node = node.setdefault(part, {})
            node.setdefault(name, value)
    return ml_collections.ConfigDict(tree)


def load_config(workdir: str) -> ml_collections.ConfigDict:
    """The config a run (or sweep) in `workdir` was made with, from its config.json."""
    stored = stored_config_dict(workdir)
    if stored is None:
        raise FileNotFoundError(f"{workdir} holds no gan_jax run (no {CONFIG})")
    return config_from_dict(stored)


# --- kind and marker -------------------------------------------------------------------------


def _looks_like_our_config(stored) -> bool:
    return isinstance(stored, dict) and {"objective", "model", "data", "optim"} <= set(stored)


def kind(workdir: str) -> str | None:
    """ "run", "sweep" or "sweep_run" for a workdir of this project, None for a missing or
    empty folder; a `WorkdirError` for a folder that holds something else."""
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise WorkdirError(f"{workdir} is a file, not a folder; choose another --workdir")
    check_path(workdir)
    marker = os.path.join(workdir, MARKER)
    # The marker only names the kind: deleted, the folder is recognised by its config.json.
    remake = "delete it and rerun (gan_jax recognises the folder by its config.json)"
    if os.path.exists(marker):
        found = read_json(marker, remake).get("kind")
        if found not in KINDS:
            raise WorkdirError(
                f"{shown_path(marker)} is damaged (it names an unknown kind {found!r}); {remake}"
            )
        return found
    if not os.path.isdir(workdir):
        return None
    path = os.path.join(workdir, CONFIG)
    if os.path.exists(path):  # made before markers existed: adopt it if it is ours
        stored = read_json(
            path, "put back its original content, or choose another --workdir", expect=None
        )
        if _looks_like_our_config(stored):
            if "sweep" in stored:
                return "sweep"
            group = os.path.join(workdir, GROUP)
            pointer = read_json(group, GROUP_ADVICE) if os.path.exists(group) else {}
            in_sweep = str(pointer.get("checkpoint_dir", "")).startswith("..")
            return "sweep_run" if in_sweep else "run"
    foreign = sorted(set(os.listdir(workdir)) & {n for o in OUTPUTS.values() for n in o})
    if foreign:
        raise WorkdirError(
            f"{workdir} holds files gan_jax did not write ({', '.join(foreign)}); "
            "choose an empty or new --workdir"
        )
    return None


# group.json is written again whenever its run (or its sweep) trains.
GROUP_ADVICE = "delete it and rerun the run's command (or its sweep's), which writes it again"


def read_group(workdir: str) -> dict | None:
    """A run's group.json (where its stacked checkpoint is, its row in it), None if it has none;
    a damaged one is a one-line `WorkdirError`."""
    path = os.path.join(workdir, GROUP)
    if not os.path.exists(path):
        return None
    pointer = read_json(path, GROUP_ADVICE)
    valid = isinstance(pointer.get("checkpoint_dir"), str) and all(
        isinstance(pointer.get(k), int) for k in ("index", "num_padded")
    )
    if not valid:
        raise WorkdirError(
            f"{shown_path(path)} is damaged (it lacks checkpoint_dir, index or num_padded); "
            f"{GROUP_ADVICE}"
        )
    return pointer


def mark(workdir: str, kind_: str, **info) -> None:
    write_json(os.path.join(workdir, MARKER), {"kind": kind_, "version": 1, **info})


def marker(workdir: str) -> dict:
    path = os.path.join(workdir, MARKER)
    return read_json(path) if os.path.exists(path) else {}


KIND_NAMES = {"run": "a single run", "sweep": "a sweep", "sweep_run": "a run of a sweep"}


def check_kind(workdir: str, wanted: str) -> str | None:
    """The workdir's kind, refused with one line when it holds another kind of thing."""
    found = kind(workdir)
    if found not in (None, wanted):
        advice = {
            "sweep_run": "rerun its sweep (the folder two levels up) instead",
        }.get(found, "choose another --workdir")
        raise WorkdirError(
            f"{workdir} holds {KIND_NAMES[found]}, not {KIND_NAMES[wanted]}; {advice}"
        )
    return found


def discard_outputs(workdir: str, kind_: str) -> None:
    """Deletes what this project wrote into a workdir of `kind_`, and nothing else."""
    with writing(workdir):
        for name in OUTPUTS[kind_]:
            target = os.path.join(workdir, name)
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target)
            elif os.path.lexists(target):
                os.remove(target)


def prepare(
    workdir: str,
    config: ml_collections.ConfigDict,
    kind_: str,
    *,
    overwrite: bool,
    write: bool = True,
    keeps=None,
    **info,
) -> None:
    """Makes `workdir` hold `config`'s run (or sweep): refuses another kind or, unless
    `overwrite`, a different config (listing what differs); keeps a matching one (to resume).
    `keeps(stored_config_dict)` may accept a stored config that differs (a sweep that only
    grows); its record is then updated. With `write=False` this only checks (every process of a
    multi-host job checks; process 0 writes), so a refusal never leaves a change behind."""
    found = check_kind(workdir, kind_)
    new = config_to_dict(config)
    try:
        stored = stored_config_dict(workdir) if found else None
        damaged = []
    except WorkdirError:
        if not overwrite:  # its advice: put it back, or --overwrite
            raise
        stored, damaged = None, [f"{CONFIG} is damaged"]
    differences = config_differences(stored, new) if stored is not None else []
    if differences and keeps is not None and keeps(stored):
        differences = []
    if stored is not None and kind_ != "sweep_run":  # a sweep says it once, for all its runs
        differences += _shortened(workdir, kind_, stored, new, overwrite)
    differences += damaged
    if differences and not overwrite:
        raise WorkdirError(
            f"{workdir} holds {KIND_NAMES[kind_]} with a different config ("
            + "; ".join(differences)
            + "); use another --workdir, or pass --overwrite to discard it"
        )
    if not write:
        return
    if differences:
        discard_outputs(workdir, kind_)
    makedirs(workdir)
    if not os.path.exists(os.path.join(workdir, MARKER)) or differences:
        mark(workdir, kind_, **info)
    if stored != new or differences:
        write_json(os.path.join(workdir, CONFIG), new)  # e.g. num_steps raised on resume


def _shortened(workdir: str, kind_: str, stored: dict, new: dict, overwrite: bool) -> list[str]:
    """A lowered num_steps cannot shorten what is already trained (a finished run is never cut
    back, and its record must keep saying how far it trained): refused in one line, or with
    `overwrite` one more difference, so that the old outputs are discarded."""
    before, after = stored.get("num_steps"), new.get("num_steps")
    if not (isinstance(before, int) and isinstance(after, int) and after < before):
        return []
    trained = trained_steps(workdir, kind_)
    if trained <= after:
        return []  # stops at the new num_steps, which it has not passed yet
    if not overwrite:
        raise WorkdirError(
            f"{workdir} holds {KIND_NAMES[kind_]} already trained to step {trained}, and "
            f"num_steps={after} (was {before}) cannot shorten it: keep num_steps >= {trained} to "
            "keep it, use another --workdir, or pass --overwrite to discard it and train "
            f"{after} steps"
        )
    return [f"num_steps: {before} -> {after} (trained to step {trained})"]


# --- lock ------------------------------------------------------------------------------------


class HeldLock:
    """The lock a process holds on a workdir (what `lock` yields). `is_current` tells whether
    the folder is still the one locked: a `flock` lives on the lock file's inode, so deleting the
    workdir (or replacing it, say by a second process that then locks a fresh `.lock`) frees the
    path without the holder noticing, and its next write would go nowhere or into another run."""

    def __init__(self, workdir: str, fd: int):
        self.workdir, self._fd = workdir, fd

    def is_current(self) -> bool:
        """Whether `<workdir>/.lock` is still the file this process locked."""
        held = os.fstat(self._fd)
        try:
            now = os.stat(os.path.join(self.workdir, LOCK))
        except OSError:  # gone, or a parent turned into a file
            return False
        return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def lost_lock_error(workdir: str, step: int | None) -> WorkdirError:
    """The one line for a workdir deleted or replaced under the process that locked it."""
    where = "before its first write" if step is None else f"at step {step}"
    return WorkdirError(
        f"{workdir} was deleted or replaced while this process trained in it (its {LOCK} is not "
        f"the one this process locked); stopped {where} without writing more there; rerun into "
        "a new --workdir (a moved folder resumes with --workdir at its new place)"
    )


def no_lock_check(step: int | None) -> None:
    """`train_group`'s check for a caller that holds no lock (a test driving it directly)."""


@contextlib.contextmanager
def lock(workdir: str):
    """Holds an exclusive lock on `workdir` for the block, yielding a `HeldLock`; a second process
    is refused at once with one line naming the holder. The OS drops the lock when the holder
    dies."""
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise WorkdirError(f"{workdir} is a file, not a folder; choose another --workdir")
    makedirs(workdir)
    path = os.path.join(workdir, LOCK)
    with writing(path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            with open(path) as f:
                holder = f.read().strip() or "another process"
            raise WorkdirError(
                f"{workdir} is in use by {holder}; wait for it to finish, or stop it first"
            ) from None
        holder = (
            f"process {os.getpid()} on {socket.gethostname()} since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S')} ({' '.join(sys.argv[:1])})"
        )
        with writing(path):
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder.encode(), 0)
        yield HeldLock(workdir, fd)
    finally:
        os.close(fd)  # closing the descriptor releases the flock


# --- sweep layout ----------------------------------------------------------------------------


def run_folder_name(name: str) -> str:
    """A sweep run's folder name: its run name, or when that is too long for a file system,
    its start and a stable hash of the whole name."""
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:12]
    start = name.encode()[: MAX_NAME_BYTES - 13].decode(errors="ignore")
    return f"{start}~{digest}"


def run_dir(sweep_workdir: str, run_name: str) -> str:
    return os.path.join(sweep_workdir, "runs", run_folder_name(run_name))


def final_steps(run_workdir: str) -> int | None:
    """The num_steps a sweep run finished with, or None while it is unfinished."""
    path = os.path.join(run_workdir, FINAL)
    if not os.path.exists(path):
        return None
    try:
        return read_json(path).get("num_steps")
    except WorkdirError:
        warnings.warn(
            f"{path} is damaged: the run is trained again from its checkpoint", stacklevel=2
        )
        return None


def mark_finished(run_workdir: str, name: str, num_steps: int) -> None:
    write_json(os.path.join(run_workdir, FINAL), {"name": name, "num_steps": num_steps})


def sweep_runs(sweep_workdir: str) -> list[str]:
    """The run folders under a sweep root (for messages and readers)."""
    runs = os.path.join(sweep_workdir, "runs")
    return sorted(os.listdir(runs)) if os.path.isdir(runs) else []
