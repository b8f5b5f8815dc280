"""Orbax checkpoints of a `GANState`, each carrying the digest that proves its content.

Orbax checks a checkpoint's structure, not its bytes: four bytes overwritten in its data
restore without error. So each checkpoint carries the SHA-256 of the state it holds (every
leaf's bytes, in tree order) in its own metadata (orbax's `custom_metadata`, in the step's
`_CHECKPOINT_METADATA`), written inside the step's temporary folder and committed with it by
orbax's atomic rename: there is no checkpoint without its digest, and no side file whose loss or
damage could make a damaged checkpoint load silently or an intact one look damaged.

Restoring chooses the newest *verified* checkpoint (its content matches its digest). A newer one
that is damaged, or that carries no digest it can be checked against, is skipped with one
warning line; a resumed run moves the skipped ones aside (`<step>.damaged-<time>`,
`<step>.unverified-<time>`) so that it can save those steps again. Checkpoints made before
digests moved inside (gan_jax's `digests.json` beside them, now read as an index only) are
verified against that index; when no checkpoint can be verified, the newest readable one is
restored with one warning line saying so.
"""

import collections
import contextlib
import dataclasses
import gc
import hashlib
import logging as py_logging
import math
import os
import sys
import threading
import time
import traceback
import warnings

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging
from orbax.checkpoint.checkpoint_managers import preservation_policy

from gan_jax.loop import sharding
from gan_jax.loop import workdir as wd

DIGEST = "gan_jax_sha256"  # the key of a checkpoint's digest in its custom_metadata
# ... and of the first step from which the run's keep policies (keep_checkpoints_over_last, at
# every num_steps it was trained with) keep every checkpoint: a resume keeps those too.
KEPT_FROM = "gan_jax_kept_from"
LEGACY_DIGESTS = "digests.json"  # beside the checkpoints of runs made before DIGEST existed


@dataclasses.dataclass
class _KeepFrom(preservation_policy.PreservationPolicy):
    """Keeps every checkpoint from `first_step` on (e.g. the last fifth of a run, to read its
    samplers or metrics at every step of it afterwards)."""

    first_step: int

    def should_preserve(self, checkpoints, *, context) -> list[bool]:
        del context
        return [info.step >= self.first_step for info in checkpoints]


def keep_from_step(num_steps: int, keep_over_last: float) -> int | None:
    """The first step whose checkpoint is kept when every checkpoint over the last
    `keep_over_last` of `num_steps` is kept (None when the fraction is 0: the newest 3 only).
    `num_steps - floor(num_steps * f)`, the product rounded first: `ceil(100 * (1 - 0.7))` is 31,
    as 1 - 0.7 is 0.30000000000000004 in floating point, and would drop step 30."""
    if keep_over_last <= 0:
        return None
    return num_steps - math.floor(round(num_steps * keep_over_last, 9))


def first_kept_step(directory: str, keep_from: int | None) -> int | None:
    """The first step from which the run in `directory` keeps every checkpoint: this config's
    `keep_from`, lowered to the lowest its checkpoints record (`KEPT_FROM`; each one's, so that a
    damaged newest one does not lose the record), so that a resume with a raised `num_steps` (a
    later `keep_from`) deletes nothing an earlier one kept.
    `make_manager` keeps from it and `save` records it.

    Whether there is a run to read is the primary process's answer: a reader is an orbax manager,
    whose collectives every process must call in the same order, and another process may already
    have created `directory` when this one looks."""
    recorded = []
    if sharding.primary_says(os.path.isdir(directory)):
        reader = make_manager(directory, create=False)
        try:
            customs = [_custom_metadata(reader, step)[0] for step in reader.all_steps()]
        finally:
            reader.close()
        recorded = [c.get(KEPT_FROM) for c in customs if isinstance(c, dict)]
    firsts = [f for f in (keep_from, *recorded) if isinstance(f, int)]
    return min(firsts) if firsts else None


