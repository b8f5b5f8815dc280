"""Layer 1, the parts a GAN is made of: data sets, models, objectives, penalties, optimizers.

A part imports nothing else from gan_jax (see `gan_jax/__init__.py` for the layers).
"""
