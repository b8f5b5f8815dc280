"""Sweeps: a grid of config values times seeds, trained as few compiled programs as possible.

A sweep lives in its config (`config.sweep`): `seeds` (runs per grid point, seeds
`config.seed + i`) and `grid`, nested like the config with a tuple of values at each leaf:

    config.sweep = ml_collections.ConfigDict(dict(seeds=10, grid=dict(unroll=dict(steps=(0, 5)))))

To compare variants that differ in many fields at once (an objective with its own model and
optimizer), `sweep.configs = ("gan", "lsgan", ...)` names config files under `configs/`: each
run starts from that file's `get_config()` instead of this config, with `sweep.set` (nested
like the config, e.g. `dict(num_steps=10_000)`) applied to all of them, then the grid.

Runs that differ only in *dynamic* fields (seed, optimizer hyperparameters, `loss.*`) form one
group: one compiled program with a runs axis sharded over devices. Runs that differ in a
*static* field (k, architecture, objective, batch, ...) compile separately. How a group's program
walks its runs is `sweep.runs_axis` ("auto", "vmap", "map" or "loop"; `gan_jax.loop.runs_axis`).
"""

import contextlib
import hashlib
import importlib
import itertools
import json
import os
from typing import NamedTuple

import ml_collections
from absl import logging

from gan_jax.loop import backend, resources, runs_axis, sharding
from gan_jax.loop import workdir as wd
from gan_jax.loop.progress import Progress, stopped_line
from gan_jax.loop.run import (
    Outcome,
    RunSpec,
    current_step,
    diverged_at,
    lock_check,
    stop_on_signals,
    train_group,
)
from gan_jax.step.config import ConfigError, set_field, validate
from gan_jax.step.experiment import static_key


class SweepRun(NamedTuple):
    """One run of a sweep: `name` like "unroll.steps=5,seed=3", its `variant` (the grid point,
    seed excluded) and its full config."""

    name: str
    variant: str
    assignments: dict
    config: ml_collections.ConfigDict


def is_sweep(config: ml_collections.ConfigDict) -> bool:
    return "sweep" in config


def grid_fields(grid: ml_collections.ConfigDict, prefix: str = "") -> dict[str, tuple]:
    """The grid's leaves as {"unroll.steps": (0, 1, 5), ...}, sorted by field name."""
    fields = {}
    for key, value in grid.items():
        if isinstance(value, ml_collections.ConfigDict | dict):
            fields.update(grid_fields(value, f"{prefix}{key}."))
        else:
            fields[f"{prefix}{key}"] = value
    return fields


def _format(value) -> str:
    if isinstance(value, tuple | list):
        return "x".join(str(v) for v in value)
    return str(value)


def _set(config: ml_collections.ConfigDict, field: str, value, where: str = "sweep.grid") -> None:
    set_field(config, field, value, where)


def expand(config: ml_collections.ConfigDict) -> list[SweepRun]:
    """Every run of the sweep in `config`, each config validated (grid order, then seeds)."""
    seeds = config.sweep.get("seeds", 1)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"sweep.seeds={seeds!r} is invalid: must be an integer >= 1")
    fields = grid_fields(config.sweep.get("grid", ml_collections.ConfigDict()))
    for field, values in fields.items():
        if field == "seed" or field.startswith("sweep."):
            raise ConfigError(f"sweep.grid.{field} cannot be swept; use sweep.seeds for seeds")
        if not isinstance(values, tuple | list) or not values:
            raise ConfigError(
                f"sweep.grid.{field}={values!r} is invalid: must be a non-empty tuple of values"
            )
    runs = []
    for base_name, base in _bases(config):
        for values in itertools.product(*fields.values()):
            assignments = dict(zip(fields, values, strict=True))
            if base_name is not None:
                assignments = {"config": base_name, **assignments}
            runs += _seeded_runs(config, base, assignments, seeds)
    _check_baseline(config, runs)
    runs_axis_strategy(config)
    return runs


def runs_axis_strategy(config: ml_collections.ConfigDict) -> str:
    """`sweep.runs_axis`: how each group's program walks its runs (`gan_jax.loop.runs_axis`;
    "auto", the default: one run after another on CPU, vmapped on accelerators)."""
    strategy = config.sweep.get("runs_axis", "auto")
    if strategy not in runs_axis.STRATEGIES:
        raise ConfigError(
            f"sweep.runs_axis={strategy!r} is invalid: choose one of {list(runs_axis.STRATEGIES)}"
        )
    return strategy


def _check_baseline(config, runs: list[SweepRun]) -> None:
    """`sweep.baseline` (optional) names the variant the report compares every other one to."""
    baseline = config.sweep.get("baseline")
    variants = list(dict.fromkeys(run.variant for run in runs))
    if baseline is not None and baseline not in variants:
        raise ConfigError(f"sweep.baseline={baseline!r} names no variant; choose one of {variants}")


