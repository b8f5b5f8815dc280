"""Orbax checkpoints of a `GANState`, each verified by a digest of its content.

Orbax checks a checkpoint's structure, not its bytes: four bytes overwritten in its data
restore without error. So before each save the SHA-256 of the state (every leaf's bytes, in tree
order) is recorded in `<checkpoint dir>/digests.json`, and a restored state must match it.
Restoring tries the newest checkpoint first and falls back, with one warning line, to the newest
intact one; a resumed run moves the damaged ones aside (`<step>.damaged-<time>`) so that it can save
those steps again. A checkpoint without a recorded digest (made before digests existed) is
accepted as it is.
"""

import contextlib
import dataclasses
import gc
import hashlib
import logging as py_logging
import os
import time
import warnings

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging

from gan_jax.loop import sharding
from gan_jax.loop import workdir as wd

DIGESTS = "digests.json"


def make_manager(directory: str, max_to_keep: int = 3, create: bool = True):
    """A `CheckpointManager` over `directory`, one checkpoint per saved step. With
    `create=False` (reading someone's run) nothing is created on disk."""
    directory = os.path.abspath(directory)
    options = ocp.CheckpointManagerOptions(
        max_to_keep=max_to_keep, create=create, read_only=not create
    )
    with wd.writing(directory), _quiet():  # read-only managers warn about unused options
        return ocp.CheckpointManager(directory, options=options)


@contextlib.contextmanager
def _quiet():
    """Keeps orbax's own reports of an expected failure off the console: its option warnings,
    and the asyncio tracebacks of a damaged checkpoint's failed reads (logged when the failed
    tasks are collected), which `restore_latest` reports in one line instead."""
    verbosity = logging.get_verbosity()
    asyncio_logger = py_logging.getLogger("asyncio")
    level = asyncio_logger.level
    logging.set_verbosity(logging.ERROR)
    asyncio_logger.setLevel(py_logging.CRITICAL + 1)
    try:
        yield
    except BaseException:
        # Collect the failed read's tasks now, while their tracebacks are silenced (a full
        # collection costs ~0.2 s, so only after a failure).
        with warnings.catch_warnings():  # "coroutine ... was never awaited", same cause
            warnings.simplefilter("ignore", RuntimeWarning)
            gc.collect()
        raise
    finally:
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


def _digests_path(manager) -> str:
    return os.path.join(str(manager.directory), DIGESTS)


def _read_digests(manager) -> dict:
    path = _digests_path(manager)
    if not os.path.exists(path):
        return {}
    try:
        return wd.read_json(path)
    except wd.WorkdirError as error:
        logging.warning("%s; its checkpoints are restored unverified", error)
        return {}


def save(manager, state) -> None:
    """Records the state's digest, saves it under its step and waits until it is on disk (a kill
    can follow). A stacked (vmapped) state's runs share one clock: its step is any run's step."""
    step = int(np.asarray(state.step.addressable_shards[0].data).max())
    if manager.latest_step() == step:
        return
    digest = state_digest(state)  # every process: gathering a sharded state is a collective
    if sharding.is_primary():
        # Written before the checkpoint: a kill in between leaves an unfinished checkpoint that
        # orbax never lists, never a listed checkpoint without its digest.
        kept = {str(s) for s in manager.all_steps()}
        digests = {k: v for k, v in _read_digests(manager).items() if k in kept}
        digests[str(step)] = digest
        wd.write_json(_digests_path(manager), digests)
    with wd.writing(str(manager.directory)):
        manager.save(step, args=ocp.args.StandardSave(_saved(state)))
        manager.wait_until_finished()


def _restore_step(manager, step, abstract, digests):
    """The verified state of `step`, or the reason it cannot be used."""
    try:
        with _quiet():
            restored = manager.restore(step, args=ocp.args.StandardRestore(_saved(abstract)))
            state = abstract.replace(**restored)
    except Exception as error:  # noqa: BLE001 - orbax/tensorstore raise many types on damage
        first = " ".join(str(error).split())[:160]
        return None, f"unreadable ({type(error).__name__}: {first})"
    expected = digests.get(str(step))
    if expected is not None and state_digest(state) != expected:
        return None, "its content does not match the digest saved with it"
    return state, None


def restore_latest(manager, target, *, repair: bool = False):
    """Restores the newest intact checkpoint into `target`'s structure and placement, or None
    when there is none at all. Damaged checkpoints are skipped with one warning line each;
    with `repair` (a run that resumes) they are moved aside so their steps can be saved again.
    Raises `WorkdirError` when checkpoints exist but none is intact."""
    steps = sorted(manager.all_steps(), reverse=True)
    if not steps:
        return None
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    digests = _read_digests(manager)
    problems = []
    for step in steps:
        state, problem = _restore_step(manager, step, abstract, digests)
        if state is not None:
            if problems:
                logging.warning(
                    "checkpoint %s is damaged (%s); resumed from step %d instead",
                    os.path.join(str(manager.directory), str(steps[0])),
                    problems[0].split(": ", 1)[1],
                    step,
                )
            if repair and problems and sharding.is_primary():
                _set_aside(manager, steps[: len(problems)])
            return state
        problems.append(f"step {step}: {problem}")
    raise wd.WorkdirError(
        f"no intact checkpoint in {manager.directory} ({'; '.join(problems)}); rerun with "
        "--overwrite to start the run over"
    )


def _set_aside(manager, steps) -> None:
    directory = str(manager.directory)
    for step in steps:
        source = os.path.join(directory, str(step))
        with wd.writing(source):
            os.replace(source, f"{source}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    manager.reload()
