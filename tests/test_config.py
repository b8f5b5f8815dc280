"""Each bad config value gets one line naming the field, the value and what is allowed."""

import re

import pytest
from conftest import make_tiny_config

from gan_jax.parts import objectives
from gan_jax.step.config import ConfigError, validate

# The message lists every registered objective; a new objective needs no edit here.
OBJECTIVE_NAMES = re.escape(str(sorted(objectives.OBJECTIVES)))


@pytest.mark.parametrize(
    "field, value, message",
    [
        (
            "objective",
            "wgan-typo",
            r"objective='wgan-typo' is invalid: choose one of " + OBJECTIVE_NAMES,
        ),
        (
            "data.name",
            "moons",
            r"data.name='moons' is invalid: choose one of \[.*'grid'.*'ring'.*\]",
        ),
        (
            "model.g.name",
            "resnet",
            r"model.g.name='resnet' is invalid: choose one of \[.*'mlp'.*\]",
        ),
        (
            "model.d.name",
            "resnet",
            r"model.d.name='resnet' is invalid: choose one of \['autoencoder', .*'mlp'.*\]",
        ),
        ("model.g.activation", "swish", r"model.g.activation='swish' is invalid: choose one of"),
        (
            "model.d.hidden_sizes",
            (128, -1),
            r"model.d.hidden_sizes=\(128, -1\) is invalid: must be a tuple of positive",
        ),
        ("num_steps", -5, r"num_steps=-5 is invalid: must be an integer >= 1"),
        ("num_steps", 2.5, r"num_steps=2.5 is invalid: must be an integer >= 1"),
        ("eval_every", 0, r"eval_every=0 is invalid: must be an integer >= 1"),
        ("checkpoint_every", 0, r"checkpoint_every=0 is invalid"),
        (
            "keep_checkpoints_over_last",
            1.5,
            r"keep_checkpoints_over_last=1.5 is invalid: must be a fraction in \[0, 1\]",
        ),
        ("n_d_steps", 0, r"n_d_steps=0 is invalid: must be an integer >= 1"),
        ("eval.plot_samples", -1, r"eval.plot_samples=-1 is invalid: must be an integer >= 0"),
        ("unroll.steps", -1, r"unroll.steps=-1 is invalid: must be an integer >= 0"),
        ("unroll.second_order", 1, r"unroll.second_order=1 is invalid: must be True or False"),
        (
            "optim.g.learning_rate",
            0.0,
            r"optim.g.learning_rate=0.0 is invalid: must be a finite number > 0",
        ),
        (
            "optim.d.learning_rate",
            -1e-4,
            r"optim.d.learning_rate=-0.0001 is invalid: must be a finite number > 0",
        ),
        (
            "optim.d.learning_rate",
            float("inf"),
            r"optim.d.learning_rate=inf is invalid: must be a finite number",
        ),
        (
            "optim.g.learning_rate",
            float("nan"),
            r"optim.g.learning_rate=nan is invalid: must be a finite number",
        ),
        ("optim.d.b1", 1.0, r"optim.d.b1=1.0 is invalid: must be in \[0, 1\)"),
        ("optim.d.name", "adamw2", r"optim.d.name='adamw2' is invalid: choose one of"),
        (
            "update_order",
            "random",
            r"update_order='random' is invalid: choose one of \['alternating', 'simultaneous'\]",
        ),
        ("batch_size", 1, r"batch_size=1 is invalid: must be an integer >= 2"),
    ],
)
def test_bad_values_get_one_clear_line(field, value, message):
    config = make_tiny_config()
    node = config
    *parents, leaf = field.split(".")
    for parent in parents:
        node = node[parent]
    with node.ignore_type():
        node[leaf] = value
    with pytest.raises(ConfigError, match=message) as error:
        validate(config)
    assert "\n" not in str(error.value)


