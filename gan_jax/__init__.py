"""gan_jax: a JAX/Flax codebase for studying why GANs fail and what fixes them.

The folders are layers, lowest first; an import never points to a higher layer (tests/test_layers.py
checks every import, those inside functions included):

1. `parts/`    data sets, models, objectives, penalties, optimizers
2. `metrics/`  evaluators: each kind of data set's metrics, their declarations and plots
3. `step/`     config checks, the Experiment, the game's update rules, the compiled step
4. `loop/`     workdirs, checkpoints, writers, sharding, one run, a sweep
5. `results/`  trained runs read back, reports, statistics, comparisons, export
6. the command line: `commands` (train a config, then report), `cli`, `main`

The notebook API (`restore`, `checkpoint_steps`, `load_config`, `load_results`, `TrainedGAN`) is
loaded on first use, so importing a part (`gan_jax.parts.objectives`, `gan_jax.parts.models`, ...)
does not load the plotting, checkpointing or logging stack.
"""

import importlib

LAYERS = ("parts", "metrics", "step", "loop", "results")  # lowest first; the rest is on top

_API = {
    "TrainedGAN": "gan_jax.results.api",
    "checkpoint_steps": "gan_jax.results.api",
    "load_config": "gan_jax.results.api",
    "restore": "gan_jax.results.api",
    "load_results": "gan_jax.results.load",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'gan_jax' has no attribute {name!r}")
    return getattr(importlib.import_module(_API[name]), name)