def make_manager(
    directory: str, max_to_keep: int = 3, keep_from: int | None = None, create: bool = True
):
    """A `CheckpointManager` over `directory`, one checkpoint per saved step, keeping the newest
    `max_to_keep` and every one from step `keep_from` on (`first_kept_step`). With
    `create=False` (reading someone's run) nothing is created or changed on disk; otherwise the
    temporary folders of saves that never finished (a kill, a full disk) are removed."""
    directory = os.path.abspath(directory)
    policy = None
    if create:
        policies = [preservation_policy.LatestN(max_to_keep)]
        if keep_from is not None:
            policies.append(_KeepFrom(keep_from))
        policy = preservation_policy.AnyPreservationPolicy(policies)
    with wd.writing(directory), _quiet():  # orbax logs a torn step metadata file at ERROR
        options = ocp.CheckpointManagerOptions(
            preservation_policy=policy,
            save_interval_steps=1 if create else 0,
            create=create,
            read_only=not create,
            cleanup_tmp_directories=create,
        )
        return ocp.CheckpointManager(
            directory, options=options, item_handlers=ocp.StandardCheckpointHandler()
        )


def _drop_closed_loop_errors(previous):
    """An unraisable-exception hook that drops `RuntimeError('Event loop is closed')`: when one
    read of a damaged checkpoint fails, orbax's event loop closes while tensorstore still
    completes the others, and each completion reports the closed loop."""

    def hook(unraisable):
        error = unraisable.exc_value
        if isinstance(error, RuntimeError) and "Event loop is closed" in str(error):
            return
        previous(unraisable)

    hook.drops_closed_loop_errors = True

    return hook


class _DropFailedReadTasks(py_logging.Filter):
    """Drops asyncio's "Task/Future exception was never retrieved" reports of a damaged checkpoint's
    failed reads. A read still running on orbax's event loop when the restore gives up is
    collected later, after `_quiet` has ended, and asyncio then prints its traceback; the
    caller has already reported the damage in one line."""

    def filter(self, record: py_logging.LogRecord) -> bool:
        if not str(record.msg).startswith(
            ("Task exception was never retrieved", "Future exception was never retrieved")
        ):
            return True
        error = record.exc_info[1] if record.exc_info else None
        frames = traceback.extract_tb(error.__traceback__) if error is not None else []
        message = record.getMessage()
        # A bare future's failed tensorstore read has no orbax frame: its message names the spec.
        return not any("orbax" in frame.filename for frame in frames) and not (
            "orbax" in message or "tensorstore_spec" in message
        )


_FAILED_READ_FILTER = _DropFailedReadTasks()


@contextlib.contextmanager
def _quiet():
    """Keeps orbax's own reports of a failure off the console, which the caller reports in one
    line instead: its log lines and tracebacks (also from its background threads), and the
    asyncio tracebacks of a damaged checkpoint's failed reads."""
    verbosity = logging.get_verbosity()
    asyncio_logger = py_logging.getLogger("asyncio")
    level = asyncio_logger.level
    hook = sys.unraisablehook
    logging.set_verbosity(logging.FATAL)
    asyncio_logger.setLevel(py_logging.CRITICAL + 1)
    sys.unraisablehook = _drop_closed_loop_errors(hook)
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        if _FAILED_READ_FILTER not in asyncio_logger.filters:
            asyncio_logger.addFilter(_FAILED_READ_FILTER)
        # Collect the failed read's tasks now, while their tracebacks are silenced (a full
        # collection costs ~0.2 s, so only after a failure).
        with warnings.catch_warnings():  # "coroutine ... was never awaited", same cause
            warnings.simplefilter("ignore", RuntimeWarning)
            gc.collect()
        raise
    finally:
        sys.unraisablehook = hook
        # A failed read's other requests may complete after the caller has raised its one line
        # (restore(step=...) reads nothing more): their "Event loop is closed" reports are
        # dropped from then on, as asyncio's are by the filter above; other reports still show.
        if failed and not getattr(hook, "drops_closed_loop_errors", False):
            sys.unraisablehook = _drop_closed_loop_errors(hook)
        asyncio_logger.setLevel(level)
        logging.set_verbosity(verbosity)


