"""The GAN training state and the one train step every variant shares.

`train_step(state, key) -> (state, metrics)` is pure and jittable. A step is: draw a real batch
and a latent batch; G runs forward once; D takes `n_d_steps` updates on G's samples; G's loss
is taken against D (the updated D for alternating updates, the old one for simultaneous
updates) after `unroll.steps` further differentiable D updates (Metz et al. 2016, Eq. 8-10);
G takes one update. A run whose losses or parameters become NaN/Inf is frozen at its last finite
state and its `diverged_at` records the step, so it never poisons other runs on a vmapped axis.
"""

import functools
from typing import Any, NamedTuple

import flax
import jax
import jax.numpy as jnp
import optax
from jax import lax
from jax.flatten_util import ravel_pytree

from gan_jax import metrics as metrics_lib
from gan_jax.parts import optim
from gan_jax.parts.models.encoder import code_log_prob_fn, encode_fn, sample_code_fn
from gan_jax.parts.models.mlp import apply_generator
from gan_jax.parts.regularizers import RegularizerInputs
from gan_jax.step import game, samplers
from gan_jax.step.experiment import Experiment, dynamic_params, make_experiment


@flax.struct.dataclass
class GANState:
    """Everything a run carries from step to step; a pytree, so it jits, vmaps and checkpoints."""

    step: jax.Array  # int32 scalar: steps taken
    rng: jax.Array  # this run's key; step t uses fold_in(train key, t), so chunking is invisible
    g_params: Any
    d_params: Any
    g_opt_state: Any  # optax state, hyperparameters (learning rate, ...) injected
    d_opt_state: Any
    objective_state: Any  # e.g. BEGAN's k_t; () for stateless objectives
    hparams: dict  # {"loss": config.loss scalars, "penalty_weight", maybe "consensus_weight"}
    diverged_at: jax.Array  # int32 scalar: -1 while finite, else the step that went non-finite
    # optax.ema's state over g_params (its decay injected, so it vmaps), or None without EMA.
    # Last, with a default: checkpoints made before EMA existed restore unchanged.
    g_ema: Any = None


def init_state(exp: Experiment, rng: jax.Array, dynamic: dict) -> GANState:
    """Initial state of one run from its key and its dynamic numbers (`dynamic_params`)."""
    g_rng, d_rng, run_rng = jax.random.split(rng, 3)
    g_params = exp.generator.init(g_rng, jnp.zeros((1, exp.generator.latent_dim)))
    # A full batch: PacGAN's D needs at least `pack` samples to see one input. D's input is
    # the pairing's: the samples, or (x, z) pairs for ALI / VEEGAN.
    d_input = exp.pairing.input_shape(exp.dataset.shape, exp.generator.latent_dim)
    d_params = exp.discriminator.init(d_rng, jnp.zeros((exp.batch_size, *d_input)))
    return GANState(
        step=jnp.zeros((), jnp.int32),
        rng=run_rng,
        g_params=g_params,
        d_params=d_params,
        g_opt_state=optim.with_hparams(exp.g_optimizer.init(g_params), dynamic["g"]),
        d_opt_state=optim.with_hparams(exp.d_optimizer.init(d_params), dynamic["d"]),
        objective_state=exp.objective.init_state(),
        hparams=jax.tree.map(
            lambda v: jnp.asarray(v, jnp.float32),
            {k: v for k, v in dynamic.items() if k not in ("g", "d", "ema_decay")},
        ),
        diverged_at=jnp.full((), -1, jnp.int32),
        g_ema=(
            optim.with_hparams(EMA.init(g_params), {"decay": dynamic["ema_decay"]})
            if exp.ema
            else None
        ),
    )


# The exponential moving average of G's weights (Yazici et al. 2019, "The Unusual Effectiveness
# of Averaging in GAN Training", Eq. 2; Karras et al. 2018): optax.ema with its bias correction,
# so after t steps it is sum_s decay^(t-s) theta_s normalised by (1 - decay) / (1 - decay^t).
EMA = optax.inject_hyperparams(optax.ema, static_args=("debias",))(decay=0.999, debias=True)


def update_ema(state: GANState) -> GANState:
    """Folds the state's current G weights into its EMA (no-op without EMA)."""
    if state.g_ema is None:
        return state
    _, g_ema = EMA.update(state.g_params, state.g_ema)
    return state.replace(g_ema=g_ema)


