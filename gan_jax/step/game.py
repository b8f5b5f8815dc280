"""The GAN as a two-player game: its joint gradient field, the field's Jacobian and spectrum,
and the fixes that act on the field (consensus optimisation, extragradient steps).

The field at parameters w = (theta_G, theta_D) is v(w) = (dL_G/dtheta_G, dL_D/dtheta_D), both
losses taken at the same point with one fixed batch (simultaneous gradients, no unrolling). Plain
gradient descent follows -v. Its Jacobian J = dv/dw at an equilibrium decides local behaviour
(Mescheder et al. 2017, "The Numerics of GANs", Sec. 3): eigenvalues with large imaginary parts
relative to their real parts make the parameters circle instead of converge.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax
from jax.flatten_util import ravel_pytree

from gan_jax.parts.models.mlp import apply_generator
from gan_jax.step.experiment import Experiment


def make_d_loss(exp: Experiment) -> Callable:
    """`d_loss(d_params, real, fake, obj_state, hparams, key) -> (loss, aux)`: the objective's
    D loss plus the weighted penalty (`key` draws the penalty's randomness)."""
    D, objective = exp.discriminator, exp.objective

    def d_loss(d_params, real, fake, obj_state, hparams, key):
        loss, aux = objective.d_loss(
            D.apply(d_params, real), D.apply(d_params, fake), obj_state, hparams["loss"]
        )
        penalty = exp.penalty(lambda x: D.apply(d_params, x), real, fake, key)
        aux = {**aux, "d/penalty": penalty}
        return loss + hparams["penalty_weight"] * penalty, aux

    return d_loss


def make_game_field(exp: Experiment) -> Callable:
    """Returns `field(g_params, d_params, real, z, obj_state, hparams, key) -> (v_G, v_D)`,
    the gradients of each player's loss with respect to its own parameters at one point.

    v_D depends on g_params through G's samples, which is what couples the two players in J.
    """
    G, D, objective = exp.generator, exp.discriminator, exp.objective
    d_loss = make_d_loss(exp)

    def samples(g_params, z):  # G as it trains (batch statistics of this batch, not kept)
        return apply_generator(G, g_params, z, train=True)[0]

    def g_loss(g_params, d_params, z, obj_state, hparams):
        fake = samples(g_params, z)
        loss, _ = objective.g_loss(D.apply(d_params, fake), obj_state, hparams["loss"])
        return loss

    def field(g_params, d_params, real, z, obj_state, hparams, key):
        v_g = jax.grad(g_loss)(g_params, d_params, z, obj_state, hparams)
        fake = samples(g_params, z)
        v_d, _ = jax.grad(d_loss, has_aux=True)(d_params, real, fake, obj_state, hparams, key)
        return v_g, v_d

    return field


def make_consensus_grads(exp: Experiment) -> Callable:
    """Consensus optimisation (Mescheder et al. 2017, "The Numerics of GANs", Eq. 9-10): each
    player descends v + gamma * grad(L) with L(w) = ||v(w)||^2 / 2, which adds gamma * J^T J to
    the Jacobian and so damps its rotation.

    Returns `consensus_grads(state, real, z, key) -> (extra_G, extra_D)`: gamma * dL/dtheta of
    each player at the step's starting point, gamma = `state.hparams["consensus_weight"]`. The
    step adds them to the players' first gradients.
    """
    field = make_game_field(exp)

    def consensus_grads(state, real, z, key):
        def half_squared_norm(g_params, d_params):
            v = field(g_params, d_params, real, z, state.objective_state, state.hparams, key)
            return 0.5 * optax.tree.norm(v, squared=True)

        grads = jax.grad(half_squared_norm, argnums=(0, 1))(state.g_params, state.d_params)
        return jax.tree.map(lambda g: state.hparams["consensus_weight"] * g, grads)

    return consensus_grads


def no_consensus_grads(state, real, z, key):
    """Zeros (XLA folds the additions away): plain gradients."""
    del real, z, key
    return jax.tree.map(jnp.zeros_like, (state.g_params, state.d_params))


def extragradient(train_step: Callable) -> Callable:
    """Extragradient (Korpelevich 1976; for GANs Gidel et al. 2019, "A Variational Inequality
    Perspective on GANs", Alg. 2-3): look ahead w' = w - eta v(w), then step from w with the
    field at w': w+ = w - eta v(w').

    It wraps any step rule, optimizer included: the update the rule takes at the look-ahead
    point is applied to the starting parameters. Both half-steps use the same batch (the
    same-sample variant, Mishchenko et al. 2020); the optimizer and objective states advance
    twice, as in Gidel et al.'s Extra-Adam. A step costs two steps.
    """

    def step(state, key):
        lookahead, _ = train_step(state, key)
        final, step_metrics = train_step(lookahead, key)
        move = lambda start, before, after: jax.tree.map(
            lambda s, b, a: s + (a - b), start, before, after
        )
        new_state = final.replace(
            step=state.step + 1,
            g_params=move(state.g_params, lookahead.g_params, final.g_params),
            d_params=move(state.d_params, lookahead.d_params, final.d_params),
        )
        return new_state, step_metrics

    return step


EXTRAPOLATIONS = {"none": lambda train_step: train_step, "extragradient": extragradient}


def simultaneous(d_before, d_after):
    """G's loss is taken against D as it was at the start of the step (both players move from
    one point; Mescheder et al. 2017, Sec. 2)."""
    del d_after
    return d_before


def alternating(d_before, d_after):
    """G's loss is taken against D after its updates (Goodfellow et al. 2014, Alg. 1)."""
    del d_before
    return d_after


# Which D G plays against in a step: `update_order` names one of these.
UPDATE_ORDERS = {"simultaneous": simultaneous, "alternating": alternating}


def update_cosine(update: jax.Array, previous: jax.Array) -> jax.Array:
    """cos(update, previous update): near -1 when a player's parameters swing back and forth,
    near 0 when they turn by ~90 degrees a step (rotation), near 1 when they move steadily."""
    norms = jnp.linalg.norm(update) * jnp.linalg.norm(previous)
    return jnp.vdot(update, previous) / jnp.maximum(norms, 1e-30)


# -- the Jacobian and its spectrum ----------------------------------------------------------


def make_flat_field(exp: Experiment, state, key: jax.Array):
    """The joint field as a function of one flat vector w = (theta_G, theta_D), at a fixed batch
    drawn from `key`; returns `(flat_field, w0)` with w0 the state's parameters.

    `state` is one run's `GANState` (not a stacked sweep state).
    """
    real_key, z_key, penalty_key = jax.random.split(key, 3)
    real = exp.dataset.sample(real_key, exp.batch_size)
    z = jax.random.normal(z_key, (exp.batch_size, exp.generator.latent_dim))
    w0, unravel = ravel_pytree((state.g_params, state.d_params))
    field = make_game_field(exp)

    def flat_field(w):
        g_params, d_params = unravel(w)
        v = field(g_params, d_params, real, z, state.objective_state, state.hparams, penalty_key)
        return ravel_pytree(v)[0]

    return flat_field, w0


def game_jacobian(exp: Experiment, state, key: jax.Array) -> jax.Array:
    """The dense Jacobian dv/dw (size = parameter count squared) by `jax.jacfwd`: small games
    only; `game_spectrum` needs no matrix."""
    flat_field, w0 = make_flat_field(exp, state, key)
    return jax.jit(jax.jacfwd(flat_field))(w0)


def arnoldi(matvec: Callable, start: jax.Array, num_iters: int):
    """Arnoldi iteration (Saad, "Numerical Methods for Large Eigenvalue Problems", Alg. 6.1)
    with one re-orthogonalisation pass, in `lax.fori_loop`.

    Returns `(basis, hessenberg)`: `basis` (num_iters + 1, n) orthonormal rows spanning the
    Krylov space of `matvec` from `start`, `hessenberg` (num_iters + 1, num_iters) with
    A basis[:m].T = basis.T hessenberg. The eigenvalues of hessenberg[:m] (Ritz values)
    approximate A's extreme eigenvalues, and equal them when m = n.
    """
    n = start.shape[0]
    basis = jnp.zeros((num_iters + 1, n), start.dtype).at[0].set(start / jnp.linalg.norm(start))
    hessenberg = jnp.zeros((num_iters + 1, num_iters), start.dtype)

    def body(j, carry):
        basis, hessenberg = carry
        w = matvec(basis[j])
        coeffs = basis @ w  # rows > j are still zero, so this projects on the first j + 1
        w = w - basis.T @ coeffs
        again = basis @ w  # classical Gram-Schmidt twice is as stable as modified
        w = w - basis.T @ again
        coeffs = coeffs + again
        norm = jnp.linalg.norm(w)
        hessenberg = hessenberg.at[:, j].set(coeffs).at[j + 1, j].set(norm)
        # On breakdown (an invariant subspace found) the next vector stays 0.
        basis = basis.at[j + 1].set(jnp.where(norm > 1e-12, w / jnp.maximum(norm, 1e-30), 0.0))
        return basis, hessenberg

    return lax.fori_loop(0, num_iters, body, (basis, hessenberg))


def ritz_values(hessenberg) -> np.ndarray:
    """Eigenvalues of the square part of an Arnoldi Hessenberg matrix (on the host: small)."""
    h = np.asarray(hessenberg, np.float64)
    return np.linalg.eigvals(h[: h.shape[1], :])


def game_spectrum(exp: Experiment, state, key: jax.Array, num_iters: int = 20, top: int = 4):
    """Eigenvalues of the game Jacobian with the largest imaginary parts, by Arnoldi over
    Jacobian-vector products (`jax.jvp`: the matrix is never formed), and the rotation measure
    max |imag| / |real| over them.

    Returns `(eigenvalues (top,), rotation)`; `num_iters` is capped at the parameter count.
    """
    flat_field, w0 = make_flat_field(exp, state, key)
    num_iters = min(num_iters, w0.shape[0])
    matvec = lambda u: jax.jvp(flat_field, (w0,), (u,))[1]
    start = jax.random.normal(jax.random.fold_in(key, 1), w0.shape, w0.dtype)
    _, hessenberg = jax.jit(arnoldi, static_argnums=(0, 2))(matvec, start, num_iters)
    eigenvalues = ritz_values(hessenberg)
    order = np.argsort(-np.abs(eigenvalues.imag), kind="stable")
    chosen = eigenvalues[order[:top]]
    rotation = float(np.max(np.abs(chosen.imag) / np.maximum(np.abs(chosen.real), 1e-12)))
    return chosen, rotation
