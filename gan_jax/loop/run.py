"""The host loop of one run: chunks of compiled steps, evals, checkpoints, outputs.

Python here only decides *when*: every step runs inside `train_chunk` (one `jax.jit` around a
`lax.scan`), evaluation is jitted, and the host touches the device once per chunk.
"""

import collections
import contextlib
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import ml_collections
import numpy as np
from absl import logging
from jax import lax

from gan_jax import metrics
from gan_jax.loop import backend, checkpoint, resources, runs_axis, sharding, writers
from gan_jax.loop import workdir as wd
from gan_jax.loop.progress import Progress, stopped_line
from gan_jax.loop.workdir import WorkdirError
from gan_jax.metrics import oscillation
from gan_jax.step.config import ConfigError, validate
from gan_jax.step.experiment import dynamic_params, make_experiment, program_key
from gan_jax.step.train import GANState, init_state, make_evaluate, make_train_chunk


class Outcome(NamedTuple):
    """How a run (or a sweep) ended: what a scheduler needs to tell runs apart.

    finished: every run reached num_steps.
    stopped_by: the signal (SIGINT/SIGTERM) that stopped training after saving, else None.
    diverged: run name -> the step at which it went non-finite (frozen since), for every
      finished or stopped run that diverged.
    state: a single run's final state (None for a sweep).
    """

    finished: bool
    stopped_by: int | None
    diverged: dict
    state: GANState | None = None


class StopRequest:
    """Asked once per chunk, on every process, whether training should stop: after SIGINT/SIGTERM
    reached any process (`signal` holds which, the same on every process), or once
    `stop_after_chunks` chunks have run (how tests interrupt a run)."""

    def __init__(self, stop_after_chunks: int | None = None):
        self.received: int | None = None  # set by this process's signal handler
        self.signal: int | None = None
        self._stop_after_chunks = stop_after_chunks
        self._chunks = 0

    def __call__(self) -> bool:
        self._chunks += 1
        # A collective: a process stopping alone would leave the others at their next one.
        agreed = sharding.largest_over_processes(self.received or 0)
        if agreed:
            self.signal = agreed
        return self.signal is not None or self._chunks == self._stop_after_chunks


@contextlib.contextmanager
def stop_on_signals(stop_after_chunks: int | None = None):
    """Yields a `StopRequest` that SIGINT/SIGTERM set while the block runs."""
    request = StopRequest(stop_after_chunks)
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum, frame):
        del frame
        request.received = signum

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield request
    finally:
        for sig, handler_ in previous.items():
            signal.signal(sig, handler_)


def diverged_at(run_workdir: str) -> int:
    """The step at which a run went non-finite (from its last logged row), or -1."""
    rows = wd.read_metrics(os.path.join(run_workdir, wd.METRICS))
    value = rows[-1].get("diverged_at", -1) if rows else -1
    return -1 if value is None else int(value)


class RunSpec(NamedTuple):
    """One run of a group: its readable name, its config and the folder its outputs go to."""

    name: str
    config: ml_collections.ConfigDict
    workdir: str


def _stack(trees: list):
    return jax.tree.map(lambda *leaves: np.stack(leaves), *trees)


def _check_padding(workdir: str, checkpoint_dir: str, num_padded: int) -> None:
    """A stacked checkpoint restores only into the same number of (padded) runs."""
    pointer = wd.read_group(workdir)
    if not (pointer and os.path.isdir(checkpoint_dir)):
        return
    saved = pointer["num_padded"]
    if saved != num_padded:
        raise WorkdirError(
            f"{checkpoint_dir} holds {saved} stacked runs (padded to the device count when it "
            f"was saved), but this machine pads them to {num_padded}; resume with "
            f"XLA_FLAGS/devices giving a device count that divides {saved}"
        )


def current_step(state: GANState) -> int:
    """The step of a stacked state (its runs share one clock), read from any local shard."""
    return int(np.asarray(state.step.addressable_shards[0].data).reshape(-1)[0])


