"""From a config to the static parts of a run (`Experiment`) and its dynamic numbers.

The split follows DESIGN.md: everything that shapes the compiled program lives in the
`Experiment` (data set, modules, objective, optimizer rules, batch, k, update order); numbers
inside the math (seed, learning rates, loss weights) are `dynamic_params`, carried in `GANState`
so that runs differing only in them share one program along a vmapped axis.
"""

import json
from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import ml_collections
import optax

from gan_jax.parts import data, models, objectives, optim, pairings, penalties, regularizers
from gan_jax.parts.models import encoder
from gan_jax.parts.objectives import Objective
from gan_jax.step import samplers as samplers_lib


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
    ema: bool = False  # keep an exponential moving average of G's weights (`ema.decay`)
    inception_weights: str | None = None  # pytorch-fid's weights file: FID / KID at every eval
    extrapolation: str = "none"  # "extragradient": step with the field at a look-ahead point
    # Samplers over the trained G and D evaluated at every eval (gan_jax/step/samplers.py), and
    # their settings (the G draws each takes per returned sample, DRS's gamma rule and quantile,
    # the scale on D's logit).
    samplers: tuple[str, ...] = ()
    sampler_options: samplers_lib.SamplerOptions = samplers_lib.SamplerOptions()
    # G's regulariser (regularizers.py; `g_regularizer.name`), weighted by the dynamic
    # `g_regularizer.weight`: regularizer(inputs, key) -> (scalar, aux).
    g_regularizer: Callable = regularizers.no_regularizer
    # What D judges and G's side's adversarial loss (pairings.py; `pairing`): samples, or ALI's
    # and VEEGAN's (x, z) pairs built with G's helper network (`model.encoder`).
    pairing: pairings.Pairing = pairings.SAMPLES


def make_experiment(config: ml_collections.ConfigDict) -> Experiment:
    """Builds the static parts of a run from a validated config."""
    dataset = data.from_config(config.data)
    generator = encoder.with_encoder(
        models.make_generator(config.model.g, dataset.shape),
        config.model.get("encoder"),
        dataset.shape,
    )
    return Experiment(
        dataset=dataset,
        generator=generator,
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
        ema=config.ema.enabled,
        inception_weights=config.eval.get("inception_weights"),
        extrapolation=config.extrapolation,
        samplers=tuple(config.eval.samplers),
        sampler_options=samplers_lib.SamplerOptions(
            candidates=config.eval.sampler_candidates,
            drs_gamma_rule=config.eval.drs_gamma_rule,
            drs_gamma_quantile=config.eval.drs_gamma_quantile,
            logit_scale=float(config.eval.sampler_logit_scale),
            calibration=config.eval.sampler_calibration,
            ratio=config.eval.sampler_ratio,
            ratio_classifier_steps=config.eval.ratio_classifier_steps,
        ),
        g_regularizer=regularizers.REGULARIZERS[config.get("g_regularizer", NO_REGULARIZER).name],
        pairing=pairings.PAIRINGS[config.get("pairing", "none")],
    )


NO_REGULARIZER = ml_collections.ConfigDict(dict(name="none", weight=0.0))


# The value a run made before a dynamic field existed behaves as (its migration default).
DYNAMIC_DEFAULTS = {
    "penalty.weight": 0.0,
    "consensus.weight": 10.0,
    "ema.decay": 0.999,
    "g_regularizer.weight": 0.0,
}


def dynamic_fields(config: ml_collections.ConfigDict) -> dict[str, tuple[str, ...] | None]:
    """The one declaration of which config fields are dynamic (DESIGN.md, "Static vs dynamic
    config"): numbers inside the math, so runs that differ only in them share one compiled
    program and vmap. Sweep grouping (`static_key`), the state's numbers
    (`dynamic_params`) and migration defaults (`DYNAMIC_DEFAULTS`) all derive from it.

    Returns:
      {dotted field: its place in `dynamic_params(config)`}; `seed` has no place (it seeds the
      run's key).
    """
    fields: dict[str, tuple[str, ...] | None] = {"seed": None}
    for player in ("g", "d"):
        for name in optim.optimizer_hparams(config.optim[player]):
            fields[f"optim.{player}.{name}"] = (player, name)
    for name in objectives.get_objective(config.objective).hparams:
        fields[f"loss.{name}"] = ("loss", name)
    fields["penalty.weight"] = ("penalty_weight",)
    if config.consensus.enabled:  # absent otherwise: older checkpoints keep their structure
        fields["consensus.weight"] = ("consensus_weight",)
    if config.ema.enabled:
        fields["ema.decay"] = ("ema_decay",)
    # Declared only with a regulariser, as consensus.weight: a run without one keeps the state
    # (and checkpoint) structure it had before G regularisers existed.
    if config.get("g_regularizer", NO_REGULARIZER).name != "none":
        fields["g_regularizer.weight"] = ("g_regularizer_weight",)
    return fields


def dynamic_params(config: ml_collections.ConfigDict) -> dict:
    """The run's dynamic numbers, nested by their place in `dynamic_fields`: {"g": optimizer
    hyperparameters, "d": ..., "loss": the objective's scalars, "penalty_weight", and with
    consensus optimisation on, "consensus_weight"}."""
    defaults = objectives.get_objective(config.objective).hparams
    params: dict = {"g": {}, "d": {}, "loss": {}}
    for field, place in dynamic_fields(config).items():
        if place is None:
            continue
        head, _, name = field.rpartition(".")
        node = config
        for part in head.split("."):
            node = node[part]
        value = node.get(name, defaults.get(name)) if head == "loss" else node[name]
        target = params
        for part in place[:-1]:
            target = target[part]
        target[place[-1]] = float(value)
    return params


# Fields only the host loop reads (when to stop, evaluate and checkpoint; how many samples to
# save): runs that differ only in them compile to the same programs (`program_key`), although a
# sweep trains them in separate groups, since their loops differ.
HOST_FIELDS = (
    "num_steps",
    "eval_every",
    "checkpoint_every",
    "keep_checkpoints_over_last",
    "eval.plot_samples",
    "eval.samplers_from_step",
)


def _key(config: ml_collections.ConfigDict, skip) -> str:
    """Every leaf field of `config` but the dotted names in `skip`, as sorted JSON."""
    flat = {}

    def walk(tree, prefix=""):
        for key, value in tree.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            elif f"{prefix}{key}" not in skip:
                flat[f"{prefix}{key}"] = value

    walk(json.loads(config.to_json()))
    return json.dumps(flat, sort_keys=True)


def static_key(config: ml_collections.ConfigDict) -> str:
    """A string equal for two configs exactly when they can train in one sweep group (one
    compiled program, one host loop): every field but the dynamic ones (`dynamic_fields`)."""
    return _key(config, set(dynamic_fields(config)))


def program_key(config: ml_collections.ConfigDict) -> str:
    """A string equal for two configs whose jitted programs (init, train chunk, evaluate) are the
    same: `static_key` without the `HOST_FIELDS`."""
    return _key(config, set(dynamic_fields(config)) | set(HOST_FIELDS))
