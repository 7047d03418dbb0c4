"""Config resolution: every setting loads, each method's options (γ included) live in one place per setting and
an override of them takes effect, bad values name the flag, and the configs hold the values the papers give."""

import pytest

from jare_tf import settings
from jare_tf.configs import SETTINGS


@pytest.mark.parametrize("setting", SETTINGS)
def test_every_setting_loads_and_names_itself(setting):
    c = settings.load(setting)
    assert c.setting == setting and c.num_steps > 0 and c.batch_size > 0


def test_unknown_setting_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid settings: A, B, C, D, E, F, isotropic, mog"):
        settings.load("cifar")


def test_method_options_are_the_settings_per_method_entries():
    dirac = settings.load("dirac")
    assert settings.method_options(dirac, "r1") == {"gamma": 0.3}
    assert settings.method_options(dirac, "wgan") == {"clip": 1.0}
    assert settings.method_options(dirac, "instance_noise") == {"std": 0.7, "num_draws": 64}
    assert settings.method_options(settings.load("isotropic"), "jare") == {"gamma": 10.0}
    assert settings.method_options(settings.load("C"), "jare") == {"gamma": 100.0, "hvp": "reverse"}


@pytest.mark.parametrize("setting", SETTINGS)
def test_gamma_has_one_home_and_its_override_takes_effect(setting):
    config = settings.load(setting)
    assert "gamma" not in config.method                     # no setting-wide γ to be shadowed
    for name, options in config.method.options.items():
        if "gamma" in options:
            options.gamma = 0.125
            assert settings.make_method(config, name).gamma == 0.125


@pytest.mark.parametrize("setting", ["isotropic", "C"])
def test_a_setting_wide_gamma_override_is_refused_with_the_key_that_works(setting):
    config = settings.load(setting)
    with pytest.raises(ValueError, match=r"--config\.method\.options\.conopt\.gamma"):
        settings.check_overrides(["jare-train", "--method=conopt", "--config.method.gamma=-1"], config, "conopt")
    with pytest.raises(ValueError, match="config.method.options.gan has no 'gamma'; valid keys there: none"):
        settings.check_overrides(["jare-train", "--config.method.options.gan.gamma=1"], config, "gan")
    # Another method's option leaves --method's as the setting has it: a warning with the key that works.
    argv = ["jare-train", "--config.method.options.conopt.gamma=4", "--config.method.options.jare.gamma=2"]
    settings.check_overrides(argv, config, "jare")
    (warning,) = settings.other_methods_options(argv, "jare")
    assert warning.startswith("--config.method.options.conopt.gamma sets an option of conopt, but --method=jare")
    assert "--config.method.options.jare.gamma)" in warning


def test_a_bad_option_names_the_flag_that_sets_it():
    config = settings.load("C")
    config.method.options.jare.gamma = -1.0
    with pytest.raises(ValueError, match=r"gamma must be >= 0.*--config\.method\.options\.jare\.<option>"):
        settings.make_method(config, "jare")


def test_paper_values():
    iso = settings.load("isotropic")
    assert (iso.data.mu, iso.data.sigma2, iso.batch_size, iso.num_steps, iso.method.options.jare.gamma) == (
        4.0, 0.04, 128, 15000, 10.0)
    assert dict(iso.optimizer.g) == {"name": "sgd", "learning_rate": 1e-3}
    mog = settings.load("mog")
    assert (mog.data.radius, mog.data.std, mog.data.latent_dim, mog.data.latent_variance) == (2.0, 0.06, 64, 2.0)
    assert tuple(mog.model.widths) == (256,) * 4 and mog.optimizer.d["name"] == "rmsprop"
    num = settings.load("mog_numerics")
    assert (num.data.radius, num.data.std, num.data.latent_dim, num.batch_size, num.num_steps) == (1.0, 0.01, 16,
                                                                                                   512, 20000)
    assert tuple(num.model.widths) == (16,) * 4 and num.game.generator_loss == "non_saturating"
    dirac = settings.load("dirac")
    assert dirac.optimizer.g["learning_rate"] == 0.2 and (dirac.data.phi0, dirac.data.theta0) == (1.0, -1.0)


@pytest.mark.parametrize("setting", ["isotropic", "mog", "C"])
def test_an_option_the_setting_leaves_at_its_default_can_be_set(setting):
    """`"altgd": {}` in a setting's config still lets --config.method.options.altgd.n_d=5 through (the example of
    docs/training.md), with the typed value's type, and the method is built with it."""
    config = settings.load(setting)
    r1_listed = "r1" in config.method.options
    argv = ["jare-train", "--method=altgd", "--config.method.options.altgd.n_d=5",
            "--config.method.options.altgd.order=g_first", "--config.method.options.r1.gamma=0.5"]
    settings.add_method_options(argv, config)
    settings.check_overrides(argv, config, "altgd")
    method = settings.make_method(config, "altgd")
    assert (method.n_d, method.order) == (5, "g_first")
    if not r1_listed:     # a method the setting has no group for gets one (a listed one is set by the flag)
        assert settings.make_method(config, "r1").gamma == 0.5
    assert isinstance(config.method.options.altgd.n_d, int)


def test_an_option_the_method_does_not_have_is_refused_by_name():
    config = settings.load("isotropic")
    settings.add_method_options(["--config.method.options.altgd.nd=2", "--config.method.options.gan.gamma=1"],
                                config)
    with pytest.raises(ValueError, match=r"altgd has no option nd .*its options: n_d, n_g, order, g_beta1"):
        settings.make_method(config, "altgd")
    with pytest.raises(ValueError, match=r"gan has no option gamma .*its options: none"):
        settings.make_method(config, "gan")


def test_a_method_label_gives_the_method_and_its_options():
    """`name:option=value` (jare-bench --methods, the Fashion-MNIST lazy grid) → method and typed options, which
    set_method_options puts where make_method reads them."""
    assert settings.parse_method_label("jare:every=4:hvp=forward") == ("jare", {"every": 4, "hvp": "forward"})
    assert settings.parse_method_label("gan") == ("gan", {})
    for bad, message in (("jaer", "unknown method 'jaer'"), ("jare:every", "must read option=value"),
                         ("jare:every=four", "every must be a number")):
        with pytest.raises(ValueError, match=message):
            settings.parse_method_label(bad)
    c = settings.load("C")
    settings.set_method_options(c, "jare", {"every": 4})
    method = settings.make_method(c, "jare")
    assert method.every == 4 and method.gamma == settings.method_options(c, "jare")["gamma"]


def test_a_regularised_method_without_gamma_is_warned_of():
    """r1 has no γ on the isotropic setting (its default is 0): it would train as SimGD under r1's name."""
    config = settings.load("isotropic")
    assert "--config.method.options.r1.gamma=<value>" in settings.unregularised_warning(config, "r1")
    assert settings.unregularised_warning(config, "jare") is None          # the setting gives jare its γ
    assert settings.unregularised_warning(config, "gan") is None           # gan has no γ to give
    config.method.options.r1 = {"gamma": 0.5}
    assert settings.unregularised_warning(config, "r1") is None
