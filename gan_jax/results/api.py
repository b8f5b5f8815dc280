"""Load a trained run from its workdir, e.g. in a notebook: `gan = gan_jax.restore(workdir)`."""

import os

import jax
import numpy as np

from gan_jax.loop import checkpoint
from gan_jax.loop import workdir as wd
from gan_jax.loop.run import group_state_shapes, programs
from gan_jax.loop.sharding import runs_mesh, to_host
from gan_jax.loop.workdir import load_config
from gan_jax.step import samplers
from gan_jax.step.config import sampler_unfit_reason
from gan_jax.step.experiment import Experiment
from gan_jax.step.train import GANState, ema_params, make_generate

__all__ = ["TrainedGAN", "checkpoint_steps", "load_config", "restore"]


class TrainedGAN:
    """A restored run: its `config`, its `state` (a `GANState`) and `sample(n, seed)`."""

    def __init__(self, config, experiment: Experiment, state: GANState):
        self.config = config
        self.experiment = experiment
        self.state = state
        self._generate = jax.jit(make_generate(experiment), static_argnums=2)
        self._samplers = {}  # name -> its jitted sampler, built on first use
        self._readings = {}  # seed -> the samplers' fitted `samplers.RatioReading` for it
        self._read = None  # the jitted `samplers.read_ratio`, built on first use

    @property
    def step(self) -> int:
        return int(self.state.step)

    @property
    def sample_shape(self) -> tuple:
        """The shape of one sample, e.g. (32, 32, 3) for an image run, (2,) for a 2D mixture."""
        return tuple(self.experiment.dataset.shape)

    def sample(
        self, n: int, seed: int = 0, ema: bool = False, sampler: str | None = None
    ) -> np.ndarray:
        """`n` generated samples as a numpy array, z drawn from `jax.random.PRNGKey(seed)`, from
        G in inference mode; with `ema`, from the exponential moving average of G's weights;
        with `sampler` (a name in `gan_jax.step.samplers.SAMPLERS`, e.g. "drs" or "mh"), from
        that sampler over the raw G and D, with the run's `eval.sampler_candidates`,
        `eval.sampler_logit_scale`, `eval.sampler_calibration` and `eval.sampler_ratio` (and,
        for DRS, `eval.drs_gamma_rule` and `eval.drs_gamma_quantile`), reading the ratio that
        `ratio_reading(seed)` fits once per seed. With `eval.sampler_ratio="classifier"` that is
        a classifier fit from this seed (for `eval.ratio_classifier_steps` steps: ~80 s at 40,000
        on a 2-core CPU), not the one the evals read."""
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"sample(n={n!r}): n must be an integer >= 1")
        if sampler is not None:
            return self._sample_with(sampler, int(n), seed, ema)
        if ema and self.state.g_ema is None:
            raise ValueError("sample(ema=True): this run kept no EMA of G (ema.enabled=False)")
        params = ema_params(self.state) if ema else self.state.g_params
        return np.asarray(self._generate(params, jax.random.PRNGKey(seed), int(n)))

    def _sample_with(self, name: str, n: int, seed: int, ema: bool) -> np.ndarray:
        if name not in samplers.SAMPLERS:
            raise ValueError(
                f"sample(sampler={name!r}): unknown sampler; choose one of "
                f"{sorted(samplers.SAMPLERS)}"
            )
        if ema:
            raise ValueError(
                f"sample(sampler={name!r}, ema=True): a sampler corrects the raw G, the one D "
                "was trained against; drop ema"
            )
        self._check_samplers_fit(f"sample(sampler={name!r})")
        reading = self.ratio_reading(seed)
        if name not in self._samplers:
            exp, sampler = self.experiment, samplers.SAMPLERS[name]

            def draw(state, reading, key, n):
                model = samplers.model_of(exp, state.g_params, state.d_params, reading=reading)
                return sampler(model, key, n, exp.sampler_options)[0]

            self._samplers[name] = jax.jit(draw, static_argnums=3)
        return np.asarray(self._samplers[name](self.state, reading, jax.random.PRNGKey(seed), n))

    def ratio_reading(self, seed: int = 0):
        """The log density ratio the samplers read for `sample(..., seed, sampler=...)`, fit once
        per seed and kept (`gan_jax.step.samplers.RatioReading`: its state, the factor on its
        logit, and what the fit reported, e.g. a classifier's final loss as
        `diagnostics["ratio_loss"]`), from the key `jax.random.fold_in(PRNGKey(seed), 1)`."""
        self._check_samplers_fit(f"ratio_reading(seed={seed})")
        if seed not in self._readings:
            if self._read is None:
                exp = self.experiment

                def read(state, key):
                    return samplers.read_ratio(
                        exp, state.g_params, state.d_params, partners_key=jax.random.fold_in(key, 1)
                    )

                self._read = jax.jit(read)
            self._readings[seed] = self._read(self.state, jax.random.PRNGKey(seed))
        return self._readings[seed]

    def _check_samplers_fit(self, call: str) -> None:
        """One line naming `call` when the samplers cannot read this run's D."""
        reason = sampler_unfit_reason(self.config)
        if reason is not None:
            raise ValueError(f"{call}: this run's D does not fit: {reason}")