def test_second_order_unrolling_through_adam_needs_eps_root():
    config = make_tiny_config(**{"unroll.steps": 5, "optim.d.eps_root": 0.0})
    with pytest.raises(
        ConfigError, match=r"optim.d.eps_root=0.0 is invalid: must be > 0 with second-order"
    ):
        validate(config)
    config.unroll.second_order = False  # first order never differentiates through Adam
    validate(config)


def test_unknown_model_field_names_the_allowed_ones():
    config = make_tiny_config()
    config.model.d.width = 3
    with pytest.raises(
        ConfigError,
        match=r"model.d.width is not a field of model 'mlp'; it takes \['activation', 'hidden_sizes', 'init_std', 'maxout_pieces', 'minibatch_kernel_dim'",
    ):
        validate(config)


def test_loss_parameter_the_objective_does_not_take():
    config = make_tiny_config()
    config.loss.margin = 1.0
    with pytest.raises(
        ConfigError, match=r"loss.margin is not a parameter of objective 'nonsaturating'"
    ):
        validate(config)


def test_batch_size_must_divide_over_devices(monkeypatch):
    import jax

    monkeypatch.setattr(jax, "device_count", lambda: 4)
    config = make_tiny_config(batch_size=30)
    with pytest.raises(
        ConfigError, match=r"batch_size=30 is invalid: must be divisible by the device count \(4\)"
    ):
        validate(config)


def test_runs_sharing_models_data_and_batch_trace_their_shapes_once(monkeypatch):
    """A sweep's seeds share one model / data / batch combination: validate traces it once; a
    new combination is traced, and a misfit is reported every time, never remembered as fit."""
    from gan_jax.parts import models
    from gan_jax.step import config as config_module

    monkeypatch.setattr(config_module, "_FITTING_SHAPES", set())
    traced = []
    make_generator = models.make_generator
    monkeypatch.setattr(
        models, "make_generator", lambda *a, **k: traced.append(1) or make_generator(*a, **k)
    )
    for seed in range(3):
        validate(make_tiny_config(seed=seed, **{"optim.d.learning_rate": 1e-3 * (seed + 1)}))
    assert len(traced) == 1
    validate(make_tiny_config(**{"model.g.hidden_sizes": (8,)}))
    assert len(traced) == 2
    from configs import digits_dcgan

    misfit = digits_dcgan.get_config()
    misfit.data.name = "ring"
    for _ in range(2):
        with pytest.raises(ConfigError, match="cannot take data.name='ring'"):
            validate(misfit)


def test_shipped_configs_are_valid():
    from configs import default, gan, unrolled

    for module in (default, gan, unrolled):
        validate(module.get_config())
    assert unrolled.get_config().unroll.steps == 5 and gan.get_config().unroll.steps == 0


def test_shipped_sweeps_and_experiments_expand_to_valid_runs():
    import importlib.util
    import os

    from gan_jax.loop.sweep import expand, group_runs

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = ["configs/sweeps/unroll_ring.py"] + [
        f"experiments/{name}/config.py"
        for name in sorted(os.listdir(os.path.join(root, "experiments")))
        if os.path.exists(os.path.join(root, "experiments", name, "config.py"))
    ]
    assert len(paths) >= 3
    for path in paths:
        spec = importlib.util.spec_from_file_location("cfg", os.path.join(root, path))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        runs = expand(module.get_config())
        assert len(runs) >= 10, path
        # seeds always share a group; variants differing only in dynamic fields may share one
        groups_of_variant: dict[str, set[int]] = {}
        for index, group in enumerate(group_runs(runs)):
            for r in group:
                groups_of_variant.setdefault(r.variant, set()).add(index)
        assert all(len(groups) == 1 for groups in groups_of_variant.values()), path


def test_optimizer_fields_of_the_wrong_type_get_one_line():
    config = make_tiny_config()
    config.optim.d.name = "sgd"
    with config.optim.d.ignore_type():
        config.optim.d.momentum = None
    with pytest.raises(
        ConfigError, match=r"optim.d.momentum=None is invalid: must be a finite number"
    ):
        validate(config)
    config = make_tiny_config(**{"unroll.steps": 2})
    del config.optim.d["eps_root"]
    with pytest.raises(ConfigError, match=r"optim.d.eps_root=0.0 is invalid"):
        validate(config)


