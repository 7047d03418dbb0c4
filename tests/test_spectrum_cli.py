"""jare-spectrum end to end, as a user runs it (a subprocess; the last stdout line is the JSON object)."""

import json
import os
import subprocess
import sys

import numpy as np

from jare_tf.analysis import closed_forms as cf


def run(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-m", "jare_tf.spectrum", *args], capture_output=True, text=True,
                          env=env, timeout=300)
    return proc


def eigenvalues(proc):
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result, np.array([complex(re, im) for re, im in result["eigenvalues"]])


def assert_each_close(actual, expected, rtol):
    for e in expected:
        assert np.min(np.abs(actual - e)) <= rtol * abs(e), (actual, e)


def test_isotropic_jare_and_gan_match_theorems_3_and_1():
    args = ["--problem=isotropic", "--gamma=10", "--sigma2=0.04", "--mu=4", "--json"]
    result, lam = eigenvalues(run("--method=jare", *args))
    assert_each_close(lam, [-2.51 + 0.44710j, -2.51 - 0.44710j, -0.52, -12.5], rtol=1e-4)
    assert set(result) >= {"eigenvalues", "zeta", "tau", "eta_max"}
    np.testing.assert_allclose(result["eta_max"], cf.jare_eta_max(0.04, 4, 10), rtol=1e-9)
    _, lam = eigenvalues(run("--method=gan", *args))
    assert_each_close(lam, cf.theorem1_eigenvalues(0.04, 4), rtol=1e-6)
    assert_each_close(lam, [-0.01 + 0.4999j, -0.01 - 0.4999j, -0.0312942, -7.98871], rtol=1e-4)


def test_dirac_gan_prints_null_for_infinite_phase_factor_and_a_table_without_json():
    result, lam = eigenvalues(run("--problem=dirac", "--method=gan", "--json"))
    assert result["zeta"] is None
    assert_each_close(lam, [0.5j, -0.5j], rtol=1e-9)
    proc = run("--problem=dirac", "--method=r1", "--gamma=0.3")
    assert proc.returncode == 0 and "phase factor" in proc.stdout and "{" not in proc.stdout


def test_bad_method_and_bad_option_are_clear_errors():
    proc = run("--method=sgd")
    assert proc.returncode == 2 and "valid methods" in proc.stderr and "jare" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run("--method=jare", "--clip=1")
    assert proc.returncode == 2 and "--clip" in proc.stderr
    proc = run("--problem=dirac", "--method=instance_noise", "--std=0.7", "--every=2")   # only --every is wrong
    assert proc.returncode == 2 and "does not take --every; it takes --std, --num_draws." in proc.stderr
    proc = run("--problem=linear_gaussian", "--method=instance_noise")
    assert proc.returncode == 2 and "instance noise is analysed on --problem=isotropic" in proc.stderr


def test_multi_stage_methods_report_the_spectral_radius_of_the_update_operator():
    """AltGD on the Dirac-GAN: |eigenvalues of ∂F_h| = 1 (Mescheder et al. 2018, Lemma 2.5): not convergent."""
    result, _ = eigenvalues(run("--problem=dirac", "--method=altgd", "--step_size=0.2", "--json"))
    assert abs(result["spectral_radius"] - 1.0) < 1e-9 and result["converges"] is False
    assert result["eta_max"] is None


def test_wgan_gp_at_a_non_differentiable_equilibrium_is_refused():
    proc = run("--problem=dirac", "--method=wgan_gp", "--gamma=0.7")
    assert proc.returncode == 2 and "not differentiable" in proc.stderr


def test_every_gives_the_lazy_operator_and_its_dirac_closed_form():
    """--every=4 on the Dirac-GAN: ρ of the 4-iteration operator and its rate per iteration equal the closed
    form (closed_forms.dirac_lazy_jare_rate) to float precision; γ = 10 at η = 0.2 is past the stable window."""
    for gamma, converges in ((1.0, True), (10.0, False)):
        result, _ = eigenvalues(run("--problem=dirac", "--method=jare", f"--gamma={gamma}", "--every=4",
                                    "--step_size=0.2", "--json"))
        rate = cf.dirac_lazy_jare_rate(gamma, 4, 0.2)
        assert result["every"] == 4 and result["operator"] == "lazy_operator(every=4, h=0.2)"
        assert abs(result["rate_per_iteration"] - rate) <= 1e-12 * rate
        assert abs(result["spectral_radius"] - rate ** 4) <= 1e-12 * rate ** 4
        assert result["converges"] is converges
    proc = run("--problem=dirac", "--method=jare", "--every=0")
    assert proc.returncode == 2 and "--every" in proc.stderr


