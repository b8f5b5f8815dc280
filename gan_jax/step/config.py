"""Config checks that run before anything compiles: one clear line per mistake.

`validate(config)` raises `ConfigError` whose message names the field, the value it got and
what is allowed, e.g. "unroll.steps=-1 is invalid: must be an integer >= 0".
"""

import dataclasses
import functools
import json
import math
import os
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import ml_collections

from gan_jax import metrics
from gan_jax.parts import data, models, objectives, optim, pairings, penalties, regularizers
from gan_jax.parts.models import dcgan, encoder, mlp
from gan_jax.step import game, samplers


class ConfigError(ValueError):
    """A config value that cannot run; the message is one line naming the field."""


def _fail(field: str, value, allowed: str):
    raise ConfigError(f"{field}={value!r} is invalid: {allowed}")


def _int(config, field: str, minimum: int) -> int:
    value = _get(config, field)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _fail(field, value, f"must be an integer >= {minimum}")
    return value


def _bool(config, field: str) -> bool:
    value = _get(config, field)
    if not isinstance(value, bool):
        _fail(field, value, "must be True or False")
    return value


def _choice(config, field: str, choices) -> str:
    value = _get(config, field)
    if value not in choices:
        _fail(field, value, f"choose one of {sorted(choices)}")
    return value


def _get(config, field: str):
    node = config
    for part in field.split("."):
        if part not in node:
            raise ConfigError(f"{field} is missing from the config")
        node = node[part]
    return node


def set_field(config: ml_collections.ConfigDict, field: str, value, where: str = "") -> None:
    """Sets the dotted `field` (e.g. "optim.g.learning_rate") of `config` to `value`; a field
    that does not exist or a value of the wrong type is a `ConfigError` naming `where.field`."""
    name = f"{where}.{field}" if where else field
    node = config
    *parents, leaf = field.split(".")
    for parent in parents:
        if parent not in node or not isinstance(node[parent], ml_collections.ConfigDict):
            raise ConfigError(f"{name} names no config field")
        node = node[parent]
    if leaf not in node:
        raise ConfigError(f"{name} names no config field")
    if isinstance(value, bool) and _number(node[leaf]):
        # ml_collections would store True as 1.0 in a float field: a silently changed value.
        raise ConfigError(f"{name} value {value!r} does not fit: the field holds a number")
    try:
        node[leaf] = value
    except TypeError as error:
        raise ConfigError(f"{name} value {value!r} does not fit: {error}") from None