def state_digest(state) -> str:
    """SHA-256 of the state's content: every leaf's dtype, shape and bytes, in tree order."""
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(sharding.to_host(state)):
        array = np.ascontiguousarray(leaf)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _saved(state) -> dict:
    """A state as it is checkpointed: its fields by name, leaving out those that are None (a
    feature the run does not use, e.g. `g_ema`), so checkpoints made before such a field
    existed restore into the state as it is now."""
    fields = {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}
    return {name: value for name, value in fields.items() if value is not None}


def _step_path(manager, step) -> str:
    return os.path.join(str(manager.directory), str(step))


def _state_step(state) -> int:
    """A stacked (vmapped) state's step: its runs share one clock."""
    return int(np.asarray(state.step.addressable_shards[0].data).max())


def save(manager, state, keep_from: int | None = None) -> None:
    """Saves the state under its step with its digest inside, and waits until it is on disk (a
    kill can follow), with `keep_from` (the manager's, from `first_kept_step`) recorded beside
    it. A file-system fault (a full disk: orbax's `RESOURCE_EXHAUSTED`) is one `WorkdirError` line;
    the checkpoints saved before stay, and the same command resumes from them."""
    step = _state_step(state)
    if manager.latest_step() == step:
        return
    digest = state_digest(state)  # every process: gathering a sharded state is a collective
    path = _step_path(manager, step)
    custom = {DIGEST: digest} | ({KEPT_FROM: int(keep_from)} if keep_from is not None else {})
    try:
        with wd.writing(path), _quiet():
            manager.save(step, args=ocp.args.StandardSave(_saved(state)), custom_metadata=custom)
            manager.wait_until_finished()
    except Exception as error:  # noqa: BLE001 - orbax and tensorstore raise many types
        _close_quietly(manager)
        if isinstance(error, wd.WorkdirError):
            raise
        raise wd.WorkdirError(
            f"cannot save checkpoint {wd.shown_path(path)} ({type(error).__name__}: "
            f"{_first(error)}); fix the file system and rerun the same command (it resumes "
            "from the last checkpoint)"
        ) from None


def _close_quietly(manager) -> None:
    """After a failed save: stops orbax's background work and collects its failed futures while
    their reports are silenced (else asyncio logs "Future exception was never retrieved" when
    they are collected later, at exit)."""
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.suppress(Exception):
            manager.close()
        for thread in threading.enumerate():  # orbax's workers log their failure as they end
            if type(thread).__module__.startswith("orbax") and thread.is_alive():
                thread.join(timeout=30)
        gc.collect()


def _first(error: BaseException, limit: int = 160) -> str:
    return " ".join(str(error).split())[:limit]


# --- restore ---------------------------------------------------------------------------------


class _Checked(collections.namedtuple("_Checked", "step state verdict reason")):
    """One checkpoint, read and checked. verdict: "verified" (its content matches its digest),
    "unverified" (readable, but without a digest to check it against), "damaged" (unreadable,
    or its content does not match its digest) or "mismatch" (arrays of other shapes than the
    config makes)."""


def _custom_metadata(manager, step) -> tuple[dict | None, str]:
    """(the `custom_metadata` of `step`'s checkpoint, or None; why it carries no digest)."""
    try:
        with _quiet():  # orbax logs a missing or torn metadata file
            custom = manager.metadata(step).custom_metadata
    except Exception as error:  # noqa: BLE001 - a torn metadata file reads as many types
        return None, f"its metadata is unreadable, {_first(error, 80)}"
    problem = (
        "it carries no digest, saved before checkpoints carried one or its "
        "_CHECKPOINT_METADATA lost"
    )
    return custom, problem


