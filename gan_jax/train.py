"""The GAN training state and the one train step every variant shares.

`train_step(state, key) -> (state, metrics)` is pure and jittable. A step is: draw a real batch
and a latent batch; G runs forward once; D takes `n_d_steps` updates on G's samples; G's loss
is taken against D (the updated D for alternating updates, the old one for simultaneous
updates) after `unroll.steps` further differentiable D updates (Metz et al. 2016, Eq. 8-10);
G takes one update. A run whose losses or parameters become NaN/Inf is frozen at its last finite
state and its `diverged_at` records the step, so it never poisons other runs on a vmapped axis.
"""

from typing import Any

import flax
import jax
import jax.numpy as jnp
import optax
from jax import lax
from jax.flatten_util import ravel_pytree

from gan_jax import game, optim
from gan_jax import metrics as metrics_lib
from gan_jax.experiment import Experiment


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


def init_state(exp: Experiment, rng: jax.Array, dynamic: dict) -> GANState:
    """Initial state of one run from its key and its dynamic numbers (`dynamic_params`)."""
    g_rng, d_rng, run_rng = jax.random.split(rng, 3)
    g_params = exp.generator.init(g_rng, jnp.zeros((1, exp.generator.latent_dim)))
    # A full batch: PacGAN's D needs at least `pack` samples to see one input.
    d_params = exp.discriminator.init(d_rng, jnp.zeros((exp.batch_size, *exp.dataset.shape)))
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
            {k: v for k, v in dynamic.items() if k not in ("g", "d")},
        ),
        diverged_at=jnp.full((), -1, jnp.int32),
    )


