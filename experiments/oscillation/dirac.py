"""Dirac-GAN phase portraits and spectra (Mescheder et al. 2018, Sec. 2-4).

  python experiments/oscillation/dirac.py

Trains the two-parameter game of configs/dirac.py with the project's own train step under each
fix, draws the (theta, psi) trajectories over the vector field each one follows
(experiments/oscillation/dirac_portraits.png), and prints, at the equilibrium (0, 0):
the eigenvalues of the game Jacobian by `jax.jacfwd` beside the closed form and the Arnoldi
estimate, and the spectral radius of the one-step update map (< 1: converges locally).
"""

import os
import sys

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from configs import dirac  # noqa: E402
from gan_jax.step import game, train  # noqa: E402
from gan_jax.step.config import set_field, validate  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 500
LEARNING_RATE = 0.1
R1_GAMMA = 0.3  # R1 weight below 1: complex eigenvalues, a visible inward spiral
CONSENSUS_GAMMA = 1.0
F_PRIME_0 = 0.5  # f(t) = -log(1 + exp(-t)): f'(0) = 1/2


def _sqrt(x):
    return np.sqrt(complex(x))


# name -> (config changes, closed-form eigenvalues of the field's Jacobian at (0, 0))
METHODS = {
    "simultaneous": ({}, [1j * F_PRIME_0, -1j * F_PRIME_0]),
    "alternating": ({"update_order": "alternating"}, [1j * F_PRIME_0, -1j * F_PRIME_0]),
    "unrolled k=5": ({"unroll.steps": 5}, [1j * F_PRIME_0, -1j * F_PRIME_0]),
    "TTUR (D lr x4)": ({"optim.d.learning_rate": 4 * LEARNING_RATE}, [0.5j, -0.5j]),
    f"R1 gamma={R1_GAMMA}": (
        {"penalty.name": "r1", "penalty.weight": R1_GAMMA},
        [R1_GAMMA / 2 + s * _sqrt(R1_GAMMA**2 / 4 - F_PRIME_0**2) for s in (1, -1)],
    ),
    f"consensus gamma={CONSENSUS_GAMMA}": (
        {"consensus.enabled": True, "consensus.weight": CONSENSUS_GAMMA},
        [CONSENSUS_GAMMA * F_PRIME_0**2 + s * 1j * F_PRIME_0 for s in (1, -1)],
    ),
    "optimistic SGD": (
        {
            "optim.g": {
                "name": "optimistic_sgd",
                "learning_rate": LEARNING_RATE,
                "alpha": 1.0,
                "beta": 1.0,
            },
            "optim.d": {
                "name": "optimistic_sgd",
                "learning_rate": LEARNING_RATE,
                "alpha": 1.0,
                "beta": 1.0,
            },
        },
        [1j * F_PRIME_0, -1j * F_PRIME_0],
    ),
    "extragradient": ({"extrapolation": "extragradient"}, [1j * F_PRIME_0, -1j * F_PRIME_0]),
}


def make(changes):
    config = dirac.get_config()
    for field, value in changes.items():
        set_field(config, field, value)
    validate(config)
    return train.init_run(config)


def at(state, theta, psi):
    return state.replace(
        g_params={"params": {"theta": jnp.reshape(theta, (1,))}},
        d_params={"params": {"psi": jnp.reshape(psi, (1,))}},
    )


def trajectory(exp, state):
    step = train.make_train_step_with_extrapolation(exp)

    def body(state, t):
        state, _ = step(state, jax.random.fold_in(state.rng, t))
        return state, (state.g_params["params"]["theta"][0], state.d_params["params"]["psi"][0])

    _, (thetas, psis) = jax.jit(lambda s: jax.lax.scan(body, s, jnp.arange(STEPS)))(state)
    return np.concatenate([[1.0], thetas]), np.concatenate([[1.0], psis])


