"""The game-Jacobian spectrum of a trained run, on demand (small models: one Arnoldi pass of
`num_iters` Jacobian-vector products on the run's parameters).

  python -m gan_jax.results.spectrum --workdir=runs/unrolled [--num_iters=30] [--top=4] [--seed=0]

Prints the eigenvalues with the largest imaginary parts of the Jacobian of the joint gradient
field at the run's latest checkpoint (one batch drawn from --seed), and the rotation measure
max |imag| / |real| (large: the players circle, see `gan_jax.step.game`).
"""

import sys

import jax
from absl import app, flags

from gan_jax.results import api
from gan_jax.step import game


def spectrum_report(workdir: str, num_iters: int = 30, top: int = 4, seed: int = 0) -> str:
    """The text `python -m gan_jax.results.spectrum` prints for the run in `workdir`."""
    trained = api.restore(workdir)
    eigenvalues, rotation = game.game_spectrum(
        trained.experiment, trained.state, jax.random.PRNGKey(seed), num_iters, top
    )
    lines = [f"{workdir} at step {trained.step}: game Jacobian, {num_iters} Arnoldi iterations"]
    lines += [f"  {z.real:+.4g} {z.imag:+.4g}i" for z in eigenvalues]
    lines.append(f"rotation max |imag| / |real| = {rotation:.4g}")
    return "\n".join(lines)


def main(argv):
    del argv
    if not _WORKDIR.value:
        print("error: --workdir is required", file=sys.stderr)
        sys.exit(2)
    for flag, value in (("num_iters", _NUM_ITERS.value), ("top", _TOP.value)):
        if value < 1:
            print(f"error: --{flag}={value} is invalid: must be an integer >= 1", file=sys.stderr)
            sys.exit(2)
    try:
        print(spectrum_report(_WORKDIR.value, _NUM_ITERS.value, _TOP.value, _SEED.value))
    except FileNotFoundError as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":  # flags defined here: absl flags are global to the process
    _WORKDIR = flags.DEFINE_string("workdir", None, "A run's workdir (or a sweep run's folder).")
    _NUM_ITERS = flags.DEFINE_integer("num_iters", 30, "Arnoldi iterations (Krylov dimension).")
    _TOP = flags.DEFINE_integer("top", 4, "How many eigenvalues to print.")
    _SEED = flags.DEFINE_integer("seed", 0, "Key of the batch the field is evaluated on.")
    app.run(main)