def _digest_of(manager, step, legacy) -> tuple[str | None, str]:
    """(digest, where it comes from) of a checkpoint: its own metadata's, else the legacy
    index's; (None, why there is none)."""
    custom, problem = _custom_metadata(manager, step)
    found = custom.get(DIGEST) if isinstance(custom, dict) else None
    if isinstance(found, str):
        return found, "its own"
    indexed = legacy().get(str(step))
    if isinstance(indexed, str):
        return indexed, LEGACY_DIGESTS
    if legacy():
        problem = f"it carries no digest, and {LEGACY_DIGESTS} has none for it"
    return None, problem


def _shape_mismatch(manager, step, abstract) -> str | None:
    """How the arrays stored in `step` differ from those `abstract` describes (a config other
    than the run's), or None: the same shapes, or metadata that cannot be read (the restore
    then tells)."""
    try:
        with _quiet():
            stored = manager.item_metadata(step)
        stored_leaves = jax.tree_util.tree_flatten_with_path(stored)[0]
        shapes = collections.Counter(
            (tuple(leaf.shape), str(leaf.dtype)) for _, leaf in stored_leaves
        )
    except Exception:  # noqa: BLE001 - damaged metadata: the restore reports it
        return None
    wanted = collections.Counter(
        (tuple(leaf.shape), str(leaf.dtype)) for leaf in jax.tree.leaves(_saved(abstract))
    )
    if shapes == wanted:
        return None
    extra = shapes - wanted
    missing = wanted - shapes
    stored_path = next(
        (
            jax.tree_util.keystr(path)
            for path, leaf in stored_leaves
            if (tuple(leaf.shape), str(leaf.dtype)) in extra
        ),
        None,
    )
    shown = (
        lambda counter: (
            ", ".join(  # noqa: E731
                f"{dtype}{list(shape)}" for shape, dtype in list(counter)[:2]
            )
            or "nothing"
        )
    )
    where = f" (first at {stored_path})" if stored_path else ""
    return f"it stores {shown(extra)}{where} where the config makes {shown(missing)}"


def _check(manager, step, abstract, legacy) -> _Checked:
    mismatch = _shape_mismatch(manager, step, abstract)
    if mismatch is not None:
        return _Checked(step, None, "mismatch", mismatch)
    try:
        with _quiet():
            restored = manager.restore(step, args=ocp.args.StandardRestore(_saved(abstract)))
            state = abstract.replace(**restored)
    except Exception as error:  # noqa: BLE001 - orbax/tensorstore raise many types on damage
        reason = f"unreadable, {type(error).__name__}: {_first(error, 120)}"
        return _Checked(step, None, "damaged", reason)
    if _state_step(state) != step:  # another step's checkpoint, its digest copied along
        return _Checked(step, None, "damaged", f"it holds the state of step {_state_step(state)}")
    expected, source = _digest_of(manager, step, legacy)
    if expected is None:
        return _Checked(step, state, "unverified", source)
    if state_digest(state) == expected:
        return _Checked(step, state, "verified", source)
    if source == LEGACY_DIGESTS:  # the index or the checkpoint is wrong: cannot tell which
        return _Checked(step, state, "unverified", f"its content does not match {source}")
    return _Checked(step, None, "damaged", "its content does not match the digest saved in it")


def _legacy_index(manager):
    """A reader of the legacy `digests.json` (read once, and only when needed; a damaged one
    is ignored with one warning line: it is an index, never the only copy)."""
    cache = []

    def read() -> dict:
        if not cache:
            path = os.path.join(str(manager.directory), LEGACY_DIGESTS)
            index = {}
            if os.path.exists(path):
                try:
                    index = wd.read_json(path, "ignored (an index of old checkpoints only)")
                except wd.WorkdirError as error:
                    logging.warning("%s", error)
            cache.append(index)
        return cache[0]

    return read