class Programs(NamedTuple):
    """The jitted functions of configs with one `program_key` on one mesh, walking the runs axis
    one way (`runs_axis`): built once per process and reused (jax's own cache then skips
    tracing and compiling), e.g. by a resumed or repeated run, or a run that differs from an
    earlier one only in its host-loop fields."""

    exp: Any  # the group's Experiment
    mesh: Any  # the runs mesh the stacked state is sharded over
    strategy: str  # how the programs walk the runs axis (`runs_axis.resolve`: never "auto")
    init: Callable  # (keys, dynamic) -> stacked GANState, created on the mesh
    evaluators: dict  # with samplers (bool) -> jitted stacked state -> (metrics, samples)
    chunks: dict  # chunk length -> jitted (stacked state, data set) -> (state, metrics)

    def evaluate(self, with_samplers: bool = True) -> Callable:
        """The eval program, with the config's samplers or without them (built on first use:
        a run whose samplers start at step 0 never compiles the second)."""
        if with_samplers not in self.evaluators:
            self.evaluators[with_samplers] = runs_axis.compiled_over_runs(
                make_evaluate(self.exp, with_samplers), self.strategy, self.mesh, in_axes=(0,)
            )
        return self.evaluators[with_samplers]

    def chunk(self, length: int) -> Callable:
        if length not in self.chunks:
            self.chunks[length] = runs_axis.compiled_over_runs(
                make_train_chunk(self.exp, length),
                self.strategy,
                self.mesh,
                in_axes=(0, None),
                donate_argnums=0,
            )
        return self.chunks[length]


_PROGRAMS: collections.OrderedDict = collections.OrderedDict()
_MAX_PROGRAMS = 16  # program sets kept per process, least recently used dropped


def programs(config: ml_collections.ConfigDict, mesh, strategy: str = "auto") -> Programs:
    """The `Programs` of `config` (`program_key`: its static group's, host-loop fields aside) on
    `mesh`, walking the runs axis by `strategy` (`runs_axis.STRATEGIES`), built on first use."""
    strategy = runs_axis.resolve(strategy)
    key = (program_key(config), mesh, strategy)
    if key in _PROGRAMS:
        _PROGRAMS.move_to_end(key)
        return _PROGRAMS[key]
    exp = make_experiment(config)
    built = Programs(
        exp=exp,
        mesh=mesh,
        strategy=strategy,
        init=_init_program(exp, mesh),
        evaluators={},
        chunks={},
    )
    _PROGRAMS[key] = built
    while len(_PROGRAMS) > _MAX_PROGRAMS:
        _PROGRAMS.popitem(last=False)
    return built


def clear_programs() -> None:
    """Forgets every cached `Programs` (e.g. after changing a registry the programs read)."""
    _PROGRAMS.clear()


def _group_inputs(configs: list[ml_collections.ConfigDict], mesh):
    """Seed keys and dynamic numbers of one static group, stacked and padded to the mesh."""
    keys = np.stack([np.asarray(jax.random.PRNGKey(c.seed)) for c in configs])
    dynamic = _stack([dynamic_params(c) for c in configs])
    return sharding.pad_runs((keys, dynamic), sharding.padded_size(len(configs), mesh))


def _init_program(exp, mesh) -> Callable:
    def init(keys, dynamic):
        # One run after another (lax.map), not vmapped: XLA:CPU (jaxlib 0.10.2) deadlocks, every
        # thread idle, running the LAPACK QRs of orthogonal inits of 5+ runs at once
        # (`model.*.orthogonal_gain`; 1 or 2 runs finish). Each run's state is the same either
        # way, and an init runs once per group.
        return lax.map(lambda run: init_state(exp, *run), (keys, dynamic))

    # Created in place on the mesh: also right when several processes share it.
    return jax.jit(init, out_shardings=sharding.runs_sharding(mesh))


def init_group_state(configs: list[ml_collections.ConfigDict], mesh) -> GANState:
    """Initial states of `configs` (one static group) stacked on a leading runs axis, padded to
    the mesh size and sharded over it, by the group's cached init program (`programs`); refused
    in one line before it allocates when it cannot fit (`resources.check_runs_fit`)."""
    init = programs(configs[0], mesh).init
    inputs = _group_inputs(configs, mesh)
    padded = int(inputs[0].shape[0])
    run_bytes = resources.tree_bytes(jax.eval_shape(init, *inputs)) // padded
    resources.check_runs_fit(run_bytes, len(configs), mesh.size)
    return init(*inputs)


def group_state_shapes(configs: list[ml_collections.ConfigDict], mesh) -> GANState:
    """What `init_group_state` would return, as `jax.ShapeDtypeStruct`s with their sharding:
    a restore target that compiles and allocates nothing."""
    return jax.eval_shape(programs(configs[0], mesh).init, *_group_inputs(configs, mesh))