def _bases(config):
    """(name, config) pairs every grid point starts from: the sweep's own config, or the files
    named in `sweep.configs` with `sweep.set` applied."""
    names = config.sweep.get("configs", ())
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"sweep.configs={names!r} is invalid: must be a tuple of config names")
    overrides = grid_fields(config.sweep.get("set", ml_collections.ConfigDict()))
    if not names:
        base = ml_collections.ConfigDict(config.to_dict())
        del base["sweep"]
        for field, value in overrides.items():
            _set(base, field, value, where="sweep.set")
        return [(None, base)]
    bases = []
    for name in names:
        # "paper.pacgan_ring:4" is configs/paper/pacgan_ring.py's get_config("4"), as
        # --config=configs/paper/pacgan_ring.py:4 on the command line.
        module_name, has_arg, arg = name.partition(":")
        path = f"configs/{module_name.replace('.', '/')}.py"
        try:
            module = importlib.import_module(f"configs.{module_name}")
        except ModuleNotFoundError:
            raise ConfigError(f"sweep.configs names {name!r}, but {path} does not exist") from None
        base = module.get_config(arg) if has_arg else module.get_config()
        for field, value in overrides.items():
            _set(base, field, value, where="sweep.set")
        bases.append((name, base))
    return bases


def _seeded_runs(config, base, assignments, seeds) -> list[SweepRun]:
    """The `seeds` runs of one grid point: `base` with `assignments` set, seeds from config.seed."""
    runs = []
    variant = ",".join(f"{f}={_format(v)}" for f, v in assignments.items())
    for i in range(seeds):
        run_config = ml_collections.ConfigDict(base.to_dict())
        for field, value in assignments.items():
            if field != "config":
                _set(run_config, field, value)
        run_config.seed = config.seed + i
        try:
            validate(run_config)
        except ConfigError as error:
            raise ConfigError(f"sweep run {variant or 'base'}: {error}") from None
        name = f"{variant},seed={run_config.seed}" if variant else f"seed={run_config.seed}"
        runs.append(SweepRun(name, variant or "base", assignments, run_config))
    return runs


def swept_fields(config: ml_collections.ConfigDict) -> list[str]:
    """The fields a sweep varies, as results.csv names its columns ("config" first when the
    sweep names config files)."""
    swept = list(grid_fields(config.sweep.get("grid", {})))
    return ["config", *swept] if config.sweep.get("configs", ()) else swept


def finished_runs(config: ml_collections.ConfigDict, workdir: str) -> list[SweepRun]:
    """The runs of the sweep in `config` that have finished in `workdir`, in sweep order."""
    return [run for run in expand(config) if is_finished(workdir, run)]


def group_runs(runs: list[SweepRun]) -> list[list[SweepRun]]:
    """Runs grouped by `static_key`, groups in order of their first run."""
    groups: dict[str, list[SweepRun]] = {}
    for run in runs:
        groups.setdefault(static_key(run.config), []).append(run)
    # Rows of a stacked checkpoint follow the group's order: make it independent of grid order.
    return [sorted(group, key=lambda run: run.name) for group in groups.values()]


def group_title(number: int, count: int, group: list[SweepRun]) -> str:
    """How the eval lines name a group: "group 1/2 [unroll.steps=0, 4 runs]"."""
    variants = list(dict.fromkeys(run.variant for run in group))
    shown = variants[0] if len(variants) == 1 else f"{variants[0]} and {len(variants) - 1} more"
    return f"group {number}/{count} [{shown}, {len(group)} runs]"


def _group_id(group: list[SweepRun]) -> str:
    """Names the group's checkpoint folder after its runs and their configs (num_steps and
    checkpoint_every excepted, which may grow on resume): a changed run never restores an old
    state."""
    parts = []
    for run in group:
        config = wd.config_to_dict(run.config)
        for field in wd.RESUMABLE_FIELDS:
            config.pop(field, None)
        parts.append(run.name + json.dumps(config, sort_keys=True))
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:12]


def _checkpoint_dir(workdir: str, group: list[SweepRun]) -> str:
    """The group's checkpoint folder: the one its runs already point to (their group.json), when
    every run points to one existing folder at its own row, so that a resumed group finds its
    state even after the config gained a field (its stored config still matches through
    `workdir.ADDED_FIELDS`, but the hash of the new config differs); else a new folder named by
    `_group_id`."""
    root = os.path.join(workdir, "checkpoints")
    pointers = []
    for run in group:
        pointers.append(wd.read_group(run_dir(workdir, run)))
    if all(p is not None for p in pointers):
        folders = {
            os.path.normpath(os.path.join(run_dir(workdir, run), p["checkpoint_dir"]))
            for run, p in zip(group, pointers, strict=True)
        }
        rows = [p["index"] for p in pointers]
        if len(folders) == 1 and rows == list(range(len(group))):
            (folder,) = folders
            if os.path.dirname(folder) == os.path.normpath(root) and os.path.isdir(folder):
                return folder
    return os.path.join(root, _group_id(group))


