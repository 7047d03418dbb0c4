"""The toy trainer: every toy setting with every method, the outputs of a run, determinism, and the figures
the paper's toy experiments must show (Fig. 1 of the JARE paper, Table 1 of Mescheder et al. 2018)."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from jare_tf import methods, settings
from jare_tf.configs import TOY_SETTINGS, dotted
from jare_tf.training.toy_trainer import ToyRun

TOY_METHODS = [m for m in methods.names() if m != "sngan"]


def short_config(setting):
    c = settings.load(setting)
    c.num_steps, c.log_every, c.spectrum_every = 4, 2, 2
    if setting.startswith("mog"):
        c.model.widths, c.image_every, c.data.eval_samples, c.batch_size = (8, 8), 2, 200, 32
    return c


#: mog_numerics is the mog setting with another config (non-saturating loss, 16-d latent): a method of each kind.
SETTING_METHODS = {"mog_numerics": ("gan", "conopt", "jare", "altgd")}
#: MoG has no dense Jacobian: its spectra are Krylov ones, dozens of operator products each; logged (at steps 0 and
#: 4) for a first-order, a second-order and a multi-stage method only.
KRYLOV_METHODS = ("gan", "jare", "altgd")


@pytest.mark.parametrize("setting", TOY_SETTINGS)
def test_every_method_trains_on_every_toy_setting(setting, tmp_path):
    for method in SETTING_METHODS.get(setting, TOY_METHODS):
        workdir = str(tmp_path / method)
        config = short_config(setting)
        if setting.startswith("mog"):
            config.spectrum_every = 4 if method in KRYLOV_METHODS else 0
        result = ToyRun(config, method).train(workdir, log=lambda s: None)
        assert result["step"] == 4
        assert os.path.exists(os.path.join(workdir, "parameters.npz"))
        metrics = json.load(open(os.path.join(workdir, "metrics.json")))
        assert all(np.isfinite(v) for v in metrics.values() if isinstance(v, float)), (method, metrics)
        saved = json.load(open(os.path.join(workdir, "config.json")))
        assert saved["method"]["name"] == method and saved["setting"] == setting
        assert os.listdir(os.path.join(workdir, "train"))     # TensorBoard events
        history = json.load(open(os.path.join(workdir, "history.json")))
        assert history["step"] == [0, 2, 4]
        if setting.startswith("mog"):
            assert ("spectrum/max_abs" in history) == (config.spectrum_every > 0), method


def test_the_final_metrics_spectrum_is_of_the_last_step(tmp_path):
    """spectrum_every = 2 over 3 steps: spectra at 0, 2 and the last step, whose ζ and τ metrics.json reports."""
    config = short_config("isotropic")
    config.num_steps, config.log_every = 3, 1
    run = ToyRun(config, "gan")
    run.train(str(tmp_path / "run"), log=lambda s: None)
    history = json.load(open(tmp_path / "run" / "history.json"))
    metrics = json.load(open(tmp_path / "run" / "metrics.json"))
    assert history["step"] == [0, 1, 2, 3] and len(history["zeta"]) == 3
    final = run.spectrum(3)                              # the trained parameters, the last step's minibatch
    np.testing.assert_allclose([metrics["zeta"], metrics["tau"]], [final.zeta, final.tau], rtol=1e-6)


def test_sngan_needs_an_image_setting():
    with pytest.raises(ValueError, match="spectrally normalised discriminator"):
        ToyRun(short_config("isotropic"), "sngan")


def test_minibatches_are_functions_of_seed_and_step():
    a, b = ToyRun(short_config("mog"), "gan"), ToyRun(short_config("mog"), "jare")
    x = a.batch(tf.constant(5, tf.int64))
    np.testing.assert_array_equal(x["real"], b.batch(tf.constant(5, tf.int64))["real"])
    assert not np.allclose(x["real"], a.batch(tf.constant(6, tf.int64))["real"])
    assert not np.allclose(x["real"], a.batch(tf.constant(5, tf.int64), k=1)["real"])
    # Stratified: row i comes from mode i mod 8.
    centres = 2.0 * np.stack([np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], 1)
    nearest = np.linalg.norm(x["real"].numpy()[:, None] - centres[None], axis=-1).argmin(1)
    np.testing.assert_array_equal(nearest, np.arange(32) % 8)


def test_a_run_is_reproducible(tmp_path):
    r1 = ToyRun(short_config("isotropic"), "jare").train(str(tmp_path / "a"), log=lambda s: None)
    r2 = ToyRun(short_config("isotropic"), "jare").train(str(tmp_path / "b"), log=lambda s: None)
    assert (r1["g_norm"], r1["d_norm"]) == (r2["g_norm"], r2["d_norm"])


def isotropic(method, tmp_path):
    c = settings.load("isotropic")
    c.spectrum_every = 0
    return ToyRun(c, method).train(str(tmp_path / method), log=lambda s: None)


def test_fig1_story_at_the_papers_defaults(tmp_path):
    jare, conopt, gan = (isotropic(m, tmp_path) for m in ("jare", "conopt", "gan"))
    assert jare["g_norm"] <= 0.005 and jare["d_norm"] <= 0.002, jare
    assert conopt["g_norm"] >= 5 * jare["g_norm"], (conopt, jare)
    assert gan["g_norm"] >= 0.03, gan


def dirac(method, tmp_path, **options):
    c = settings.load("dirac")
    c.log_every, c.spectrum_every = 5, 0
    for key, value in options.items():
        c.method.options[method][key] = value
    return ToyRun(c, method).train(str(tmp_path / f"{method}{options}"), log=lambda s: None)


@pytest.mark.parametrize("method", ["instance_noise", "conopt", "r1", "r2", "jare"])
def test_dirac_table_1_convergent_methods(method, tmp_path):
    assert dirac(method, tmp_path)["distance_ratio"] < 0.1


@pytest.mark.parametrize("method", ["gan", "wgan", "wgan_gp"])
def test_dirac_table_1_non_convergent_methods(method, tmp_path):
    assert dirac(method, tmp_path)["tail_mean_ratio"] > 0.5


def test_appendix_c_conopt_with_large_gamma_diverges_where_jare_converges(tmp_path):
    assert dirac("conopt", tmp_path, gamma=4.0)["distance_ratio"] > 1.0
    assert dirac("jare", tmp_path, gamma=10.0)["distance_ratio"] < 1e-3


def test_a_finished_toy_run_run_again_keeps_its_results(tmp_path):
    workdir = str(tmp_path / "dirac_jare")
    first = ToyRun(short_config("dirac"), "jare").train(workdir, log=lambda s: None)
    path = os.path.join(workdir, "metrics.json")
    saved, stamp = open(path).read(), os.stat(path).st_mtime_ns
    lines = []
    again = ToyRun(short_config("dirac"), "jare").train(workdir, log=lines.append)
    assert open(path).read() == saved and os.stat(path).st_mtime_ns == stamp     # not retrained, not rewritten
    assert again["distance"] == first["distance"] and again["seconds"] == json.loads(saved)["train_seconds"]
    assert any("saved results are kept" in line for line in lines)
    longer = short_config("dirac")
    longer.num_steps = 6
    assert ToyRun(longer, "jare").train(workdir, log=lambda s: None)["step"] == 6          # another length: trains


def test_a_finished_run_is_restored_at_its_last_step(tmp_path):
    """parameters.npz holds every variable of both players at the last step; ToyRun.finished rebuilds the run
    from config.json and sets them, and a run whose config builds other networks is refused by name."""
    workdir = str(tmp_path / "mog_jare")
    trained = ToyRun(short_config("mog"), "jare")
    trained.train(workdir, log=lambda s: None)
    restored = ToyRun.finished(workdir)
    assert restored.method.name == "jare" and restored.config.num_steps == 4
    for a, b in zip(trained.game.params() + trained.game.state(), restored.game.params() + restored.game.state()):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x.numpy(), y.numpy())
    fresh = ToyRun(short_config("mog"), "jare")
    assert not np.array_equal(fresh.game.params().g[0].numpy(), restored.game.params().g[0].numpy())
    np.testing.assert_array_equal(restored.final_batch()["real"], trained.batch(tf.constant(4, tf.int64))["real"])
    wider = short_config("mog")
    wider.model.widths = (8, 9)
    with pytest.raises(ValueError, match="shape"):
        ToyRun(wider, "jare").load_parameters(workdir)
    with pytest.raises(ValueError, match="no parameters.npz"):
        ToyRun(short_config("mog"), "jare").load_parameters(str(tmp_path))


def test_a_workdir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "not_a_folder"
    path.write_text("x")
    with pytest.raises(ValueError, match="--workdir=.*is a file"):
        ToyRun(short_config("dirac"), "gan").train(str(path), log=lambda s: None)


def test_the_resolved_config_is_tensorboard_text(tmp_path):
    workdir = tmp_path / "dirac_r1"
    ToyRun(short_config("dirac"), "r1").train(str(workdir), log=lambda s: None)
    texts = [tf.make_ndarray(v.tensor).item().decode()
             for name in os.listdir(workdir / "train")
             for event in tf.compat.v1.train.summary_iterator(str(workdir / "train" / name))
             for v in event.summary.value if v.tag == "config"]
    assert len(texts) == 1 and '"setting": "dirac"' in texts[0] and '"name": "r1"' in texts[0]
    shown = json.loads("\n".join(line[4:] for line in texts[0].splitlines()))
    assert shown["method"] == {"name": "r1", "options": {"r1": {"gamma": 0.3}}}
    assert shown["resolved_method_options"] == {"gamma": 0.3, "every": 1}


def earlier_shape(config, method, family):
    """config.json as versions before settings.run_config wrote it: `method` the name, its options in
    `method_options`, the trained loss family in a top-level `family`."""
    return dict(config.to_dict(), method=method, family=family, method_options=settings.method_options(config, method))


def test_config_json_is_in_the_shape_of_the_flags(tmp_path):
    """--config.method.options.wgan.clip=0.5 is stored at method.options.wgan.clip, only the trained method's
    options are kept, game.family is the family the run trained with (WGAN's), and nothing sits beside it."""
    config = short_config("isotropic")
    config.method.options["wgan"] = {"clip": 0.5}
    ToyRun(config, "wgan").train(str(tmp_path / "run"), log=lambda s: None)
    saved = json.load(open(tmp_path / "run" / "config.json"))
    flat = dotted(saved)
    assert flat["method.options.wgan.clip"] == 0.5 and flat["method.name"] == "wgan"
    assert flat["game.family"] == "wgan" and "family" not in saved and "method_options" not in saved
    assert not any(key.startswith("method.options.jare") for key in flat)
    assert saved["resolved_method_options"] == {"clip": 0.5, "n_d": 1}
    config_back, method = settings.from_saved(saved)
    assert method == "wgan" and config_back.method.options.wgan.clip == 0.5


def test_a_workdir_in_the_earlier_config_shape_is_still_recognised_and_refused_by_key(tmp_path, monkeypatch):
    workdir = str(tmp_path / "dirac_jare")
    with monkeypatch.context() as patch:
        patch.setattr(settings, "run_config", earlier_shape)
        ToyRun(short_config("dirac"), "jare").train(workdir, log=lambda s: None)
    assert json.load(open(os.path.join(workdir, "config.json")))["method"] == "jare"        # the earlier shape
    again = ToyRun(short_config("dirac"), "jare").train(workdir, log=lambda s: None)
    assert again["already_finished"] and again["step"] == 4
    saved = json.load(open(os.path.join(workdir, "config.json")))                           # rewritten in the new one
    assert saved["method"]["name"] == "jare" and "family" not in saved and "method_options" not in saved
    assert ToyRun.finished(workdir).method.name == "jare"
    other = short_config("dirac")
    other.method.options.jare.gamma = 5.0
    with monkeypatch.context() as patch:
        patch.setattr(settings, "run_config", earlier_shape)
        ToyRun(short_config("dirac"), "jare").train(str(tmp_path / "old"), log=lambda s: None)
    with pytest.raises(ValueError, match=r"method\.options\.jare\.gamma: 1\.0 -> 5\.0"):
        ToyRun(other, "jare").train(str(tmp_path / "old"), log=lambda s: None)
