"""Generators and discriminators, found by name (`config.model.g.name`, `config.model.d.name`)."""

from gan_jax.parts.models.dcgan import (
    ConvAutoencoderDiscriminator,
    DCGANDiscriminator,
    DCGANGenerator,
)
from gan_jax.parts.models.dirac import DiracGenerator, LinearDiscriminator
from gan_jax.parts.models.mlp import (
    ACTIVATIONS,
    MLPAutoencoderDiscriminator,
    MLPDiscriminator,
    MLPGenerator,
)

GENERATORS = {"mlp": MLPGenerator, "dirac": DiracGenerator, "dcgan": DCGANGenerator}
DISCRIMINATORS = {
    "mlp": MLPDiscriminator,
    "autoencoder": MLPAutoencoderDiscriminator,
    "linear": LinearDiscriminator,
    "dcgan": DCGANDiscriminator,
    "conv_autoencoder": ConvAutoencoderDiscriminator,
}
# What each D returns, matched against `Objective.d_output` by config validation.
DISCRIMINATOR_OUTPUTS = {
    "mlp": "logit",
    "autoencoder": "energy",
    "linear": "logit",
    "dcgan": "logit",
    "conv_autoencoder": "energy",
}


def _kwargs(cfg) -> dict:
    kwargs = dict(cfg)
    kwargs.pop("name")
    return kwargs


def make_generator(cfg, data_shape: tuple[int, ...]):
    """Builds the generator module named by `cfg.name`; its output matches `data_shape`."""
    if cfg.name not in GENERATORS:
        raise ValueError(
            f"model.g.name={cfg.name!r} is unknown; choose one of {sorted(GENERATORS)}"
        )
    return GENERATORS[cfg.name](data_shape=tuple(data_shape), **_kwargs(cfg))


def make_discriminator(cfg):
    """Builds the discriminator module named by `cfg.name`."""
    if cfg.name not in DISCRIMINATORS:
        raise ValueError(
            f"model.d.name={cfg.name!r} is unknown; choose one of {sorted(DISCRIMINATORS)}"
        )
    return DISCRIMINATORS[cfg.name](**_kwargs(cfg))


__all__ = [
    "ACTIVATIONS",
    "ConvAutoencoderDiscriminator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "DISCRIMINATORS",
    "DISCRIMINATOR_OUTPUTS",
    "MLPAutoencoderDiscriminator",
    "GENERATORS",
    "MLPDiscriminator",
    "MLPGenerator",
    "make_discriminator",
    "make_generator",
]
