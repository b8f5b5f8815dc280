"""From a config to the static parts of a run (`Experiment`) and its dynamic numbers.

The split follows DESIGN.md: everything that shapes the compiled program lives in the
`Experiment` (data set, modules, objective, optimizer rules, batch, k, update order); numbers
inside the math (seed, learning rates, loss weights) are `dynamic_params`, carried in `GANState`
so that runs differing only in them share one program along a vmapped axis.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import ml_collections
import optax

from gan_jax import data, models, objectives, optim, penalties
from gan_jax.objectives import Objective


class Unroll(NamedTuple):
    """How G looks ahead at D (Metz et al. 2016, Sec. 2.2)."""

    steps: int  # k differentiable D updates; 0 is the plain GAN
    second_order: bool  # backpropagate through the k updates (True) or treat them as constants
    fresh_batches: bool  # each unrolled update draws a new batch (True) or reuses the D batch
    remat: bool  # jax.checkpoint the unroll body: memory O(1) in k, one extra forward


class Experiment(NamedTuple):
    """The static parts of a run: one compiled program serves every run that shares them."""

    dataset: Any
    generator: nn.Module
    discriminator: nn.Module
    objective: Objective
    penalty: Callable  # penalty(discriminate, real, fake, key) -> scalar, see penalties.py
    g_optimizer: optax.GradientTransformation
    d_optimizer: optax.GradientTransformation
    batch_size: int
    n_d_steps: int
    update_order: str  # "alternating": G faces the updated D; "simultaneous": the same D
    unroll: Unroll
    eval_samples: int
    consensus: bool = False  # add consensus-optimisation terms to both players' gradients
    extrapolation: str = "none"  # "extragradient": step with the field at a look-ahead point


def make_experiment(config: ml_collections.ConfigDict) -> Experiment:
    """Builds the static parts of a run from a validated config."""
    dataset = data.make_dataset(
        config.data.name,
        tfds_dir=config.data.get("tfds_dir"),
        image_size=config.data.get("image_size"),
    )
    return Experiment(
        dataset=dataset,
        generator=models.make_generator(config.model.g, dataset.shape),
        discriminator=models.make_discriminator(config.model.d),
        objective=objectives.get_objective(config.objective),
        penalty=penalties.PENALTIES[config.penalty.name],
        g_optimizer=optim.make_optimizer(config.optim.g),
        d_optimizer=optim.make_optimizer(config.optim.d),
        batch_size=config.batch_size,
        n_d_steps=config.n_d_steps,
        update_order=config.update_order,
        unroll=Unroll(
            steps=config.unroll.steps,
            second_order=config.unroll.second_order,
            fresh_batches=config.unroll.fresh_batches,
            remat=config.unroll.remat,
        ),
        eval_samples=config.eval.num_samples,
        consensus=config.consensus.enabled,
        extrapolation=config.extrapolation,
    )


def dynamic_params(config: ml_collections.ConfigDict) -> dict:
    """The numbers of a run that vmap: optimizer hyperparameters, the objective's scalars, the
    penalty weight and, with consensus optimisation on, its weight gamma."""
    objective = objectives.get_objective(config.objective)
    loss = {
        name: float(config.loss.get(name, default)) for name, default in objective.hparams.items()
    }
    dynamic = {
        "g": optim.optimizer_hparams(config.optim.g),
        "d": optim.optimizer_hparams(config.optim.d),
        "loss": loss,
        "penalty_weight": float(config.penalty.weight),
    }
    if config.consensus.enabled:  # absent otherwise: older checkpoints keep their structure
        dynamic["consensus_weight"] = float(config.consensus.weight)
    return dynamic