def ema_params(state: GANState):
    """The EMA of G's weights (bias-corrected); the raw weights before the first step."""
    inner = state.g_ema.inner_state
    decay = state.g_ema.hyperparams["decay"]
    corrected = optax.tree.bias_correction(inner.ema, decay, jnp.maximum(inner.count, 1))
    return jax.tree.map(lambda e, p: jnp.where(inner.count > 0, e, p), corrected, state.g_params)


def init_run(config) -> tuple[Experiment, GANState]:
    """The one builder from a validated config to its `Experiment` and the initial state of its
    run (key `PRNGKey(config.seed)`); a sweep's group state is `run.init_group_state`."""
    exp = make_experiment(config)
    return exp, init_state(exp, jax.random.PRNGKey(config.seed), dynamic_params(config))


def _keys(rng: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(train key, eval key) of a run: the two streams never share a key."""
    train_key, eval_key = jax.random.split(rng)
    return train_key, eval_key


def make_generate(exp: Experiment):
    """Returns `generate(g_params, key, n, train=False) -> samples` with z ~ N(0, I): G in
    inference mode (BatchNorm's running averages), or with `train` as it trains (the batch's own
    statistics; the updated averages are dropped)."""

    def generate(g_params, key, n, train=False):
        z = jax.random.normal(key, (n, exp.generator.latent_dim))
        return apply_generator(exp.generator, g_params, z, train=train)[0]

    return generate


class DState(NamedTuple):
    """D's side of the game: what one D update reads and writes."""

    params: Any
    opt_state: Any  # optax state, hyperparameters injected
    objective_state: Any  # e.g. BEGAN's k_t


class Batch(NamedTuple):
    """One D update's data: D's inputs built from a real and a generated batch (the samples,
    (batch, *data shape) each, or the pairing's (x, z) pairs)."""

    real: jax.Array
    fake: jax.Array


def d_inputs(exp: Experiment, g_params, real, z, fake, code_key) -> Batch:
    """D's inputs from a real batch and G's batch fake = G(z), as the pairing builds them; a
    stochastic encoder draws the real batch's codes from `code_key`."""
    encode = sample_code_fn(exp.generator, g_params, code_key)
    return Batch(exp.pairing.real(encode, real), exp.pairing.fake(encode, z, fake))


def make_draw_batch(exp: Experiment):
    """Returns `draw(g_params, real_key, z_key) -> Batch`: a fresh batch of D's inputs, real
    data and G's samples as it trains (batch statistics of this batch, not kept)."""

    def draw(g_params, real_key, z_key):
        z = jax.random.normal(z_key, (exp.batch_size, exp.generator.latent_dim))
        fake = apply_generator(exp.generator, g_params, z, train=True)[0]
        real = exp.dataset.sample(real_key, exp.batch_size)
        return d_inputs(exp, g_params, real, z, fake, jax.random.fold_in(z_key, 1))

    return draw


def d_state(state: GANState) -> DState:
    return DState(state.d_params, state.d_opt_state, state.objective_state)


def with_d(state: GANState, d: DState) -> GANState:
    return state.replace(
        d_params=d.params, d_opt_state=d.opt_state, objective_state=d.objective_state
    )


def make_d_update(exp: Experiment):
    """Returns `d_update(d, batch, key, hparams, extra_grads=None) -> (d, metrics)`.

    One optax step on the objective's D loss plus the weighted penalty (`key` draws the
    penalty's randomness), then the objective's state update (BEGAN's k_t). `extra_grads` (the
    consensus terms) are added to D's gradient. Differentiable in `batch.fake`, which is what the
    unrolled G loss backpropagates through.

    Args:
      d: `DState`.
      batch: `Batch` of real and generated samples, (batch, *data shape) each.
      key: the penalty's PRNG key.
      hparams: the run's dynamic numbers (`GANState.hparams`).
      extra_grads: a pytree like `d.params` added to the gradient, or None.

    Returns:
      The updated `DState` and {"d/loss", "d/grad_norm", the objective's aux}, scalars.
    """
    d_loss_fn = game.make_d_loss(exp)

    def d_update(d: DState, batch: Batch, key, hparams, extra_grads=None):
        (loss, aux), grads = jax.value_and_grad(d_loss_fn, has_aux=True)(
            d.params, batch.real, batch.fake, d.objective_state, hparams, key
        )
        if extra_grads is not None:
            grads = jax.tree.map(jnp.add, grads, extra_grads)
        updates, opt_state = exp.d_optimizer.update(grads, d.opt_state, d.params)
        new = DState(
            params=optax.apply_updates(d.params, updates),
            opt_state=opt_state,
            objective_state=exp.objective.update_state(d.objective_state, aux, hparams["loss"]),
        )
        return new, {"d/loss": loss, "d/grad_norm": optax.tree.norm(grads), **aux}

    return d_update


def make_d_phase(exp: Experiment):
    """Returns `d_phase(d, batch, g_params, key, hparams, extra_grads) -> (d, metrics)`: D's
    `n_d_steps` real updates, the first on `batch` with `extra_grads`, later ones on fresh
    batches drawn from the data and from G (`g_params`). Metrics are means over the updates."""
    d_update, draw = make_d_update(exp), make_draw_batch(exp)

    def d_phase(d, batch, g_params, key, hparams, extra_grads):
        first_key, key = jax.random.split(key)
        d, first = d_update(d, batch, first_key, hparams, extra_grads)
        if exp.n_d_steps == 1:
            return d, first

        def body(d, step_key):
            real_key, z_key, penalty_key = jax.random.split(step_key, 3)
            return d_update(d, draw(g_params, real_key, z_key), penalty_key, hparams)

        d, rest = lax.scan(body, d, jax.random.split(key, exp.n_d_steps - 1))
        return d, jax.tree.map(lambda a, b: (a + b.sum()) / exp.n_d_steps, first, rest)

    return d_phase


def make_unroll(exp: Experiment):
    """Returns `unroll(d, batch, g_params, key, hparams) -> d`: D after `exp.unroll.steps`
    further updates with D's real optimizer rule and state (Metz et al. 2016, Eq. 8:
    theta_D^{k+1} = theta_D^k + eta^k dL(theta_G, theta_D^k)/dtheta_D^k), as one `lax.scan`
    so compile time does not grow with k.

    With `second_order` the result stays differentiable in `batch.fake` and `g_params`
    (Eq. 10); without it both are constants. `fresh_batches` draws each update's batch anew
    (real and from G) instead of reusing `batch`. The objective's state (BEGAN's k_t) stays at
    its value in `d`: only the real D updates move it.
    """
    spec = exp.unroll
    d_update, draw = make_d_update(exp), make_draw_batch(exp)

    def unroll(d: DState, batch: Batch, g_params, key, hparams) -> DState:
        if spec.steps == 0:
            return d
        if not spec.second_order:
            batch, g_params = lax.stop_gradient((batch, g_params))

        def body(d, step_key):
            real_key, z_key, penalty_key = jax.random.split(step_key, 3)
            if spec.fresh_batches:
                step_batch = draw(g_params, real_key, z_key)
            else:
                step_batch = batch
            new, _ = d_update(d, step_batch, penalty_key, hparams)
            return new._replace(objective_state=d.objective_state), None

        if spec.remat:
            body = jax.checkpoint(body)
        d, _ = lax.scan(body, d, jax.random.split(key, spec.steps))
        return d

    return unroll


def _balance_metrics(metrics: dict) -> dict:
    """G-vs-D gradient balance and the norm of the joint gradient field (Mescheder et al.
    2017): 0 at a stationary point."""
    g, d = metrics["g/grad_norm"], metrics["d/grad_norm"]
    return {"g_over_d_grad_norm": g / (d + 1e-12), "game/grad_norm": jnp.sqrt(g**2 + d**2)}


def make_train_step(exp: Experiment):
    """Returns the pure step `train_step(state, key) -> (state, metrics)` (module docstring).

    G runs forward once: D's phase trains on the same samples with the gradient stopped, so it
    costs nothing in G's backward pass. G's loss is taken against the D that the update order
    chooses (`game.UPDATE_ORDERS`), unrolled (`make_unroll`); only D's real updates are kept.
    """
    d_phase, unroll = make_d_phase(exp), make_unroll(exp)
    consensus_grads = game.make_consensus_grads(exp) if exp.consensus else game.no_consensus_grads
    opponent_of_g = game.UPDATE_ORDERS[exp.update_order]

    def train_step(state: GANState, key: jax.Array):
        real_key, z_key, d_key, unroll_key = jax.random.split(key, 4)
        real = exp.dataset.sample(real_key, exp.batch_size)
        z = jax.random.normal(z_key, (exp.batch_size, exp.generator.latent_dim))
        g_extra, d_extra = consensus_grads(state, real, z, d_key)
        hparams, d_before = state.hparams, d_state(state)

        def g_objective(g_params):
            fake, g_stats = apply_generator(exp.generator, g_params, z, train=True)
            # what D judges (`exp.pairing`)
            batch = d_inputs(exp, g_params, real, z, fake, jax.random.fold_in(key, 2))
            d_after, d_metrics = d_phase(
                d_before,
                lax.stop_gradient(batch),
                lax.stop_gradient(g_params),
                d_key,
                hparams,
                d_extra,
            )
            opponent = unroll(
                opponent_of_g(d_before, d_after), batch, g_params, unroll_key, hparams
            )
            discriminate = functools.partial(exp.discriminator.apply, opponent.params)
            loss, g_aux = exp.pairing.g_loss(
                exp.objective,
                discriminate,
                batch.real,
                batch.fake,
                opponent.objective_state,
                hparams["loss"],
            )
            # G's regulariser (`exp.g_regularizer`, regularizers.py), weighted by its dynamic
            # weight; none: an exact 0 (the weight is only in `hparams` with a regulariser).
            regularizer, regularizer_aux = exp.g_regularizer(
                RegularizerInputs(
                    z=z,
                    fake=fake,
                    real=real,
                    d_real=batch.real,
                    d_fake=batch.fake,
                    d_features=functools.partial(discriminate, features=True),
                    encode=encode_fn(exp.generator, g_params),
                    code_log_prob=code_log_prob_fn(exp.generator, g_params),
                ),
                jax.random.fold_in(key, 1),
            )
            loss = loss + hparams.get("g_regularizer_weight", 0.0) * regularizer
            return loss, (d_after, g_stats, {**d_metrics, **g_aux, **regularizer_aux})

        (g_loss, (d_after, g_stats, metrics)), g_grads = jax.value_and_grad(
            g_objective, has_aux=True
        )(state.g_params)
        g_grads = jax.tree.map(jnp.add, g_grads, g_extra)
        g_updates, g_opt_state = exp.g_optimizer.update(g_grads, state.g_opt_state, state.g_params)
        # BatchNorm's running averages (if G has them) come from this step's forward pass.
        g_params = {**optax.apply_updates(state.g_params, g_updates), **g_stats}
        new_state = with_d(
            state.replace(step=state.step + 1, g_params=g_params, g_opt_state=g_opt_state), d_after
        )
        metrics = {**metrics, "g/loss": g_loss, "g/grad_norm": optax.tree.norm(g_grads)}
        metrics.update(_balance_metrics(metrics))
        return freeze_if_diverged(state, new_state, metrics), metrics

    return train_step


def freeze_if_diverged(old: GANState, new: GANState, step_metrics: dict) -> GANState:
    """Keeps `old`'s parameters if `new` has a NaN/Inf (or the run diverged before).

    The step counter always advances, so vmapped runs stay on one clock.
    """
    finite = jnp.all(
        jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves((new, step_metrics))])
    )
    keep_new = finite & (old.diverged_at < 0)
    # One branch for the whole state, not a select per leaf: the selects were half of a small
    # model's train-chunk compile time (2.4 s -> 1.4 s) and a full pass over the state each
    # step. Under vmap, jax turns a batched predicate back into selects, so the vmapped
    # program is unchanged.
    frozen = lax.cond(keep_new, lambda: new, lambda: old)
    diverged_at = jnp.where((old.diverged_at < 0) & ~finite, old.step, old.diverged_at)
    return frozen.replace(step=new.step, diverged_at=diverged_at)


