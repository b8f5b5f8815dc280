"""The host loop of one run: chunks of compiled steps, evals, checkpoints, outputs.

Python here only decides *when*: every step runs inside `train_chunk` (one `jax.jit` around a
`lax.scan`), evaluation is jitted, and the host touches the device once per chunk.
"""

import contextlib
import itertools
import json
import math
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

import jax
import ml_collections
import numpy as np
from absl import logging
from tqdm import tqdm

from gan_jax import checkpoint, plots, sharding, writers
from gan_jax.config import ConfigError, validate
from gan_jax.experiment import dynamic_params, make_experiment
from gan_jax.metrics import hopping, oscillation
from gan_jax.train import GANState, init_state, make_evaluate, make_train_chunk

GROUP_FILE = "group.json"  # in a run's workdir: where its stacked checkpoint is, and its row

# Fields that may change between a run and its resumption: they set how long it runs and how
# often it saves, never what a step computes.
RESUMABLE_FIELDS = ("num_steps", "checkpoint_every")
# Fields added to the config after runs were made, with the value that reproduces the behaviour
# those runs had: a stored config without the field still matches a config that has this value.
ADDED_FIELDS = {
    "penalty.name": "none",
    "penalty.weight": 0.0,
    "model.d.minibatch_kernels": 0,
    "model.d.minibatch_kernel_dim": 5,
    "model.d.minibatch_stddev": False,
    "model.d.pack": 1,
    "consensus.enabled": False,
    "consensus.weight": 10.0,
    "extrapolation": "none",
    "data.tfds_dir": None,
    "data.image_size": None,
}
OUTPUTS = (
    "checkpoints",
    "metrics.jsonl",
    "tensorboard",
    "samples",
    "config.json",
    "group.json",
    "final.json",
)
PLOTTED_STEPS = 6


class WorkdirError(ValueError):
    """The workdir holds a different run; nothing was changed in it."""


def _flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_to_dict(config: ml_collections.ConfigDict) -> dict:
    """The config as plain JSON data (tuples become lists)."""
    return json.loads(config.to_json())


def config_differences(old: dict, new: dict, ignore=RESUMABLE_FIELDS) -> list[str]:
    """`field: old -> new` for each field that differs between two config dicts."""
    old_flat, new_flat = _flatten(old), _flatten(new)
    for key, value in ADDED_FIELDS.items():
        if key not in old_flat and new_flat.get(key) == value:
            old_flat[key] = value
    return [
        f"{key}: {old_flat.get(key, '<absent>')!r} -> {new_flat.get(key, '<absent>')!r}"
        for key in sorted(set(old_flat) | set(new_flat))
        if key not in ignore and old_flat.get(key) != new_flat.get(key)
    ]


def prepare_workdir(config: ml_collections.ConfigDict, workdir: str, overwrite: bool) -> None:
    """Writes `config.json`. A workdir holding a run with a different config is refused, or
    with `overwrite` that run's outputs are deleted; a run with the same config is kept (and
    resumed), whatever `overwrite` says."""
    path = os.path.join(workdir, "config.json")
    new = config_to_dict(config)
    differences = []
    if os.path.exists(path):
        with open(path) as f:
            differences = config_differences(json.load(f), new)
    if differences and not overwrite:
        raise WorkdirError(
            f"workdir {workdir} holds a run with a different config ("
            + "; ".join(differences)
            + "); use another --workdir, or pass --overwrite to discard that run"
        )
    if not sharding.is_primary():
        return  # every process checks; only process 0 writes
    if differences:
        for name in OUTPUTS:
            target = os.path.join(workdir, name)
            if os.path.isdir(target):
                shutil.rmtree(target)
            elif os.path.exists(target):
                os.remove(target)
    os.makedirs(os.path.join(workdir, "samples"), exist_ok=True)
    with open(path, "w") as f:
        json.dump(new, f, indent=2)


@contextlib.contextmanager
def stop_on_signals(stop_after_chunks: int | None = None):
    """Yields `should_stop()`, asked once per chunk: True after SIGINT/SIGTERM, or once
    `stop_after_chunks` chunks have run (how tests interrupt a run)."""
    requested = threading.Event()
    chunks = itertools.count(1)

    def should_stop() -> bool:
        return requested.is_set() or next(chunks) == stop_after_chunks

    if threading.current_thread() is not threading.main_thread():
        yield should_stop
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: requested.set())
    try:
        yield should_stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class RunSpec(NamedTuple):
    """One run of a group: its readable name, its config and the folder its outputs go to."""

    name: str
    config: ml_collections.ConfigDict
    workdir: str


def _summary(metrics: dict) -> dict:
    keys = ("modes_covered", "high_quality_pct", "d/loss", "g/loss")
    return {k.replace("/", "_"): f"{metrics[k]:.3g}" for k in keys if k in metrics}