def test_workdir_gives_the_krylov_spectrum_of_a_trained_image_run(tmp_path):
    """A setting C run (fake data, 2 steps): the top 4 eigenvalues of its applied update at a checkpoint, each
    with a residual that says it converged, and the cost; a missing step is a named error."""
    workdir = tmp_path / "C_gan"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    train = subprocess.run([sys.executable, "-m", "jare_tf.train", "--setting=C", "--method=gan", "--fake_data",
                            "--batch_size=2", "--num_steps=2", "--checkpoint_every=1",
                            "--config.steps_per_execution=1", f"--workdir={workdir}"],
                           capture_output=True, text=True, env=env, timeout=600)
    assert train.returncode == 0, train.stderr[-2000:]
    proc = run(f"--workdir={workdir}", "--step=1", "--k=4", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["step"] == 1 and result["checkpoint"].endswith("ckpt-1") and result["parameters"] > 600_000
    lam = np.array([complex(re, im) for re, im in result["eigenvalues"]])
    assert len(lam) == 4 and all(result["converged"]) and result["matvecs"] > 4
    assert max(result["residuals"]) <= 3.5e-4 * np.abs(lam).max()      # √ε of float32: the converged rule
    missing = run(f"--workdir={workdir}", "--step=7")
    assert missing.returncode == 2 and "no checkpoint at that step (it has 0, 1, 2)" in missing.stderr


def test_linear_gaussian_problem_checks_lemma_3_and_theorem_5():
    """Sec. 6 through the command: Lemma 3's blocks to float precision, and JARE's λ/γ at γ = 10⁴ within 2% of
    −λ(PᵀP) (Theorem 5); the extreme case c = 4/(σ²s²) = 100 gives the table's predicted ζ = √99."""
    result, lam = eigenvalues(run("--problem=linear_gaussian", "--method=jare", "--gamma=1e4", "--variances=1,0.5",
                                  "--json"))
    sec6 = result["sec6"]
    assert max(sec6["lemma3_relative_error"].values()) <= 1e-12
    assert sec6["theorem4"]["violation"] <= 1e-12 and sec6["theorem4"]["zero_eigenvalues"] == 1
    assert 0 < sec6["theorem5_relative_error"] < 0.02 and lam.size == 11
    proc = run("--problem=linear_gaussian", "--method=gan", "--sigma2=1", "--disc_scale=0.2")
    assert proc.returncode == 0 and "predicted ζ = 9.94987" in proc.stdout
    assert "phase factor ζ  9.94987" in proc.stdout


def test_operator_optimizer_gives_the_linearised_optimizer_step_of_a_trained_image_run(tmp_path):
    """A setting C run (fake data, 2 steps, Adam) that logs the optimizer step's spectrum at step 2
    (--config.spectrum_operator=optimizer): TensorBoard holds spectrum/eta_max_momentum, and jare-spectrum
    --operator=optimizer at step 2 gives 4 converged Ritz values (residual ≤ √ε₃₂·max|λ|), the preconditioner
    and the momentum bound. Refused in one line each: step 0 (no step taken), a toy run (no optimizer slots), a
    multi-stage method (AltGD, before anything loads), an unknown --config.spectrum_operator, and the optimizer
    operator without --workdir."""
    import glob

    import tensorflow as tf
    workdir = tmp_path / "C_gan"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")

    def train(*args):
        return subprocess.run([sys.executable, "-m", "jare_tf.train", *args], capture_output=True, text=True,
                              env=env, timeout=600)

    proc = train("--setting=C", "--method=gan", "--fake_data", "--batch_size=2", "--num_steps=2",
                 "--checkpoint_every=1", "--config.steps_per_execution=1", "--config.spectrum_every=2",
                 "--config.spectrum_k=3", "--config.spectrum_operator=optimizer", f"--workdir={workdir}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    tags = {(e.step, v.tag) for f in glob.glob(str(workdir / "train" / "events*"))
            for e in tf.compat.v1.train.summary_iterator(f) for v in e.summary.value}
    assert {(2, "spectrum/eta_max_momentum"), (2, "spectrum/max_abs")} <= tags

    proc = run(f"--workdir={workdir}", "--step=2", "--k=4", "--operator=optimizer", "--json")
    result, lam = eigenvalues(proc)
    assert result["operator"] == "matrix_free(linearised optimizer step)" and result["step"] == 2
    assert len(lam) == 4 and all(result["converged"])
    assert max(result["residuals"]) <= 3.5e-4 * np.abs(lam).max()
    opt = result["optimizer"]
    assert opt["names"] == ["adam", "adam"] and opt["iterations"] == 2 and opt["momentum"] == 0.5
    assert opt["learning_rate"] == 1e-4 and opt["learning_rate_ratios"] == [1.0, 1.0]
    assert opt["momentum_gain"] == (1 - 0.5) / (1 - 0.5 ** 2) and set(opt["preconditioner"]) == {"g", "d"}
    assert "eta_max_momentum" in result and isinstance(result["stable_at_learning_rate"], bool)
    table = run(f"--workdir={workdir}", "--step=2", "--k=2", "--operator=optimizer")
    assert table.returncode == 0 and "the linearised optimizer step" in table.stdout
    assert "adam/adam at iteration 2" in table.stdout and "η_max (β = 0.5)" in table.stdout

    def refused(proc, *parts):
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and all(p in lines[-1] for p in parts), proc.stderr[-2000:]

    refused(run(f"--workdir={workdir}", "--step=0", "--operator=optimizer"),
            "ckpt-0 has taken no step (iteration count 0")
    toy = tmp_path / "iso_gan"
    assert train("--setting=isotropic", "--method=gan", "--num_steps=2", f"--workdir={toy}").returncode == 0
    refused(run(f"--workdir={toy}", "--operator=optimizer"), "is a toy run", "not the optimizers' slots")
    alt = tmp_path / "iso_altgd"
    assert train("--setting=isotropic", "--method=altgd", "--num_steps=2", f"--workdir={alt}").returncode == 0
    refused(run(f"--workdir={alt}", "--operator=optimizer"), "--method=altgd updates in stages (d×1, g×1)")
    refused(train("--setting=isotropic", "--method=altgd", "--config.spectrum_operator=optimizer",
                  f"--workdir={tmp_path / 'x'}"), "--config.spectrum_operator=optimizer: --method=altgd")
    refused(train("--setting=C", "--method=gan", "--config.spectrum_operator=optimiser",
                  f"--workdir={tmp_path / 'y'}"), "(did you mean 'optimizer'?)")
    refused(run("--problem=dirac", "--operator=optimizer"), "it needs --workdir")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