def make_train_step_with_extrapolation(exp: Experiment):
    """The train step under the config's extrapolation rule (`game.EXTRAPOLATIONS`)."""
    return game.EXTRAPOLATIONS[exp.extrapolation](make_train_step(exp))


def _flat_params(state: GANState):
    """Each player's trainable parameters as one vector (BatchNorm statistics left out)."""
    return {
        "g": ravel_pytree(state.g_params["params"])[0],
        "d": ravel_pytree(state.d_params["params"])[0],
    }


def make_train_chunk(exp: Experiment, length: int):
    """Returns `train_chunk(state, dataset=None) -> (state, metrics)`: `length` steps in one
    `lax.scan`, on `dataset` (a data set pytree; None: `exp.dataset`, closed over).

    Metrics come back stacked, shape (length,) each. Step t always uses the key
    fold_in(train key, t), so any split of a run into chunks gives the same numbers.

    Rotation (`g/update_cosine`, `d/update_cosine`): the cosine between each player's successive
    parameter updates inside the chunk. The chunk's first step has no predecessor; it reports
    the mean over the rest, so a mean over the chunk is the mean over its length - 1 pairs.
    """

    def train_chunk(state: GANState, dataset=None):
        # The data set may come in as an argument (a pytree): jax embeds arrays a jitted
        # function closes over as constants in the program, which for MNIST-sized sets costs
        # seconds of compile time and for CelebA exceeds the program size limit.
        step_exp = exp if dataset is None else exp._replace(dataset=dataset)
        train_step = make_train_step_with_extrapolation(step_exp)

        def body(carry, _):
            state, previous_update = carry
            train_key, _ = _keys(state.rng)
            new_state, step_metrics = train_step(state, jax.random.fold_in(train_key, state.step))
            new_state = update_ema(new_state)
            before, after = _flat_params(state), _flat_params(new_state)
            update = {p: after[p] - before[p] for p in after}
            for p in update:
                step_metrics[f"{p}/update_cosine"] = game.update_cosine(
                    update[p], previous_update[p]
                )
            return (new_state, update), step_metrics

        zeros = jax.tree.map(jnp.zeros_like, _flat_params(state))
        (state, _), chunk_metrics = lax.scan(body, (state, zeros), None, length=length)
        for p in ("g", "d"):
            cosines = chunk_metrics[f"{p}/update_cosine"]
            first = jnp.mean(cosines[1:]) if length > 1 else jnp.full((), jnp.nan)
            chunk_metrics[f"{p}/update_cosine"] = cosines.at[0].set(first)
        return state, chunk_metrics

    return train_chunk