def _stack(trees: list):
    return jax.tree.map(lambda *leaves: np.stack(leaves), *trees)


def _check_padding(workdir: str, checkpoint_dir: str, num_padded: int) -> None:
    """A stacked checkpoint restores only into the same number of (padded) runs."""
    pointer_path = os.path.join(workdir, GROUP_FILE)
    if not (os.path.exists(pointer_path) and os.path.isdir(checkpoint_dir)):
        return
    with open(pointer_path) as f:
        saved = json.load(f)["num_padded"]
    if saved != num_padded:
        raise WorkdirError(
            f"{checkpoint_dir} holds {saved} stacked runs (padded to the device count when it "
            f"was saved), but this machine pads them to {num_padded}; resume with "
            f"XLA_FLAGS/devices giving a device count that divides {saved}"
        )


def current_step(state: GANState) -> int:
    """The step of a stacked state (its runs share one clock), read from any local shard."""
    return int(np.asarray(state.step.addressable_shards[0].data).reshape(-1)[0])


def init_group_state(exp, configs: list[ml_collections.ConfigDict], mesh) -> GANState:
    """Initial states of `configs` (one static group) stacked on a leading runs axis, padded to
    the mesh size and sharded over it."""
    keys = np.stack([np.asarray(jax.random.PRNGKey(c.seed)) for c in configs])
    dynamic = _stack([dynamic_params(c) for c in configs])
    num_padded = sharding.padded_size(len(configs), mesh)
    keys, dynamic = sharding.pad_runs((keys, dynamic), num_padded)
    init = jax.vmap(lambda k, d: init_state(exp, k, d))
    # Created in place on the mesh: also right when several processes share it.
    return jax.jit(init, out_shardings=sharding.runs_sharding(mesh))(keys, dynamic)


def train_group(
    runs: list[RunSpec],
    checkpoint_dir: str,
    *,
    bar: tqdm,
    should_stop: Callable[[], bool],
) -> tuple[GANState, bool]:
    """Trains runs that share every static field as one vmapped program, sharded over devices.

    Each run writes metrics.jsonl, tensorboard/ and samples/ into its own workdir; the stacked
    state is checkpointed in `checkpoint_dir` and resumed from there. `should_stop()` is asked
    after every chunk; when it says yes the state is saved and training stops. Returns the final
    stacked state (padded runs included) and whether the runs reached `num_steps`.
    """
    config = runs[0].config
    exp = make_experiment(config)
    mesh = sharding.runs_mesh(len(runs))
    state = init_group_state(exp, [run.config for run in runs], mesh)
    _check_padding(runs[0].workdir, checkpoint_dir, int(state.step.shape[0]))
    manager = checkpoint.make_manager(checkpoint_dir)
    primary = sharding.is_primary()
    writers_ = [writers.MetricsWriter(run.workdir) for run in runs] if primary else []
    evaluate = jax.jit(jax.vmap(make_evaluate(exp)))
    dataset = sharding.replicate(exp.dataset, mesh)  # a jit argument, shared by the runs

    def log_eval(state, train_metrics, steps_per_sec):
        eval_metrics, samples, diverged_at = sharding.to_host((*evaluate(state), state.diverged_at))
        step = current_step(state)
        for i, (run, writer) in enumerate(zip(runs, writers_, strict=False)):
            row = {k: v[i] for k, v in {**train_metrics, **eval_metrics}.items()}
            row["diverged_at"] = diverged_at[i]
            if steps_per_sec is not None:
                row["steps_per_sec"] = steps_per_sec
            writer.write(step, row)
            path = os.path.join(run.workdir, "samples", f"step_{step:08d}.npy")
            np.save(path, samples[i, : config.eval.plot_samples])
        if len(runs) == 1 and primary and not bar.disable:
            summary = _summary({k: v[0] for k, v in {**train_metrics, **eval_metrics}.items()})
            bar.set_postfix(summary)
            bar.write(f"step {step}: " + " ".join(f"{k}={v}" for k, v in summary.items()))

    for index, run in enumerate(runs if primary else []):
        pointer = {
            "checkpoint_dir": os.path.relpath(checkpoint_dir, run.workdir),
            "index": index,
            "num_padded": int(state.step.shape[0]),
        }
        with open(os.path.join(run.workdir, GROUP_FILE), "w") as f:
            json.dump(pointer, f)

    restored = checkpoint.restore_latest(manager, state)
    if restored is None:
        for writer in writers_:
            writer.truncate_after(-1)  # rows of an attempt that died before its first save
        log_eval(state, {}, None)
    else:
        state = restored
        bar.update(current_step(state) * len(runs))
        for writer in writers_:
            writer.truncate_after(current_step(state))

    chunk_len = math.gcd(config.eval_every, config.checkpoint_every)
    chunk_fns, pending = {}, []
    last_time, last_step = time.perf_counter(), current_step(state)
    step = last_step
    while step < config.num_steps:
        length = min(chunk_len - step % chunk_len, config.num_steps - step)
        if length not in chunk_fns:
            chunk = jax.vmap(make_train_chunk(exp, length), in_axes=(0, None))
            chunk_fns[length] = jax.jit(chunk, donate_argnums=0)
        state, chunk_metrics = chunk_fns[length](state, dataset)
        pending.append(chunk_metrics)
        step += length
        bar.update(length * len(runs))
        stopping = should_stop()
        if step % config.eval_every == 0 or step == config.num_steps:
            now = time.perf_counter()
            merged = sharding.to_host(pending)
            series = {k: np.concatenate([m[k] for m in merged], axis=1) for k in merged[0]}
            train_metrics = {k: np.mean(v, axis=1) for k, v in series.items()}
            train_metrics.update(oscillation.swing_metrics(series))
            log_eval(state, train_metrics, (step - last_step) / (now - last_time))
            pending, last_time, last_step = [], now, step
        if step % config.checkpoint_every == 0 or step == config.num_steps or stopping:
            checkpoint.save(manager, state)
        if stopping:
            break
    for writer in writers_:
        writer.close()
    manager.close()
    for run in runs if primary else []:
        plot_run(run.workdir, exp.dataset)
    return state, step >= config.num_steps