def _checkpoints_of(workdir: str) -> tuple:
    """(config, group pointer, checkpoint folder) of the run in `workdir`; `restore`'s errors."""
    if not os.path.isdir(workdir):
        raise FileNotFoundError(f"{workdir}: no such folder")
    found = wd.kind(workdir)
    if found is None:
        raise FileNotFoundError(f"{workdir} holds no gan_jax run")
    if found == "sweep":
        names = wd.sweep_runs(workdir)
        raise ValueError(
            f"{workdir} is a sweep, not a run; restore one of its runs, "
            f"gan_jax.restore('{os.path.join(workdir, 'runs', '<run>')}') with <run> one of: "
            + (", ".join(names) if names else "(none yet)")
        )
    config = load_config(workdir)
    pointer = wd.read_group(workdir)
    if pointer is None:
        raise FileNotFoundError(f"{workdir} holds no checkpoint yet")
    directory = os.path.normpath(os.path.join(workdir, pointer["checkpoint_dir"]))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"the checkpoints of {workdir} belong in {directory}, which is missing (a sweep's run "
            "is restored from inside its sweep folder)"
        )
    return config, pointer, directory


def checkpoint_steps(workdir: str) -> list[int]:
    """The steps whose checkpoints the run in `workdir` holds, oldest first: the newest 3, and
    every one over the last `keep_checkpoints_over_last` of its steps. Errors as `restore`'s."""
    _, _, directory = _checkpoints_of(workdir)
    manager = checkpoint.make_manager(directory, create=False)
    try:
        return sorted(manager.all_steps())
    finally:
        manager.close()


def restore(workdir: str, step: int | None = None) -> TrainedGAN:
    """Loads the newest verified checkpoint of the run in `workdir` (a single run's workdir, or
    a sweep run's folder `<sweep workdir>/runs/<run name>`; `gan_jax.loop.checkpoint`), or the
    checkpoint of `step` (one of `checkpoint_steps(workdir)`), verified. Reads only: nothing is
    written.

    Raises:
      FileNotFoundError: `workdir` is missing, empty, or holds no checkpoint yet.
      ValueError: `workdir` holds something else (a sweep root lists its runs), a damaged
        bookkeeping file, no checkpoint in it is intact, or there is no intact checkpoint of
        `step` (`WorkdirError`, one line each).
    """
    config, pointer, directory = _checkpoints_of(workdir)
    mesh = runs_mesh(1)
    experiment = programs(config, mesh).exp
    target = group_state_shapes([config] * pointer["num_padded"], mesh)
    manager = checkpoint.make_manager(directory, create=False)
    try:
        if step is None:
            stacked = checkpoint.restore_latest(manager, target)
        else:
            stacked = checkpoint.restore_step(manager, target, step)
    finally:
        manager.close()
    if stacked is None:
        raise FileNotFoundError(f"{workdir} holds no checkpoint yet")
    # The run's slice on the host, then back to the device: `x[index]` on a jax array would
    # compile one gather per leaf shape (~1 s per restore on CPU). `to_host` gathers the runs
    # of every process first when several share the mesh.
    index = pointer["index"]
    state = jax.tree.map(lambda x: jax.device_put(x[index]), to_host(stacked))
    return TrainedGAN(config, experiment, state)