def test_paper_and_best_recipe_configs_validate_and_their_searches_expand():
    """configs/paper/, configs/best_*.py and the recipe searches of experiments/paper_tables:
    every run valid before anything compiles; searches on seeds 0-9, confirmations on 100-109."""
    import importlib.util
    import os

    from configs import best_grid, best_ring
    from configs.paper import pacgan_grid, pacgan_ring
    from gan_jax.loop.sweep import expand

    for config in (
        best_ring.get_config(),
        best_ring.pacgan2_recipe(),
        best_ring.pacgan2_recipe("1e-4"),
        best_grid.get_config(),
        best_grid.get_config("packed_d"),
        best_grid.get_config("512"),
        pacgan_ring.get_config("4"),
        pacgan_grid.get_config("4"),
    ):
        validate(config)
        assert config.num_steps <= 400_000
    for recipe in (best_ring.get_config(), best_grid.get_config()):  # the budget
        assert recipe.num_steps <= 25_000 and recipe.batch_size <= 512
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    folder = os.path.join(root, "experiments", "paper_tables", "search")
    seeds, modules = {}, {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".py"):
            continue
        spec = importlib.util.spec_from_file_location("search", os.path.join(folder, name))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules[name] = module
        seeds[name] = sorted({run.config.seed for run in expand(module.get_config())})
    assert seeds["confirm_ring.py"] == seeds["confirm_grid.py"] == list(range(100, 110))
    # The shipped grid recipe is the configuration grid step 20 trained (packing 3) read with
    # 1,000 candidates per sample (grid step 21, confirmed), and `:packed_d` the one grid step 16
    # measured, packing 4.
    measured = modules["probe_grid_ratio_classifier.py"].get_config("3")
    del measured["sweep"]
    assert measured.eval.sampler_candidates == 100
    measured.eval.sampler_candidates = 1000
    assert best_grid.get_config().to_dict() == measured.to_dict()
    measured = modules["probe_grid_full_nets_cosine.py"].get_config("4")
    del measured["sweep"]
    measured.model.d.pack = 4
    assert best_grid.get_config("packed_d").to_dict() == measured.to_dict()
    with pytest.raises(ValueError, match=r"configs/best_grid.py:big: give no argument"):
        best_grid.get_config("big")
    assert seeds["confirm_ring_literature.py"] == list(range(100, 110))
    for arg, first in (("0.3", 0), ("0.3,confirm", 100)):
        config = modules["probe_ring_drs_quantile.py"].get_config(arg)
        validate(config)
        assert config.eval.drs_gamma_quantile == 0.3
        assert sorted(run.config.seed for run in expand(config)) == list(range(first, first + 10))
    assert seeds["ring.py"] == seeds["grid.py"] == list(range(10))


def test_the_shipped_ring_recipe_is_the_confirmed_search_step():
    """configs/best_ring.py is ring step 13 of experiments/paper_tables' search (step 11's
    training read through DRS at quantile 0.3), the setting confirmed on seeds 100-109, field for
    field (but the seeds)."""
    import os
    import runpy

    from configs import best_ring
    from gan_jax.loop import workdir as wd

    path = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        "experiments",
        "paper_tables",
        "search",
        "probe_ring_drs_quantile.py",
    )
    confirmed = runpy.run_path(path)["get_config"]("0.3,confirm")
    del confirmed.sweep
    confirmed.seed = 0
    shipped = validate(best_ring.get_config())
    assert wd.config_differences(wd.config_to_dict(confirmed), wd.config_to_dict(shipped)) == []
    assert shipped.eval.samplers == ("drs",) and shipped.eval.drs_gamma_quantile == 0.3
    assert shipped.objective == "minimax" and shipped.ema.enabled and shipped.batch_size == 512