def _number(value) -> bool:
    """A finite int or float: nan and inf are refused like any other non-number."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_module(config, field: str, registry: Mapping[str, type], derived=()) -> None:
    """The fields of the module `field.name` names in `registry`; `derived` are module fields
    the code sets (an encoder's latent_dim is G's), not the config."""
    cfg = _get(config, field)
    module = registry[_choice(config, f"{field}.name", registry)]
    allowed = {f.name for f in dataclasses.fields(module)} - {"parent", "name", "data_shape"}
    allowed -= set(derived)
    for key, value in cfg.items():
        if key == "name":
            continue
        if key not in allowed:
            raise ConfigError(
                f"{field}.{key} is not a field of model {cfg.name!r}; it takes {sorted(allowed)}"
            )
        maxout = {"maxout"} if "maxout_pieces" in allowed else set()
        activations = set(models.ACTIVATIONS) | maxout
        if key == "activation" and value not in activations:
            _fail(f"{field}.{key}", value, f"choose one of {sorted(activations)}")
        if (
            key in ("init_std", "orthogonal_gain")
            and value is not None
            and (not _number(value) or value <= 0)
        ):
            _fail(f"{field}.{key}", value, "must be None (flax's default) or a finite number > 0")
        if key == "orthogonal_gain" and value is not None and cfg.get("init_std") is not None:
            _fail(f"{field}.{key}", value, f"is one init and {field}.init_std another: set one")
        if key == "min_scale" and not (_number(value) and value > 0):
            _fail(f"{field}.{key}", value, "must be a finite number > 0 (the smallest scale)")
        if key == "batch_norm_momentum" and not (_number(value) and 0 <= value < 1):
            _fail(f"{field}.{key}", value, "must be in [0, 1)")
        if key in ("hidden_sizes",) and not (
            isinstance(value, tuple | list)
            and all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in value)
        ):
            _fail(f"{field}.{key}", value, "must be a tuple of positive integers")
        minimum = {
            "latent_dim": 1,
            "code_dim": 1,
            "minibatch_kernel_dim": 1,
            "pack": 1,
            "base_features": 1,
            "spectral_norm_iterations": 1,
            "maxout_pieces": 1,
        }
        if key in minimum or key == "minibatch_kernels":
            _int(config, f"{field}.{key}", minimum.get(key, 0))
        if key in ("minibatch_stddev", "spectral_norm"):
            _bool(config, f"{field}.{key}")
        if key == "upsample":
            _choice(config, f"{field}.{key}", dcgan.UPSAMPLE)
        if key == "normalization":
            mlp_g = module is models.MLPGenerator
            _choice(config, f"{field}.{key}", mlp.NORMALIZATIONS if mlp_g else dcgan.NORMALIZATIONS)


def _check_optimizer(config, field: str) -> None:
    cfg = _get(config, field)
    _choice(config, f"{field}.name", optim.OPTIMIZERS)
    if "schedule" in cfg and _choice(config, f"{field}.schedule", optim.SCHEDULES) != "constant":
        _int(config, f"{field}.schedule_steps", 1)
        final = _get(config, f"{field}.schedule_final")
        if not (_number(final) and 0 <= final <= 1):
            _fail(f"{field}.schedule_final", final, "must be in [0, 1]")
    _, fields = optim.OPTIMIZERS[cfg.name]
    for key in fields:
        if key in cfg and not _number(cfg[key]):
            _fail(f"{field}.{key}", cfg[key], "must be a finite number")
    for key, value in optim.optimizer_hparams(cfg).items():
        ok = {
            "learning_rate": lambda v: v > 0,
            "b1": lambda v: 0 <= v < 1,
            "b2": lambda v: 0 <= v < 1,
            "decay": lambda v: 0 <= v < 1,
            "momentum": lambda v: v >= 0,
        }.get(key, lambda v: v >= 0)
        raw = cfg[key]
        if not _number(raw) or not ok(value):
            rule = {
                "learning_rate": "must be a finite number > 0",
                "b1": "must be in [0, 1)",
                "b2": "must be in [0, 1)",
                "decay": "must be in [0, 1)",
            }.get(key, "must be a finite number >= 0")
            _fail(f"{field}.{key}", raw, rule)


def validate(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """Checks every field a run reads; returns the config unchanged or raises `ConfigError`."""
    _int(config, "seed", 0)
    _int(config, "num_steps", 1)
    batch_size = _int(config, "batch_size", 2)
    _int(config, "eval_every", 1)
    _int(config, "checkpoint_every", 1)
    keep_over_last = _get(config, "keep_checkpoints_over_last")
    if not (_number(keep_over_last) and 0 <= keep_over_last <= 1):
        _fail("keep_checkpoints_over_last", keep_over_last, "must be a fraction in [0, 1]")
    _int(config, "n_d_steps", 1)
    _int(config, "eval.num_samples", 1)
    _int(config, "eval.plot_samples", 0)
    devices = jax.device_count()
    if batch_size % devices:
        _fail("batch_size", batch_size, f"must be divisible by the device count ({devices})")

    _choice(config, "data.name", data.DATASETS)
    _choice(config, "update_order", game.UPDATE_ORDERS)
    _choice(config, "extrapolation", game.EXTRAPOLATIONS)
    _bool(config, "consensus.enabled")
    _bool(config, "ema.enabled")
    ema_decay = _get(config, "ema.decay")
    if not (_number(ema_decay) and 0 <= ema_decay < 1):
        _fail("ema.decay", ema_decay, "must be in [0, 1)")
    consensus_weight = _get(config, "consensus.weight")
    if not _number(consensus_weight) or consensus_weight < 0:
        _fail("consensus.weight", consensus_weight, "must be a finite number >= 0")

    unroll_steps = _int(config, "unroll.steps", 0)
    second_order = _bool(config, "unroll.second_order")
    _bool(config, "unroll.fresh_batches")
    _bool(config, "unroll.remat")

    _check_module(config, "model.g", models.GENERATORS)
    _check_module(config, "model.d", models.DISCRIMINATORS)
    _check_optimizer(config, "optim.g")
    _check_optimizer(config, "optim.d")
    d_opt = config.optim.d
    eps_root = d_opt.get("eps_root", 0.0)
    adam_like = d_opt.name in ("adam", "optimistic_adam")
    if unroll_steps > 0 and second_order and adam_like and not eps_root > 0:
        _fail(
            "optim.d.eps_root",
            eps_root,
            "must be > 0 with second-order unrolling through Adam (sqrt(v) has an infinite "
            "derivative at v = 0, which makes the gradient NaN); use e.g. 1e-8",
        )

    objective = objectives.get_objective(_choice(config, "objective", objectives.OBJECTIVES))
    for key, value in _get(config, "loss").items():
        if key not in objective.hparams:
            raise ConfigError(
                f"loss.{key} is not a parameter of objective {config.objective!r}; "
                f"it takes {sorted(objective.hparams) or 'none'}"
            )
        if not _number(value):
            _fail(f"loss.{key}", value, "must be a finite number")
    try:
        objective.validate({**objective.hparams, **dict(config.loss)})
    except ValueError as error:
        raise ConfigError(str(error)) from None
    d_output = models.DISCRIMINATOR_OUTPUTS[config.model.d.name]
    if d_output != objective.d_output:
        fitting = sorted(
            n for n, o in models.DISCRIMINATOR_OUTPUTS.items() if o == objective.d_output
        )
        _fail(
            "model.d.name",
            config.model.d.name,
            f"objective {config.objective!r} needs a D with {objective.d_output} output; "
            f"choose one of {fitting}",
        )
    penalty = _choice(config, "penalty.name", penalties.PENALTIES)
    weight = _get(config, "penalty.weight")
    if not _number(weight) or weight < 0:
        _fail("penalty.weight", weight, "must be a finite number >= 0")
    if penalty != "none" and objective.d_output != "logit":
        _fail(
            "penalty.name",
            penalty,
            f"penalties need a logit D; objective {config.objective!r} uses an energy D",
        )
    if penalty != "none" and _d_mixes_samples(config.model.d):
        _fail(
            "penalty.name",
            penalty,
            "a per-sample gradient penalty needs a D whose output for a sample depends on that "
            "sample alone; unset model.d.pack / minibatch_kernels / minibatch_stddev",
        )
    _check_samplers(config)
    pack = config.model.d.get("pack", 1)
    if batch_size % pack:
        _fail("batch_size", batch_size, f"must be divisible by model.d.pack={pack}")
    _check_g_side(config, objective)
    _check_data_and_models(config)
    return config


def _check_g_side(config, objective) -> None:
    """G's regulariser (`g_regularizer`), G's helper network (`model.encoder`) and what D
    judges (`pairing`), each alone and together."""
    name = _choice(config, "g_regularizer.name", regularizers.REGULARIZERS)
    weight = _get(config, "g_regularizer.weight")
    if not _number(weight) or weight < 0:
        _fail("g_regularizer.weight", weight, "must be a finite number >= 0")
    enc = _get(config, "model.encoder")
    has_encoder = _choice(config, "model.encoder.name", encoder.ENCODERS) != "none"
    extra = sorted(set(enc) - {"name"})
    if has_encoder:
        encoders = {n: m for n, m in encoder.ENCODERS.items() if m}
        _check_module(config, "model.encoder", encoders, derived=("latent_dim",))
    elif extra:
        raise ConfigError(
            f"model.encoder.{extra[0]} is not a field of encoder 'none'; it takes ['name']"
        )
    pairing_name = _choice(config, "pairing", pairings.PAIRINGS)
    pairing = pairings.PAIRINGS[pairing_name]
    d_name = config.model.d.name
    if name in regularizers.NEEDS_D_FEATURES and d_name not in regularizers.D_WITH_FEATURES:
        _fail(
            "g_regularizer.name",
            name,
            f"needs D's last hidden features, which model.d.name={d_name!r} does not expose; "
            f"choose one of {sorted(regularizers.D_WITH_FEATURES)}",
        )
    if (name in regularizers.NEEDS_ENCODER or pairing.needs_encoder) and not has_encoder:
        field, value = (
            ("pairing", pairing_name) if pairing.needs_encoder else ("g_regularizer.name", name)
        )
        _fail(field, value, "needs G's helper network: set model.encoder.name='mlp'")
    stochastic = enc.name in encoder.STOCHASTIC_ENCODERS
    if name in regularizers.NEEDS_STOCHASTIC_ENCODER and not stochastic:
        _fail(
            "g_regularizer.name",
            name,
            f"needs a helper network with a density (model.encoder.name one of "
            f"{sorted(encoder.STOCHASTIC_ENCODERS)}); model.encoder.name={enc.name!r} has none",
        )
    if has_encoder and not (pairing.needs_encoder or name in regularizers.NEEDS_ENCODER):
        _fail(
            "model.encoder.name",
            enc.name,
            "nothing trains this encoder: set pairing='ali' / 'veegan' or "
            "g_regularizer.name='reconstruction'",
        )
    if pairing_name == "none":
        return
    if objective.d_output != "logit":
        _fail("pairing", pairing_name, f"needs a logit D; objective {config.objective!r} has none")
    if d_name != "mlp":
        _fail("pairing", pairing_name, "D judges flat (x, z) vectors: needs model.d.name='mlp'")
    if pairing_name == "ali" and config.objective not in pairings.LABEL_SYMMETRIC_OBJECTIVES:
        _fail(
            "pairing",
            pairing_name,
            f"E's loss swaps D's labels by negating its logit, which objective "
            f"{config.objective!r} does not allow; choose one of "
            f"{sorted(pairings.LABEL_SYMMETRIC_OBJECTIVES)}",
        )
    if pairing_name == "veegan" and name not in regularizers.NEEDS_ENCODER:
        _fail(
            "g_regularizer.name",
            name,
            "VEEGAN's reconstructor learns only from the reconstruction of z: set "
            "g_regularizer.name='reconstruction' (weight 1 in Srivastava et al. 2017, Alg. 1), "
            "or 'reconstruction_nll' with model.encoder.name='gaussian_mlp'",
        )
    if config.consensus.enabled:
        _fail(
            "consensus.enabled",
            True,
            f"consensus optimisation's field takes samples, not pairing={pairing_name!r}'s pairs",
        )


def _d_has_minibatch_features(d_cfg) -> bool:
    """Whether D's last layer sees features of its whole batch (minibatch discrimination,
    minibatch stddev)."""
    return d_cfg.get("minibatch_kernels", 0) > 0 or d_cfg.get("minibatch_stddev", False)


def _d_mixes_samples(d_cfg) -> bool:
    """Whether D's output for one sample depends on other samples of its batch (PacGAN packing
    or minibatch features)."""
    return d_cfg.get("pack", 1) > 1 or _d_has_minibatch_features(d_cfg)


def sampler_unfit_reason(config) -> str | None:
    """Why the samplers over G and D (`gan_jax.step.samplers`) cannot use this run's D, or
    None: they read D's logit of each sample alone as a log density ratio, unless
    `eval.sampler_ratio` names a reading that does not read D (a classifier of their own)."""
    if not samplers.RATIOS[config.eval.get("sampler_ratio", "d")].reads_d:
        return None
    objective = objectives.get_objective(config.objective)
    if objective.d_output != "logit":
        return f"objective {config.objective!r} has an energy D, not a logit one"
    if _d_has_minibatch_features(config.model.d):
        return (
            "they need D's logit of each sample alone, and minibatch features mix the batch; "
            "unset model.d.minibatch_kernels / minibatch_stddev (a packed D is read per sample)"
        )
    pairing = config.get("pairing", "none")
    if pairing != "none":
        return f"D judges pairing={pairing!r}'s (x, z) pairs, and the samplers read D on samples"
    return None


def _check_samplers(config) -> None:
    """eval.samplers (names in `samplers.SAMPLERS`, no repeats), eval.sampler_candidates,
    eval.drs_gamma_rule, eval.drs_gamma_quantile, eval.sampler_logit_scale,
    eval.sampler_calibration, eval.samplers_from_step, eval.sampler_ratio and
    eval.ratio_classifier_steps."""
    names = _get(config, "eval.samplers")
    if not isinstance(names, tuple | list) or not all(isinstance(n, str) for n in names):
        _fail("eval.samplers", names, f"must be a tuple of names from {sorted(samplers.SAMPLERS)}")
    for name in names:
        if name not in samplers.SAMPLERS:
            valid = sorted(samplers.SAMPLERS)
            _fail("eval.samplers", names, f"{name!r} is unknown; choose from {valid}")
    if len(set(names)) < len(names):
        _fail("eval.samplers", names, "names a sampler twice")
    _int(config, "eval.sampler_candidates", 1)
    quantile = _get(config, "eval.drs_gamma_quantile")
    if isinstance(quantile, bool) or not isinstance(quantile, int | float) or not 0 < quantile < 1:
        _fail("eval.drs_gamma_quantile", quantile, "must be a number in (0, 1)")
    rule = _get(config, "eval.drs_gamma_rule")
    if rule not in samplers.DRS_GAMMA_RULES:
        _fail("eval.drs_gamma_rule", rule, f"choose one of {sorted(samplers.DRS_GAMMA_RULES)}")
    scale = _get(config, "eval.sampler_logit_scale")
    if not _number(scale) or scale <= 0:
        _fail("eval.sampler_logit_scale", scale, "must be a finite number > 0")
    calibration = _get(config, "eval.sampler_calibration")
    if calibration not in samplers.CALIBRATIONS:
        _fail(
            "eval.sampler_calibration",
            calibration,
            f"choose one of {sorted(samplers.CALIBRATIONS)}",
        )
    ratio = _get(config, "eval.sampler_ratio")
    if ratio not in samplers.RATIOS:
        _fail("eval.sampler_ratio", ratio, f"choose one of {sorted(samplers.RATIOS)}")
    _int(config, "eval.ratio_classifier_steps", 1)
    start = _int(config, "eval.samplers_from_step", 0)
    if start > config.num_steps:
        _fail(
            "eval.samplers_from_step",
            start,
            f"must be <= num_steps ({config.num_steps}): the final eval evaluates the samplers",
        )
    reason = sampler_unfit_reason(config) if names else None
    if reason is not None:
        _fail("eval.samplers", names, f"samplers need a logit D per sample: {reason}")


def _check_data_and_models(config) -> None:
    """Loads the data set (cached for the run) and traces G and D on its shape abstractly
    (`jax.eval_shape`: nothing compiles), so a missing tfds set or a model that cannot take the
    data's shape is one line here, not a stack trace later."""
    tfds_dir = config.data.get("tfds_dir")
    if tfds_dir is not None and not isinstance(tfds_dir, str):
        _fail("data.tfds_dir", tfds_dir, "must be a directory path")
    for field, minimum in (("image_size", 1), ("num_points", 1), ("points_seed", 0)):
        if config.data.get(field) is not None:
            _int(config, f"data.{field}", minimum)
    for field in ("radius", "spacing", "std"):
        value = config.data.get(field)
        if value is not None and (not _number(value) or value <= 0):
            _fail(f"data.{field}", value, "must be a finite number > 0")
    try:
        dataset = data.from_config(config.data)
    except ValueError as error:  # DatasetUnavailable included: says how to prepare the set
        raise ConfigError(" ".join(str(error).split())) from None
    _check_inception_weights(config, dataset)
    shapes_key = json.dumps(
        [config.model.to_dict(), config.data.to_dict(), config.batch_size, config.get("pairing")],
        sort_keys=True,
        default=repr,
    )
    if shapes_key in _FITTING_SHAPES:
        return
    key = jax.random.PRNGKey(0)
    try:
        generator = encoder.with_encoder(
            models.make_generator(config.model.g, dataset.shape),
            config.model.get("encoder"),
            dataset.shape,
        )
        z = jax.ShapeDtypeStruct((config.batch_size, generator.latent_dim), jnp.float32)
        g_params = jax.eval_shape(generator.init, key, z)
        fake = jax.eval_shape(functools.partial(generator.apply, train=False), g_params, z)
        if metrics.evaluator_for(dataset).images:
            data.check_image_shape(config.data.name, dataset.shape, fake.shape[1:])
        elif tuple(fake.shape[1:]) != tuple(dataset.shape):
            raise ValueError(f"G makes samples of shape {fake.shape[1:]}, not {dataset.shape}")
        discriminator = models.make_discriminator(config.model.d)
        d_input = pairings.PAIRINGS[config.get("pairing", "none")].input_shape(
            dataset.shape, generator.latent_dim
        )
        real = jax.ShapeDtypeStruct((config.batch_size, *d_input), jnp.float32)
        jax.eval_shape(discriminator.init, key, real)
    except (ValueError, TypeError) as error:
        raise ConfigError(
            f"model.g.name={config.model.g.name!r} / model.d.name={config.model.d.name!r} "
            f"cannot take data.name={config.data.name!r} (samples of shape {dataset.shape}): "
            + " ".join(str(error).split())
        ) from None
    _FITTING_SHAPES.add(shapes_key)


# The model / data / batch combinations whose shapes were traced and fit: the runs of a sweep
# share one, so a sweep of many seeds traces it once (it took ~45 ms per run).
_FITTING_SHAPES: set[str] = set()


def _check_inception_weights(config, dataset) -> None:
    """eval.inception_weights (FID and KID on FID-Inception, gan_jax/metrics/inception.py):
    None, or an existing file, for an image data set. Its contents are checked when the
    evaluator loads it."""
    weights = config.eval.get("inception_weights")
    if weights is None:
        return
    if not isinstance(weights, str) or not os.path.isfile(os.path.expanduser(weights)):
        _fail(
            "eval.inception_weights",
            weights,
            "standard FID needs pytorch-fid's FID-Inception weights file "
            "(pt_inception-2015-12-05-6726825d.pth) at this path; nothing is downloaded",
        )
    if not metrics.evaluator_for(dataset).images:
        _fail("eval.inception_weights", weights, f"data.name={config.data.name!r} has no images")
