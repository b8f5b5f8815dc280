"""Load a trained run from its workdir, e.g. in a notebook: `gan = gan_jax.restore(workdir)`."""

import json
import os
from typing import Any

import jax
import ml_collections
import numpy as np

from gan_jax import checkpoint
from gan_jax.experiment import Experiment, make_experiment
from gan_jax.run import GROUP_FILE, init_group_state
from gan_jax.sharding import runs_mesh
from gan_jax.train import GANState, make_generate


def _tuples(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _tuples(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return tuple(_tuples(v) for v in tree)
    return tree


def load_config(workdir: str) -> ml_collections.ConfigDict:
    """The config a run in `workdir` was trained with (from its config.json)."""
    with open(os.path.join(workdir, "config.json")) as f:
        return ml_collections.ConfigDict(_tuples(json.load(f)))


class TrainedGAN:
    """A restored run: its `config`, its `state` (a `GANState`) and `sample(n, seed)`."""

    def __init__(self, config: ml_collections.ConfigDict, experiment: Experiment, state: GANState):
        self.config = config
        self.experiment = experiment
        self.state = state
        self._generate = jax.jit(make_generate(experiment), static_argnums=2)

    @property
    def step(self) -> int:
        return int(self.state.step)

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """`n` generated samples as a numpy array, z drawn from `jax.random.PRNGKey(seed)`."""
        return np.asarray(self._generate(self.state.g_params, jax.random.PRNGKey(seed), n))


def restore(workdir: str) -> TrainedGAN:
    """Loads the latest checkpoint of the run in `workdir` (a single run's workdir, or a sweep
    run's folder `<sweep workdir>/runs/<run name>`)."""
    config = load_config(workdir)
    with open(os.path.join(workdir, GROUP_FILE)) as f:
        pointer = json.load(f)
    experiment = make_experiment(config)
    target = init_group_state(experiment, [config] * pointer["num_padded"], runs_mesh(1))
    manager = checkpoint.make_manager(os.path.join(workdir, pointer["checkpoint_dir"]))
    stacked = checkpoint.restore_latest(manager, target)
    manager.close()
    if stacked is None:
        raise FileNotFoundError(f"no checkpoint for {workdir}")
    state = jax.tree.map(lambda x: x[pointer["index"]], stacked)
    return TrainedGAN(config, experiment, state)