def train_and_evaluate(
    config: ml_collections.ConfigDict,
    workdir: str,
    *,
    overwrite: bool = False,
    stop_after_chunks: int | None = None,
    progress: bool = True,
) -> GANState:
    """Trains one run in `workdir`, resuming from its latest checkpoint; returns the final state.

    Args:
      config: a config (see configs/default.py); validated before anything compiles.
      workdir: where config.json, checkpoints/, metrics.jsonl, tensorboard/ and samples/ go.
      overwrite: discard a run with a different config in `workdir` instead of refusing.
      stop_after_chunks: stop (and checkpoint) after this many chunks, as a signal would.
      progress: show a progress bar (on a terminal).
    """
    validate(config)
    prepare_workdir(config, workdir, overwrite)
    sharding.barrier("workdir prepared")
    bar = tqdm(
        total=config.num_steps,
        unit="step",
        disable=None if progress and sharding.is_primary() else True,
        dynamic_ncols=True,
    )
    with stop_on_signals(stop_after_chunks) as should_stop:
        stacked, finished = train_group(
            [RunSpec("run", config, workdir)],
            os.path.join(workdir, "checkpoints"),
            bar=bar,
            should_stop=should_stop,
        )
    bar.close()
    if not finished:
        logging.warning(
            "stopped at step %d; rerun the same command to resume", current_step(stacked)
        )
    return jax.tree.map(lambda x: x[0], stacked)


def plot_run(workdir: str, dataset) -> None:
    """Writes samples/samples_over_training.png from the saved eval samples (2D scatters, or
    image grids beside real images) and, for mixtures, samples/mode_occupancy.png from the
    logged mode histograms."""
    samples_dir = os.path.join(workdir, "samples")
    saved = {
        int(name[5:13]): os.path.join(samples_dir, name)
        for name in os.listdir(samples_dir)
        if name.startswith("step_") and name.endswith(".npy")
    }
    if saved and len(dataset.shape) == 3:  # images: grids of samples, the real ones first
        chosen = plots.pick_evenly(list(saved), PLOTTED_STEPS)
        real = np.asarray(dataset.sample(jax.random.PRNGKey(0), 36))
        plots.plot_image_samples_over_training(
            {step: np.load(saved[step]) for step in chosen},
            os.path.join(samples_dir, "samples_over_training.png"),
            real=real,
        )
        return
    if not saved or not hasattr(dataset, "centers"):
        return
    rows = [
        r
        for r in writers.read_metrics(os.path.join(workdir, "metrics.jsonl"))
        if r.get("mode_histogram")
    ]
    if rows:
        shares = hopping.occupancy([r["mode_histogram"] for r in rows])
        path = os.path.join(samples_dir, "mode_occupancy.png")
        plots.plot_mode_occupancy([r["step"] for r in rows], shares, path)
    chosen = plots.pick_evenly(list(saved), PLOTTED_STEPS)
    plots.plot_samples_over_training(
        {step: np.load(saved[step]) for step in chosen},
        dataset.centers,
        os.path.join(samples_dir, "samples_over_training.png"),
    )


__all__ = [
    "ConfigError",
    "WorkdirError",
    "config_differences",
    "prepare_workdir",
    "train_and_evaluate",
]
