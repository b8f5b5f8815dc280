"""Orbax checkpoints of a `GANState`: save, find the latest, restore into a known structure."""

import os

import jax
import numpy as np
import orbax.checkpoint as ocp


def make_manager(directory: str, max_to_keep: int = 3) -> ocp.CheckpointManager:
    """A `CheckpointManager` over `directory`, one checkpoint per saved step."""
    directory = os.path.abspath(directory)
    options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
    return ocp.CheckpointManager(directory, options=options)


def save(manager: ocp.CheckpointManager, state) -> None:
    """Saves `state` under its step and waits until it is on disk (a kill can follow).

    A stacked (vmapped) state's runs share one clock, so its step is any run's step.
    """
    step = int(np.asarray(state.step.addressable_shards[0].data).max())
    if manager.latest_step() != step:
        manager.save(step, args=ocp.args.StandardSave(state))
    manager.wait_until_finished()


def restore_latest(manager: ocp.CheckpointManager, target):
    """Restores the latest checkpoint into `target`'s structure and placement, or None."""
    step = manager.latest_step()
    if step is None:
        return None
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    return manager.restore(step, args=ocp.args.StandardRestore(abstract))