def restore_latest(manager, target, *, repair: bool = False):
    """Restores the newest verified checkpoint into `target`'s structure and placement, or None
    when there is none at all. Newer checkpoints that are damaged or unverifiable are skipped
    with one warning line; with `repair` (a run that resumes) they are moved aside so their steps
    can be saved again. When none can be verified, the newest readable one is restored with one
    warning line saying so. Raises `WorkdirError` (one line, with advice that works) when the
    checkpoints hold another config's arrays, or none is readable."""
    steps = sorted(manager.all_steps(), reverse=True)
    if not steps:
        return None
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    legacy = _legacy_index(manager)
    checked = []
    for step in steps:
        checked.append(_check(manager, step, abstract, legacy))
        if checked[-1].verdict == "verified":
            break
    chosen = next((c for c in checked if c.verdict == "verified"), None)
    chosen = chosen or next((c for c in checked if c.verdict == "unverified"), None)
    if chosen is None:
        raise wd.WorkdirError(_nothing_usable(manager, checked))
    skipped = [c for c in checked if c.step > chosen.step]
    unverified = "" if chosen.verdict == "verified" else f", unverified: {chosen.reason}"
    if skipped:
        shown = "; ".join(
            f"checkpoint {wd.shown_path(_step_path(manager, c.step))} is {_named(c)}: {c.reason}"
            for c in skipped
        )
        logging.warning("%s; using step %d instead%s", shown, chosen.step, unverified)
    elif unverified:
        logging.warning(
            "checkpoint %s is restored%s",
            wd.shown_path(_step_path(manager, chosen.step)),
            unverified,
        )
    # A collective, so that process 0 moves nothing until every process has checked every step.
    if repair and sharding.primary_says(bool(skipped)):
        _set_aside(manager, skipped)
    return chosen.state


def restore_step(manager, target, step: int):
    """Restores the checkpoint of `step` into `target`'s structure and placement, checked against
    its digest. One that is readable but carries no digest is restored with one warning line
    saying so. Raises `WorkdirError` (one line) when there is no checkpoint of `step` (naming
    the steps there are), or it is damaged or holds another config's arrays."""
    steps = sorted(manager.all_steps())
    directory = wd.shown_path(str(manager.directory))
    if step not in steps:
        kept = ", ".join(map(str, steps)) or "none"
        raise wd.WorkdirError(f"{directory} holds no checkpoint of step {step} (steps: {kept})")
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    checked = _check(manager, step, abstract, _legacy_index(manager))
    shown = wd.shown_path(_step_path(manager, step))
    if checked.verdict == "unverified":
        logging.warning("checkpoint %s is restored, unverified: %s", shown, checked.reason)
    elif checked.verdict != "verified":
        raise wd.WorkdirError(f"checkpoint {shown} is {_named(checked)}: {checked.reason}")
    return checked.state


def _named(checked: _Checked) -> str:
    return {
        "damaged": "damaged",
        "unverified": "without a verifiable digest",
        "mismatch": "of another config",
    }[checked.verdict]


def _nothing_usable(manager, checked) -> str:
    directory = wd.shown_path(str(manager.directory))
    problems = "; ".join(f"step {c.step}: {c.reason}" for c in checked)
    if all(c.verdict == "mismatch" for c in checked):
        return (
            f"the checkpoints in {directory} do not fit the run's config ({problems}): its "
            "config.json (or the config given) differs from the one they were trained with; "
            "put back the values the run was trained with"
        )
    return (
        f"no intact checkpoint in {directory} ({problems}); to train the run again from step "
        f"0, move {directory} aside (or delete it) and rerun the same command"
    )


def _set_aside(manager, skipped) -> None:
    """Moves the skipped steps aside (process 0, which writes), then every process's `manager`
    forgets them: a process whose manager still listed one would skip the save of its step
    (`save`: saved already) while the others gather the state's digest, a collective."""
    if sharding.is_primary():
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for checked in skipped:
            source = _step_path(manager, checked.step)
            label = "unverified" if checked.verdict == "unverified" else "damaged"
            with wd.writing(source):
                os.replace(source, f"{source}.{label}-{stamp}")
    sharding.barrier("checkpoints set aside")
    manager.reload()
