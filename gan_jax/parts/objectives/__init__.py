"""GAN objectives, found by name (`config.objective`).

Every objective is one module exposing an `OBJECTIVE` (see `base.Objective`): the D loss and the
G loss as functions of D's outputs, an objective state carried in `GANState` (BEGAN's k_t lives
there) with its pure update, and its dynamic scalar parameters (`config.loss.*`) with defaults.
Adding a variant is one file here plus one line in `OBJECTIVES`; the train step never changes.
"""

from gan_jax.parts.objectives import began, ebgan, hinge, lsgan, minimax, nonsaturating, wasserstein
from gan_jax.parts.objectives.base import Objective

OBJECTIVES: dict[str, Objective] = {
    "minimax": minimax.OBJECTIVE,
    "nonsaturating": nonsaturating.OBJECTIVE,
    "lsgan": lsgan.OBJECTIVE,
    "hinge": hinge.OBJECTIVE,
    "wasserstein": wasserstein.OBJECTIVE,
    "ebgan": ebgan.OBJECTIVE,
    "began": began.OBJECTIVE,
}


def get_objective(name: str) -> Objective:
    """Returns the objective registered as `name`."""
    if name not in OBJECTIVES:
        raise ValueError(f"objective={name!r} is unknown; choose one of {sorted(OBJECTIVES)}")
    return OBJECTIVES[name]


__all__ = ["OBJECTIVES", "Objective", "get_objective"]