def train_group(
    runs: list[RunSpec],
    checkpoint_dir: str,
    *,
    progress: Progress,
    should_stop: Callable[[], bool],
    strategy: str = "auto",
    check_workdir: Callable[[int | None], None] = wd.no_lock_check,
) -> tuple[GANState, bool]:
    """Trains runs that share every static field as one compiled program, sharded over devices,
    walking the runs axis by `strategy` (`runs_axis.STRATEGIES`; a sweep's `sweep.runs_axis`).

    Each run writes metrics.jsonl, tensorboard/ and samples/ into its own workdir; the stacked
    state is checkpointed in `checkpoint_dir` and resumed from there; every eval is one line of
    `progress` (the group's mean and range for several runs). `should_stop()` is asked after
    every chunk; when it says yes the state is saved and training stops. `check_workdir(step)`
    runs before the group's first write, every eval's writes, every save and the figures (every
    process: `lock_check`), so a workdir deleted or replaced under the loop stops it before it
    writes there. Returns the final
    stacked state (padded runs included) and whether the runs reached `num_steps`.
    """
    config = runs[0].config
    if sharding.is_primary():  # once per run or sweep group, before anything compiles
        progress.warning(backend.line(backend.describe()))
        if warning := backend.gpu_warning():
            progress.warning(warning)
    mesh = sharding.runs_mesh(len(runs))
    compiled = programs(config, mesh, strategy)
    exp = compiled.exp
    state = init_group_state([run.config for run in runs], mesh)
    _check_padding(runs[0].workdir, checkpoint_dir, int(state.step.shape[0]))
    check_workdir(None)  # compiling may take minutes: before the manager makes its folder
    keep_from = checkpoint.first_kept_step(
        checkpoint_dir,
        checkpoint.keep_from_step(config.num_steps, config.keep_checkpoints_over_last),
    )
    manager = checkpoint.make_manager(checkpoint_dir, keep_from=keep_from)
    primary = sharding.is_primary()
    writers_ = [writers.MetricsWriter(run.workdir) for run in runs] if primary else []
    declared_metrics = metrics.evaluator_for(exp.dataset).metrics  # what each eval line shows
    dataset = sharding.replicate(exp.dataset, mesh)  # a jit argument, shared by the runs

    def log_eval(state, train_metrics, steps_per_sec):
        step = current_step(state)
        evaluate = compiled.evaluate(with_samplers=step >= config.eval.samplers_from_step)
        eval_metrics, samples, diverged_at = sharding.to_host((*evaluate(state), state.diverged_at))
        check_workdir(step)
        for i, (run, writer) in enumerate(zip(runs, writers_, strict=False)):
            row = {k: v[i] for k, v in {**train_metrics, **eval_metrics}.items()}
            row["diverged_at"] = diverged_at[i]
            if steps_per_sec is not None:
                row["steps_per_sec"] = steps_per_sec
            writer.write(step, row)
            if config.eval.plot_samples:  # 0: no samples kept, so no figures of them
                path = os.path.join(run.workdir, "samples", f"step_{step:08d}.npy")
                wd.save_array(path, samples[i, : config.eval.plot_samples])
        if primary:
            rows = [
                {**{k: v[i] for k, v in eval_metrics.items()}, "diverged_at": diverged_at[i]}
                for i in range(len(runs))  # the padded runs left out
            ]
            progress.log_eval(step, config.num_steps, steps_per_sec, rows, declared_metrics)

    for index, run in enumerate(runs if primary else []):
        pointer = {
            "checkpoint_dir": os.path.relpath(checkpoint_dir, run.workdir),
            "index": index,
            "num_padded": int(state.step.shape[0]),
        }
        wd.makedirs(os.path.join(run.workdir, "samples"))
        wd.write_json(os.path.join(run.workdir, wd.GROUP), pointer)

    restored = checkpoint.restore_latest(manager, state, repair=True)
    if restored is None:
        for writer in writers_:
            writer.truncate_after(-1)  # rows of an attempt that died before its first save
        log_eval(state, {}, None)
    else:
        state = restored
        progress.update(current_step(state) * len(runs))
        for writer in writers_:
            writer.truncate_after(current_step(state))

    chunk_len = math.gcd(config.eval_every, config.checkpoint_every)
    pending = []
    last_time, last_step = time.perf_counter(), current_step(state)
    step = last_step
    while step < config.num_steps:
        length = min(chunk_len - step % chunk_len, config.num_steps - step)
        state, chunk_metrics = compiled.chunk(length)(state, dataset)
        pending.append(chunk_metrics)
        step += length
        progress.update(length * len(runs))
        stopping = should_stop()
        if step % config.eval_every == 0 or step == config.num_steps:
            merged = sharding.to_host(pending)
            # After the wait: chunks run asynchronously, so the clock stops once they are done.
            now = time.perf_counter()
            series = {k: np.concatenate([m[k] for m in merged], axis=1) for k in merged[0]}
            train_metrics = {k: np.mean(v, axis=1) for k, v in series.items()}
            train_metrics.update(oscillation.swing_metrics(series))
            log_eval(state, train_metrics, (step - last_step) / (now - last_time))
            pending, last_time, last_step = [], now, step
        if step % config.checkpoint_every == 0 or step == config.num_steps or stopping:
            check_workdir(step)
            checkpoint.save(manager, state, keep_from)
        if stopping:
            break
    for writer in writers_:
        writer.close()
    manager.close()
    check_workdir(step)
    for run in runs if primary else []:
        plot_run(run.workdir, exp.dataset)
    return state, step >= config.num_steps