def run_dir(workdir: str, run: SweepRun) -> str:
    return wd.run_dir(workdir, run.name)


def is_finished(workdir: str, run: SweepRun) -> bool:
    """Whether `run` has trained its `num_steps` (a larger num_steps continues it)."""
    steps = wd.final_steps(run_dir(workdir, run))
    return steps is not None and steps >= run.config.num_steps


def _only_grows(runs: list[SweepRun]):
    """Whether a stored sweep definition is kept by the new one: every run it defined is still a
    run of the new definition with the same config (more seeds or grid values only add runs)."""
    new = {run.name: wd.config_to_dict(run.config) for run in runs}

    def keeps(stored: dict) -> bool:
        try:
            old = expand(wd.config_from_dict(stored))
        except (ConfigError, ValueError, TypeError, KeyError):
            return False
        return all(
            run.name in new
            and not wd.config_differences(wd.config_to_dict(run.config), new[run.name])
            for run in old
        )

    return keeps


def prepare_sweep(config, workdir: str, runs: list[SweepRun], overwrite: bool) -> None:
    """Checks the sweep root and every run folder first, then writes: a refusal changes
    nothing. A sweep with another definition is refused (listing what differs) unless it only
    grows, or `overwrite` discards the old sweep."""
    primary = sharding.is_primary()
    for write in (False, True) if primary else (False,):
        wd.prepare(
            workdir,
            config,
            "sweep",
            overwrite=overwrite,
            write=write,
            keeps=_only_grows(runs),
            backend=backend.describe(),
        )
        for run in runs:
            wd.prepare(
                run_dir(workdir, run),
                run.config,
                "sweep_run",
                overwrite=overwrite,
                write=write,
                name=run.name,
            )


def run_sweep(
    config: ml_collections.ConfigDict,
    workdir: str,
    *,
    overwrite: bool = False,
    stop_after_chunks: int | None = None,
    progress: bool = True,
) -> Outcome:
    """Trains every unfinished run of the sweep in `config` (its report: `gan_jax.commands`).

    Finished runs (a `final.json` in their folder) are skipped, so rerunning the command resumes
    an interrupted sweep; growing the sweep (more seeds or grid values) keeps every finished run.
    A sweep or run with a different stored config is refused unless `overwrite`. The sweep root
    is locked while it trains (see `gan_jax.loop.workdir`).
    """
    runs = expand(config)
    unfinished = group_runs([run for run in runs if not is_finished(workdir, run)])
    resources.check_configs_fit([[run.config for run in group] for group in unfinished])
    primary = sharding.is_primary()
    wd.check_kind(workdir, "sweep")  # before the lock, which creates the folder
    with wd.lock(workdir) if primary else contextlib.nullcontext() as held:
        prepare_sweep(config, workdir, runs, overwrite)
        sharding.barrier("sweep prepared")
        todo = [run for run in runs if not is_finished(workdir, run)]
        groups = group_runs(todo)
        logging.warning(
            "sweep: %d runs, %d finished, %d to train in %d compiled group(s)",
            len(runs),
            len(runs) - len(todo),
            len(todo),
            len(groups),
        )
        tracker = Progress(
            sum(run.config.num_steps for run in todo),
            bar=progress and primary,
            log=primary,
            unit_scale=True,
        )
        finished = True
        check_workdir = lock_check(held, workdir)
        with stop_on_signals(stop_after_chunks) as should_stop:
            for number, group in enumerate(groups, 1):
                specs = [RunSpec(run.name, run.config, run_dir(workdir, run)) for run in group]
                tracker.group = group_title(number, len(groups), group)
                stacked, finished = train_group(
                    specs,
                    _checkpoint_dir(workdir, group),
                    progress=tracker,
                    should_stop=should_stop,
                    strategy=runs_axis_strategy(config),
                    check_workdir=check_workdir,
                )
                if not finished:
                    if primary:
                        step, num_steps = current_step(stacked), group[0].config.num_steps
                        where = stopped_line(step, num_steps, should_stop.signal, tracker.group)
                        logging.warning("sweep %s", where)
                    break
                check_workdir(current_step(stacked))
                for spec in specs if primary else []:
                    wd.mark_finished(spec.workdir, spec.name, spec.config.num_steps)
        tracker.close()
        done = [run for run in runs if is_finished(workdir, run)]
    diverged = {}
    for run in runs:
        step = diverged_at(run_dir(workdir, run))
        if step >= 0:
            diverged[run.name] = step
    return Outcome(
        finished=finished and len(done) == len(runs),
        stopped_by=should_stop.signal,
        diverged=diverged,
    )