def make_evaluate(exp: Experiment, with_samplers: bool = True):
    """Returns `evaluate(state) -> (metrics, samples)` on `exp.eval_samples` samples (and, with
    EMA, the EMA G's metrics under an "ema/" prefix; unless `with_samplers` is False, for each of
    `exp.samplers`, its samples' metrics and diagnostics, e.g. "drs/acceptance_rate", under
    "<sampler>/"; the host loop leaves them out before `eval.samplers_from_step`).

    The latent batch comes from the run's eval key, the same at every eval, so successive evals
    show how one fixed set of z moves; the samplers draw from one key folded from it.
    """
    generate = make_generate(exp)
    metric_fn = metrics_lib.for_dataset(exp.dataset, exp.eval_samples, exp.inception_weights)
    chosen = {name: samplers.SAMPLERS[name] for name in exp.samplers} if with_samplers else {}

    def evaluate(state: GANState):
        _, eval_key = _keys(state.rng)
        samples = generate(state.g_params, eval_key, exp.eval_samples)
        metrics = metric_fn(samples)
        if state.g_ema is not None:  # the EMA G on the same z, its metrics under "ema/"
            ema_samples = generate(ema_params(state), eval_key, exp.eval_samples)
            metrics.update({f"ema/{k}": v for k, v in metric_fn(ema_samples).items()})
        if not chosen:  # no ratio to read: a classifier reading would fit for nothing
            return metrics, samples
        model = samplers.model_of(
            exp, state.g_params, state.d_params, partners_key=jax.random.fold_in(eval_key, 2)
        )
        for name, sampler in chosen.items():
            drawn, diagnostics = sampler(
                model, jax.random.fold_in(eval_key, 1), exp.eval_samples, exp.sampler_options
            )
            # The factor on D's logit the sampler read (the fixed scale times a fitted one), and
            # what the ratio's reading reported (a fitted classifier's loss).
            drawn_metrics = {
                **metric_fn(drawn),
                **diagnostics,
                **(model.ratio_diagnostics or {}),
                "logit_scale": model.logit_scale,
            }
            metrics.update({f"{name}/{k}": v for k, v in drawn_metrics.items()})
        return metrics, samples

    return evaluate