def descent_field(exp, state, thetas, psis):
    """-(v + consensus terms) on a grid: the direction a plain gradient step moves."""
    field = game.make_game_field(exp)
    consensus = game.make_consensus_grads(exp) if exp.consensus else game.no_consensus_grads
    real, z, key = jnp.zeros((4, 1)), jnp.zeros((4, 1)), jax.random.PRNGKey(0)

    def at_point(theta, psi):
        s = at(state, theta, psi)
        v = field(s.g_params, s.d_params, real, z, (), s.hparams, key)
        v = jax.tree.map(jnp.add, v, consensus(s, real, z, key))
        return -v[0]["params"]["theta"][0], -v[1]["params"]["psi"][0]

    return jax.jit(jax.vmap(jax.vmap(at_point)))(thetas, psis)


def step_map_radius(exp, state, eps=1e-2):
    """Spectral radius of the Jacobian of one training step at the equilibrium, by central
    differences through the real step (its D update sees G's samples through stop_gradient, so
    forward-mode differentiation would miss the coupling). None for optimizers with memory
    (optimistic), whose step map also acts on the previous gradient."""
    step = jax.jit(train.make_train_step_with_extrapolation(exp))

    def one_step(w):
        new, _ = step(at(state, w[0], w[1]), jax.random.PRNGKey(0))
        return np.array(
            [new.g_params["params"]["theta"][0], new.d_params["params"]["psi"][0]], np.float64
        )

    columns = [
        (one_step(jnp.asarray(eps * e)) - one_step(jnp.asarray(-eps * e))) / (2 * eps)
        for e in np.eye(2, dtype=np.float32)
    ]
    return float(np.max(np.abs(np.linalg.eigvals(np.stack(columns, axis=1)))))


def main():
    grid = np.linspace(-2, 2, 21, dtype=np.float32)
    thetas, psis = np.meshgrid(grid, grid)
    fig, axes = plt.subplots(2, 4, figsize=(16, 8.4))
    lines = [
        "| method | eigenvalues at (0, 0) of the Jacobian of the field descended (jacfwd) | "
        "closed form | "
        "Arnoldi on the plain field v (2 iterations) | "
        "spectral radius of one step (lr 0.1) | distance to (0, 0) after "
        f"{STEPS} steps (start 1.41) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for ax, (name, (changes, closed_form)) in zip(axes.flat, METHODS.items(), strict=True):
        exp, state = make(changes)
        theta_path, psi_path = trajectory(exp, state)
        u, v = descent_field(exp, state, thetas, psis)
        ax.streamplot(grid, grid, np.asarray(u), np.asarray(v), color="0.75", density=0.9)
        ax.plot(theta_path, psi_path, color="tab:blue", lw=1)
        ax.plot(theta_path[0], psi_path[0], "o", color="tab:green")
        ax.plot(0, 0, "*", color="tab:red", ms=10)
        ax.set_xlim(-2, 2)
        ax.set_ylim(-2, 2)
        ax.set_title(name)
        ax.set_xlabel("theta (G)")
        ax.set_ylabel("psi (D)")

        equilibrium = at(state, 0.0, 0.0)
        jac = np.asarray(game.game_jacobian(exp, equilibrium, jax.random.PRNGKey(0)), np.float64)
        if exp.consensus:  # the fix changes the field: J + gamma J^T J
            jac = jac + CONSENSUS_GAMMA * jac.T @ jac
        eig = np.sort_complex(np.linalg.eigvals(jac))
        arnoldi, _ = game.game_spectrum(exp, equilibrium, jax.random.PRNGKey(0), num_iters=2)
        radius = None if "optim.g" in changes else step_map_radius(exp, state)
        distance = float(np.hypot(theta_path[-1], psi_path[-1]))
        fmt = lambda values: ", ".join(
            f"{complex(x).real:+.3f}{complex(x).imag:+.3f}i"
            for x in np.sort_complex(np.asarray(values, complex))
        )
        lines.append(
            f"| {name} | {fmt(eig)} | {fmt(closed_form)} | {fmt(arnoldi)} | "
            f"{'n/a (memory)' if radius is None else f'{radius:.4f}'} | {distance:.3g} |"
        )
    fig.suptitle(
        "Dirac-GAN (Mescheder et al. 2018): trajectories from (1, 1), lr 0.1, "
        f"{STEPS} steps; grey: the descent field"
    )
    fig.tight_layout()
    path = os.path.join(HERE, "dirac_portraits.png")
    fig.savefig(path, dpi=90)
    print("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
