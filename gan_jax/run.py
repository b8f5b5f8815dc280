"""The host loop of one run: chunks of compiled steps, evals, checkpoints, outputs.

Python here only decides *when*: every step runs inside `train_chunk` (one `jax.jit` around a
`lax.scan`), evaluation is jitted, and the host touches the device once per chunk.
"""

import contextlib
import json
import math
import os
import shutil
import signal
import threading
import time

import jax
import ml_collections
import numpy as np
from absl import logging
from tqdm import tqdm

from gan_jax import checkpoint, plots, writers
from gan_jax.config import ConfigError, validate
from gan_jax.experiment import dynamic_params, make_experiment
from gan_jax.train import GANState, init_state, make_evaluate, make_train_chunk

# Fields that may change between a run and its resumption: they set how long it runs and how
# often it saves, never what a step computes.
RESUMABLE_FIELDS = ("num_steps", "checkpoint_every")
OUTPUTS = ("checkpoints", "metrics.jsonl", "tensorboard", "samples", "config.json")
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
    return [
        f"{key}: {old_flat.get(key, '<absent>')!r} -> {new_flat.get(key, '<absent>')!r}"
        for key in sorted(set(old_flat) | set(new_flat))
        if key not in ignore and old_flat.get(key) != new_flat.get(key)
    ]


def prepare_workdir(config: ml_collections.ConfigDict, workdir: str, overwrite: bool) -> None:
    """Writes `config.json`; refuses a workdir that holds a different config unless `overwrite`."""
    path = os.path.join(workdir, "config.json")
    new = config_to_dict(config)
    if os.path.exists(path) and not overwrite:
        with open(path) as f:
            differences = config_differences(json.load(f), new)
        if differences:
            raise WorkdirError(
                f"workdir {workdir} holds a run with a different config ("
                + "; ".join(differences)
                + "); use another --workdir, or pass --overwrite to discard that run"
            )
    if overwrite:
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
def stop_on_signals():
    """Turns SIGINT/SIGTERM into a request to stop after the current chunk (and save)."""
    requested = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield requested
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: requested.set())
    try:
        yield requested
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _host_mean(stacked_chunks: list[dict]) -> dict:
    merged = jax.device_get(stacked_chunks)
    return {k: float(np.mean(np.concatenate([c[k] for c in merged]))) for k in merged[0]}


def _summary(metrics: dict) -> dict:
    keys = ("modes_covered", "high_quality_pct", "d/loss", "g/loss")
    return {k.replace("/", "_"): f"{metrics[k]:.3g}" for k in keys if k in metrics}


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
    exp = make_experiment(config)
    state = init_state(exp, jax.random.PRNGKey(config.seed), dynamic_params(config))
    manager = checkpoint.make_manager(workdir)
    writer = writers.MetricsWriter(workdir)
    evaluate = jax.jit(make_evaluate(exp))
    samples_dir = os.path.join(workdir, "samples")

    def log_eval(state, train_metrics, steps_per_sec):
        eval_metrics, samples = evaluate(state)
        step = int(state.step)
        row = {**train_metrics, **jax.device_get(eval_metrics), "diverged_at": state.diverged_at}
        if steps_per_sec is not None:
            row["steps_per_sec"] = steps_per_sec
        writer.write(step, row)
        np.save(
            os.path.join(samples_dir, f"step_{step:08d}.npy"),
            np.asarray(samples[: config.eval.plot_samples]),
        )
        if progress:
            summary = _summary({**train_metrics, **jax.device_get(eval_metrics)})
            tqdm.write(f"step {step}: " + " ".join(f"{k}={v}" for k, v in summary.items()))
        return row

    restored = checkpoint.restore_latest(manager, state)
    if restored is None:
        log_eval(state, {}, None)
    else:
        state = restored
        writer.truncate_after(int(state.step))
        logging.warning("resumed %s at step %d", workdir, int(state.step))

    chunk_len = math.gcd(config.eval_every, config.checkpoint_every)
    chunk_fns = {}
    pending, chunks_run = [], 0
    bar = tqdm(
        total=config.num_steps,
        initial=int(state.step),
        unit="step",
        disable=None if progress else True,
        dynamic_ncols=True,
    )
    last_time, last_step = time.perf_counter(), int(state.step)
    with stop_on_signals() as stop_requested:
        while (step := int(state.step)) < config.num_steps:
            length = min(chunk_len - step % chunk_len, config.num_steps - step)
            if length not in chunk_fns:
                chunk_fns[length] = jax.jit(make_train_chunk(exp, length), donate_argnums=0)
            state, chunk_metrics = chunk_fns[length](state)
            pending.append(chunk_metrics)
            chunks_run += 1
            step += length
            bar.update(length)
            stopping = stop_requested.is_set() or chunks_run == stop_after_chunks
            if step % config.eval_every == 0 or step == config.num_steps:
                now = time.perf_counter()
                row = log_eval(state, _host_mean(pending), (step - last_step) / (now - last_time))
                pending, last_time, last_step = [], now, step
                bar.set_postfix(_summary(row))
            if step % config.checkpoint_every == 0 or step == config.num_steps or stopping:
                checkpoint.save(manager, state)
            if stopping:
                logging.warning("stopping at step %d; rerun the same command to resume", step)
                break
    bar.close()
    writer.close()
    manager.close()
    plot_run(workdir, exp.dataset)
    return state


def plot_run(workdir: str, dataset) -> None:
    """Writes samples/samples_over_training.png from the saved eval samples."""
    samples_dir = os.path.join(workdir, "samples")
    saved = {
        int(name[5:13]): os.path.join(samples_dir, name)
        for name in os.listdir(samples_dir)
        if name.startswith("step_") and name.endswith(".npy")
    }
    if not saved or not hasattr(dataset, "centers"):
        return
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