def _keys(rng: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(train key, eval key) of a run: the two streams never share a key."""
    train_key, eval_key = jax.random.split(rng)
    return train_key, eval_key


def make_generate(exp: Experiment):
    """Returns `generate(g_params, key, n) -> samples` with z ~ N(0, I)."""

    def generate(g_params, key, n):
        z = jax.random.normal(key, (n, exp.generator.latent_dim))
        return exp.generator.apply(g_params, z)

    return generate


def make_d_update(exp: Experiment):
    """Returns `d_update(d_params, d_opt_state, real, fake, obj_state, hparams, key,
    extra_grads=None)`: one optax step on the objective's D loss plus the weighted penalty
    (`key` draws its randomness); `extra_grads` (e.g. consensus terms) are added to the gradient.

    It returns `(d_params, d_opt_state, loss, aux, grad_norm)`. It is differentiable in `fake`,
    which is what the unrolled G loss backpropagates through.
    """
    d_loss_fn = game.make_d_loss(exp)

    def d_update(d_params, d_opt_state, real, fake, obj_state, hparams, key, extra_grads=None):
        (loss, aux), grads = jax.value_and_grad(d_loss_fn, has_aux=True)(
            d_params, real, fake, obj_state, hparams, key
        )
        if extra_grads is not None:
            grads = jax.tree.map(jnp.add, grads, extra_grads)
        updates, d_opt_state = exp.d_optimizer.update(grads, d_opt_state, d_params)
        new_params = optax.apply_updates(d_params, updates)
        return new_params, d_opt_state, loss, aux, optax.tree.norm(grads)

    return d_update


def make_unroll(exp: Experiment):
    """Returns `unroll(d_params, d_opt_state, obj_state, hparams, real, fake, g_params, key)`.

    It gives D's parameters after `exp.unroll.steps` updates with D's real optimizer rule and
    state, run as a `lax.scan` so compile time does not grow with k (Metz et al. 2016, Eq. 8:
    theta_D^{k+1} = theta_D^k + eta^k dL(theta_G, theta_D^k)/dtheta_D^k). With `second_order`
    the result stays differentiable in `fake` and `g_params`; without it both are constants.
    """
    spec, dataset = exp.unroll, exp.dataset
    d_update, generate = make_d_update(exp), make_generate(exp)

    def unroll(d_params, d_opt_state, obj_state, hparams, real, fake, g_params, key):
        if spec.steps == 0:
            return d_params
        if not spec.second_order:
            fake, g_params = lax.stop_gradient((fake, g_params))

        def body(carry, step_key):
            d_params, d_opt_state = carry
            real_key, z_key, penalty_key = jax.random.split(step_key, 3)
            if spec.fresh_batches:
                batch_real = dataset.sample(real_key, exp.batch_size)
                batch_fake = generate(g_params, z_key, exp.batch_size)
            else:
                batch_real, batch_fake = real, fake
            d_params, d_opt_state, *_ = d_update(
                d_params, d_opt_state, batch_real, batch_fake, obj_state, hparams, penalty_key
            )
            return (d_params, d_opt_state), None

        if spec.remat:
            body = jax.checkpoint(body)
        (d_params, _), _ = lax.scan(
            body, (d_params, d_opt_state), jax.random.split(key, spec.steps)
        )
        return d_params

    return unroll


def make_train_step(exp: Experiment):
    """Returns the pure step `train_step(state, key) -> (state, metrics)`."""
    D, objective, dataset = exp.discriminator, exp.objective, exp.dataset
    d_update, generate, unroll = make_d_update(exp), make_generate(exp), make_unroll(exp)
    consensus_grads = game.make_consensus_grads(exp) if exp.consensus else game.no_consensus_grads
    batch = exp.batch_size

    def d_phase(state, real, fake, g_params, key, d_extra):
        """`n_d_steps` D updates: the first on (real, fake) plus `d_extra` in its gradient,
        later ones on fresh batches."""

        def one_update(carry, batch_real, batch_fake, penalty_key, extra=None):
            d_params, d_opt_state, obj_state = carry
            d_params, d_opt_state, loss, aux, grad_norm = d_update(
                d_params,
                d_opt_state,
                batch_real,
                batch_fake,
                obj_state,
                state.hparams,
                penalty_key,
                extra,
            )
            obj_state = objective.update_state(obj_state, aux, state.hparams["loss"])
            return (d_params, d_opt_state, obj_state), {
                "d/loss": loss,
                "d/grad_norm": grad_norm,
                **aux,
            }

        first_key, key = jax.random.split(key)
        carry, first = one_update(
            (state.d_params, state.d_opt_state, state.objective_state),
            real,
            fake,
            first_key,
            d_extra,
        )
        if exp.n_d_steps == 1:
            return carry, first

        def body(carry, step_key):
            real_key, z_key, penalty_key = jax.random.split(step_key, 3)
            real, fake = dataset.sample(real_key, batch), generate(g_params, z_key, batch)
            return one_update(carry, real, fake, penalty_key)

        carry, rest = lax.scan(body, carry, jax.random.split(key, exp.n_d_steps - 1))
        mean_metrics = jax.tree.map(lambda a, b: (a + b.sum()) / exp.n_d_steps, first, rest)
        return carry, mean_metrics

    def train_step(state: GANState, key: jax.Array):
        real_key, z_key, d_key, unroll_key = jax.random.split(key, 4)
        real = dataset.sample(real_key, batch)
        z = jax.random.normal(z_key, (batch, exp.generator.latent_dim))
        g_extra, d_extra = consensus_grads(state, real, z, d_key)

        def g_objective(g_params):
            # G runs forward once; D trains on the same samples with the gradient stopped, so the
            # D phase costs nothing in G's backward pass.
            fake = exp.generator.apply(g_params, z)
            d_carry, d_metrics = d_phase(
                state, real, lax.stop_gradient(fake), lax.stop_gradient(g_params), d_key, d_extra
            )
            if exp.update_order == "alternating":
                d_params, d_opt_state, obj_state = d_carry
            else:
                d_params, d_opt_state, obj_state = (
                    state.d_params,
                    state.d_opt_state,
                    state.objective_state,
                )
            d_params = unroll(
                d_params, d_opt_state, obj_state, state.hparams, real, fake, g_params, unroll_key
            )
            loss, g_aux = objective.g_loss(
                D.apply(d_params, fake), obj_state, state.hparams["loss"]
            )
            return loss, (d_carry, {**d_metrics, **g_aux})

        (g_loss, (d_carry, step_metrics)), g_grads = jax.value_and_grad(g_objective, has_aux=True)(
            state.g_params
        )
        g_grads = jax.tree.map(jnp.add, g_grads, g_extra)
        g_updates, g_opt_state = exp.g_optimizer.update(g_grads, state.g_opt_state, state.g_params)
        d_params, d_opt_state, obj_state = d_carry
        new_state = state.replace(
            step=state.step + 1,
            g_params=optax.apply_updates(state.g_params, g_updates),
            d_params=d_params,
            g_opt_state=g_opt_state,
            d_opt_state=d_opt_state,
            objective_state=obj_state,
        )
        step_metrics = {**step_metrics, "g/loss": g_loss, "g/grad_norm": optax.tree.norm(g_grads)}
        step_metrics["g_over_d_grad_norm"] = step_metrics["g/grad_norm"] / (
            step_metrics["d/grad_norm"] + 1e-12
        )
        # The norm of the joint gradient field (Mescheder et al. 2017): 0 at a stationary point.
        step_metrics["game/grad_norm"] = jnp.sqrt(
            step_metrics["g/grad_norm"] ** 2 + step_metrics["d/grad_norm"] ** 2
        )
        return freeze_if_diverged(state, new_state, step_metrics), step_metrics

    return train_step


def freeze_if_diverged(old: GANState, new: GANState, step_metrics: dict) -> GANState:
    """Keeps `old`'s parameters if `new` has a NaN/Inf (or the run diverged before).

    The step counter always advances, so vmapped runs stay on one clock.
    """
    finite = jnp.all(
        jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves((new, step_metrics))])
    )
    keep_new = finite & (old.diverged_at < 0)
    frozen = jax.tree.map(lambda n, o: jnp.where(keep_new, n, o), new, old)
    diverged_at = jnp.where((old.diverged_at < 0) & ~finite, old.step, old.diverged_at)
    return frozen.replace(step=new.step, diverged_at=diverged_at)


def make_train_step_with_extrapolation(exp: Experiment):
    """The train step under the config's extrapolation rule (`game.EXTRAPOLATIONS`)."""
    return game.EXTRAPOLATIONS[exp.extrapolation](make_train_step(exp))


def _flat_params(state: GANState):
    return {"g": ravel_pytree(state.g_params)[0], "d": ravel_pytree(state.d_params)[0]}


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


def make_evaluate(exp: Experiment):
    """Returns `evaluate(state) -> (metrics, samples)` on `exp.eval_samples` samples.

    The latent batch comes from the run's eval key, the same at every eval, so successive evals
    show how one fixed set of z moves.
    """
    generate = make_generate(exp)
    metric_fn = metrics_lib.for_dataset(exp.dataset, exp.eval_samples)

    def evaluate(state: GANState):
        _, eval_key = _keys(state.rng)
        samples = generate(state.g_params, eval_key, exp.eval_samples)
        return metric_fn(samples), samples

    return evaluate