def lock_check(held: wd.HeldLock | None, workdir: str) -> Callable[[int | None], None]:
    """`train_group`'s `check_workdir(step)`: raises `wd.lost_lock_error` unless the lock holder's
    `HeldLock.is_current()`, its verdict shared with every process (`sharding.primary_says`), so
    that all stop together. `step` None: before the group's first write."""

    def check(step: int | None) -> None:
        if not sharding.primary_says(held.is_current() if held is not None else True):
            raise wd.lost_lock_error(workdir, step)

    return check


def train(
    config: ml_collections.ConfigDict,
    workdir: str,
    *,
    overwrite: bool = False,
    stop_after_chunks: int | None = None,
    progress: bool = True,
) -> Outcome:
    """Trains one run in `workdir`, resuming from its newest intact checkpoint.

    Args:
      config: a config (see configs/default.py); validated before anything compiles.
      workdir: where config.json, checkpoints/, metrics.jsonl, tensorboard/ and samples/ go;
        held under an exclusive lock while training (see `gan_jax.loop.workdir`).
      overwrite: discard a run with a different config in `workdir` instead of refusing.
      stop_after_chunks: stop (and checkpoint) after this many chunks, as a signal would.
      progress: show a progress bar (on a terminal).

    Returns:
      The `Outcome`, with the run's final state.
    """
    validate(config)
    resources.check_configs_fit([[config]])  # before anything is written
    primary = sharding.is_primary()
    wd.check_kind(workdir, "run")  # before the lock, which creates the folder
    with wd.lock(workdir) if primary else contextlib.nullcontext() as held:
        wd.prepare(
            workdir, config, "run", overwrite=overwrite, write=primary, backend=backend.describe()
        )
        sharding.barrier("workdir prepared")
        tracker = Progress(config.num_steps, bar=progress and primary, log=primary)
        with stop_on_signals(stop_after_chunks) as should_stop:
            stacked, finished = train_group(
                [RunSpec("run", config, workdir)],
                os.path.join(workdir, "checkpoints"),
                progress=tracker,
                should_stop=should_stop,
                check_workdir=lock_check(held, workdir),
            )
        tracker.close()
    (state,) = runs_axis.unstack_runs(stacked, 1)
    if not finished and primary:
        logging.warning("%s", stopped_line(int(state.step), config.num_steps, should_stop.signal))
    step = int(state.diverged_at)
    return Outcome(
        finished=finished,
        stopped_by=should_stop.signal,
        diverged={workdir: step} if step >= 0 else {},
        state=state,
    )


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str, **kwargs) -> GANState:
    """`train(...)` for a notebook: returns the run's final state."""
    return train(config, workdir, **kwargs).state


def plot_run(workdir: str, dataset) -> None:
    """Writes the run's figures into samples/ from the saved eval samples and the logged
    metrics, as its data set's evaluator draws them (`gan_jax.metrics.EVALUATORS`)."""
    samples_dir = os.path.join(workdir, "samples")
    saved = wd.read_samples(samples_dir)
    if saved:
        rows = wd.read_metrics(os.path.join(workdir, wd.METRICS))
        metrics.evaluator_for(dataset).plot_run(saved, dataset, rows, samples_dir)


__all__ = [
    "ConfigError",
    "Outcome",
    "WorkdirError",
    "train",
    "train_and_evaluate",
]
