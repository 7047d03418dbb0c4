r"""jare-spectrum: the spectrum of a method's game Jacobian at a known equilibrium.

    jare-spectrum --problem=isotropic --method=jare --gamma=10 --sigma2=0.04 --mu=4 --json
    jare-spectrum --problem=dirac --method=r1 --gamma=0.3
    jare-spectrum --problem=isotropic --method=jare --gamma=10 --every=4 --step_size=1e-3 --json
    jare-spectrum --problem=linear_gaussian --method=jare --gamma=100 --dim=2 --json   # Sec. 6, Lemma 3–Thm 5
    jare-spectrum --workdir=runs/C_jare --step=2000 --k=20 --which=imaginary     # a trained network, matrix-free

`isotropic` is the example of Sec. 4 of the JARE paper (x ~ N(v, σ²I), v = [0, …, μ], G(z) = z + φ,
D(x) = θᵀx, zero-sum vanilla loss) at (φ*, θ*) = (v, 0); `dirac` is the Dirac-GAN of Mescheder et al. 2018 at
(0, 0); `linear_gaussian` is a game satisfying Sec. 6's assumptions (an affine generator fitting N(μ, Σ), a
quadratic discriminator with D = 0 at θ*; analysis/general_gans.py), for which the output adds Lemma 3's blocks
computed from eq. 9 against the autodiff Jacobian, Theorem 4's form of the SimGD eigenvalues, the extreme cases'
predicted ζ and τ and, for --method=jare, the relative distance of λ/γ to Theorem 5's limit −λ(PᵀP).
Expectations are exact (moment-matched or Gauss–Hermite point sets, see `jare_tf.analysis.problems`). Single-stage
methods are analysed through the Jacobian A of their update vector field; methods with several stages (altgd,
wgan/wgan_gp with n_d > 1) through the update operator F_h of a plain gradient step h, reported as
(∂F_h/∂w − I)/h so that its eigenvalues compare with A's, together with the spectral radius of ∂F_h/∂w
(below 1 iff the iteration contracts locally at that h; η_max is then null). With --every=k (lazy
regularisation, methods/lazy.py) the operator is the k-iteration one, F = F_reg ∘ F_plainᵏ⁻¹ with plain steps of
--step_size, reported as (∂F/∂w − I)/(k·h), with its spectral radius ρ and the rate per iteration ρ^(1/k). With --json the last line of stdout is one JSON object
with `eigenvalues` ([re, im] pairs), `zeta`, `tau` and `eta_max` (null where infinite).

--workdir analyses a trained image run instead: its checkpoint (--step, default the latest) is loaded into the
run's own models, and the top --k eigenvalues of the Jacobian of the directions its method applies on that
step's minibatch (a lazy method's averaged over its cycle of k iterations: the exact method's) come from Krylov
iterations on the matrix-free operator (jare_tf/analysis/krylov.py), each with its residual; ζ and η_max are
over the converged ones, τ is not given (it needs the smallest eigenvalues). --operator=optimizer analyses the
step the run's optimizers take instead (jare_tf/analysis/optimizer_step.py): M = D·J, D = diag(r·P) the Adam or
RMSProp preconditioner held at the checkpoint's slots (r the players' learning-rate ratio), with η_max for the
momentum-free step and, with momentum, eta_max_momentum, the bound of the heavy-ball iteration on (w, m) that
M's eigenvalues give; multi-stage methods, toy runs and step 0 are refused.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import flags  # noqa: E402

from jare_tf import cli, config_checks  # noqa: E402
import numpy as np  # noqa: E402

from jare_tf import methods, settings  # noqa: E402  (TensorFlow is imported by compute(), after the names are checked)

PROBLEMS = ("isotropic", "dirac", "linear_gaussian")
DEFAULT_STEP = {"isotropic": 1e-3, "dirac": 0.2, "linear_gaussian": 1e-3}
#: Method options that may be given as flags; each is passed only when set on the command line.
METHOD_OPTIONS = ("std", "num_draws", "clip", "n_d", "n_g", "order", "target", "every")

flags.DEFINE_enum("problem", "isotropic", PROBLEMS, "Game at its equilibrium.")
flags.DEFINE_string("method", "jare", "Update rule (see --helpfull for the list in the error message).")
flags.DEFINE_float("gamma", 0.0, "Regularisation weight γ (½γ‖·‖² convention).")
flags.DEFINE_float("sigma2", 0.04, "isotropic: data and latent variance σ²; linear_gaussian: data variance "
                   "(Σ = σ²I unless --variances).")
flags.DEFINE_float("mu", 4.0, "isotropic, linear_gaussian: last coordinate of the data mean v = [0, …, μ].")
flags.DEFINE_integer("dim", 2, "isotropic: dimension n of data, latent, φ and θ; linear_gaussian: dimension d "
                     "of the data (d² + d generator and d + d(d+1)/2 discriminator parameters).")
flags.DEFINE_list("variances", None, "linear_gaussian: the diagonal of Σ (--dim values).")
flags.DEFINE_list("disc_variances", None, "linear_gaussian: the diagonal of Σ_D, the covariance the "
                  "discriminator's features whiten with (default Σ, which makes E[hhᵀ] = I and Q ∝ I).")
flags.DEFINE_float("latent_variance", 0.5, "linear_gaussian: κ² of z ~ N(0, κ²I); ½ with Σ = σ²I makes PᵀP ∝ I.")
flags.DEFINE_float("disc_scale", 1.0, "linear_gaussian: the discriminator's scale s (sets c = 4λ(PᵀP)/λ(Q)²).")
flags.DEFINE_enum("loss", None, ["vanilla", "wgan", "reverse_kl"],
                  "Loss family (default: wgan for wgan/wgan_gp, vanilla otherwise).")
flags.DEFINE_float("step_size", None, "Step h of the update operator for multi-stage methods "
                   "(default 1e-3 for isotropic, 0.2 for dirac).")
flags.DEFINE_float("std", None, "instance_noise: noise standard deviation.")
flags.DEFINE_integer("num_draws", None, "instance_noise: draws per example (the analysis uses exact moments).")
flags.DEFINE_float("clip", None, "wgan: clipping bound.")
flags.DEFINE_integer("n_d", None, "altgd/wgan/wgan_gp: discriminator steps per generator step.")
flags.DEFINE_integer("n_g", None, "altgd: generator steps per iteration.")
flags.DEFINE_string("order", None, "altgd: d_first or g_first.")
flags.DEFINE_float("target", None, "wgan_gp: target gradient norm g0.")
flags.DEFINE_integer("every", None, "Lazy regularisation (jare, conopt, gen_only, disc_only, r1, r2): the "
                     "regulariser with weight k·γ on one iteration in k; analysed through the k-iteration operator "
                     "F = F_reg ∘ F_plainᵏ⁻¹ with plain steps of --step_size.")
flags.DEFINE_bool("json", False, "Print one JSON object as the last line of stdout.")
flags.DEFINE_string("workdir", None, "A jare-train run: the top --k eigenvalues of its applied update at a "
                    "checkpoint (toy runs: their last step), matrix-free (Krylov); --problem and the game flags are "
                    "then not used.")
flags.DEFINE_integer("step", None, "--workdir: the checkpoint's step (default: the latest).")
flags.DEFINE_integer("k", 20, "--workdir: how many eigenvalues.")
flags.DEFINE_enum("which", "magnitude", ["magnitude", "imaginary"], "--workdir: largest |λ| or largest |Im λ| (the "
                  "Jacobian is real: its eigenvalues come in conjugate pairs), best first.")
flags.DEFINE_enum("operator", "field", ["field", "optimizer"], "--workdir: the Jacobian of the method's field "
                  "(field) or of the linearised optimizer step, the preconditioner held at the checkpoint "
                  "(optimizer).")
flags.DEFINE_bool("dense", False, "--workdir: also the dense spectrum of the same operator (at most 4,096 "
                  "parameters, e.g. mog_numerics), and each Ritz value's distance to it.")

FLAGS = flags.FLAGS


def build_method():
    options = {"gamma": FLAGS.gamma}
    options.update({name: FLAGS[name].value for name in METHOD_OPTIONS if FLAGS[name].present})
    unknown, accepted = settings.unknown_options(FLAGS.method, [k for k in options if k != "gamma"])
    if unknown:
        takes = [f"--{k}" for k in accepted if k in FLAGS and k != "gamma"] + (["--gamma"] if "gamma" in accepted
                                                                             else [])
        raise ValueError(f"--method={FLAGS.method} does not take {', '.join('--' + k for k in unknown)}; it takes "
                         f"{', '.join(takes) or 'no option flags'}.")
    return methods.method_class(FLAGS.method)(**options)


def compute() -> dict:
    from jare_tf.analysis import jacobian, problems, spectrum
    method = build_method()
    if method.name == "wgan_gp":
        raise ValueError("WGAN-GP's penalty (γ/2)(‖∇_x D‖ − g0)² is not differentiable where ∇_x D = 0, which is "
                         "the case at these equilibria (θ* = 0); its Jacobian there would only reflect the ε inside "
                         "the norm. Mescheder et al. 2018, Lemma C.3: WGAN-GP does not converge locally here.")
    if method.name == "instance_noise" and FLAGS.problem == "linear_gaussian":
        raise ValueError("--problem=linear_gaussian is Sec. 6's game, whose Lemma 3 compares the data and the "
                         "generator without noise, and whose exact batch matches Gaussian moments only up to degree "
                         "five; instance noise is analysed on --problem=isotropic or --problem=dirac.")
    family = FLAGS.loss or method.required_family or "vanilla"
    sec6 = None
    if FLAGS.problem == "isotropic":
        game, batch = problems.isotropic(FLAGS.mu, FLAGS.sigma2, FLAGS.dim, family=family)
    elif FLAGS.problem == "linear_gaussian":
        sec6 = linear_gaussian_game(family)
        game, batch = sec6.game()
    else:
        game, batch = problems.dirac(family=family)
    batch = problems.with_expected_inputs(method, batch)
    stages = method.stages()
    every = FLAGS.every or 1
    if FLAGS["every"].present:
        h = FLAGS.step_size or DEFAULT_STEP[FLAGS.problem]
        f = jacobian.lazy_operator_jacobian(method, game, batch, h)
        a = (f - np.eye(f.shape[0])) / (every * h)
        operator = f"lazy_operator(every={every}, h={h:g})"
    elif len(stages) == 1 and stages[0].repeats == 1:
        a = jacobian.vector_field_jacobian(method, game, batch)
        operator = "vector_field"
    else:
        h = FLAGS.step_size or DEFAULT_STEP[FLAGS.problem]
        f = jacobian.update_operator_jacobian(method, game, batch, h)
        a = (f - np.eye(f.shape[0])) / h
        operator = f"update_operator(h={h:g})"
    result = spectrum.analyse(a).to_json()
    if operator != "vector_field":
        # For a discrete operator the question is its spectral radius at this h, not a step-size bound.
        radius = spectrum.spectral_radius(f)
        result.update(eta_max=None, spectral_radius=radius, converges=radius < 1 - 1e-12)
        if FLAGS["every"].present:
            result.update(every=every, step_size=h, rate_per_iteration=radius ** (1.0 / every))
    result.update(problem=FLAGS.problem, method=FLAGS.method, gamma=FLAGS.gamma, loss=family, operator=operator)
    if sec6 is not None:
        result["sec6"] = sec6_checks(sec6, method, np.array([complex(*l) for l in result["eigenvalues"]]))
    return result


def _diagonal(name: str, values):
    if values is None:
        return None
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        raise ValueError(f"--{name}={','.join(values)}: give {FLAGS.dim} comma-separated numbers.") from None
    if len(numbers) != FLAGS.dim or not all(0 < v < float("inf") for v in numbers):
        raise ValueError(f"--{name}={','.join(values)}: give --dim={FLAGS.dim} positive finite variances.")
    return np.diag(numbers)


def linear_gaussian_game(family: str):
    from jare_tf.analysis import general_gans
    if not 1 <= FLAGS.dim <= general_gans.MAX_DIM:
        raise ValueError(f"--dim={FLAGS.dim}: linear_gaussian needs 1 <= dim <= {general_gans.MAX_DIM} (its exact "
                         f"batch has 6^dim points).")
    mean = np.zeros(FLAGS.dim)
    mean[-1] = FLAGS.mu
    cov = _diagonal("variances", FLAGS.variances)
    cov = FLAGS.sigma2 * np.eye(FLAGS.dim) if cov is None else cov
    return general_gans.LinearGaussian(mean, cov, FLAGS.latent_variance, FLAGS.disc_scale,
                                       _diagonal("disc_variances", FLAGS.disc_variances), family)


def sec6_checks(spec, method, eigenvalues: np.ndarray) -> dict:
    """Lemma 3, Theorem 4 and the extreme cases (general_gans.simgd_checks) and, for JARE, Theorem 5's limit at
    this γ."""
    from jare_tf.analysis import general_gans
    out = general_gans.simgd_checks(spec)
    if method.name == "jare" and FLAGS.gamma > 0 and not FLAGS["every"].present:
        p, q = spec.lemma3_formulas()
        out["theorem5_relative_error"] = general_gans.theorem5_error(
            eigenvalues, FLAGS.gamma, general_gans.theorem5_limit(p, q))
    return out


def workdir_table(result: dict) -> str:
    lines = [f"{result['method']} on {result['setting']}: {result['checkpoint']} (step {result['step']}, "
             f"{result['parameters']:,} parameters), top {result['k']} by {result['which']}, matrix-free"
             + (", the linearised optimizer step" if "optimizer" in result else "")
             + (f" (--k={result['k_asked']}: the run has {result['parameters']} parameters)"
                if result["k"] < result["k_asked"] else ""),
             "  eigenvalue                          residual ‖Jx − λx‖/‖x‖"]
    for (re, im), res, ok in zip(result["eigenvalues"], result["residuals"], result["converged"]):
        lines.append(f"    {re:+.6g} {im:+.6g}i".ljust(38) + f"{res:.2e}" + ("" if ok else "  (not converged)"))
    zeta, eta = result["zeta"], result["eta_max"]
    lines += [f"  phase factor ζ  {'inf' if zeta is None else f'{zeta:.6g}'}  (over the converged ones)",
              f"  η_max           {'inf' if eta is None else f'{eta:.6g}'}"
              + ("  (the momentum-free step η·M)" if "optimizer" in result else ""),
              f"  cost            {result['matvecs']} operator products, {result['seconds']:.1f} s"]
    if "optimizer" in result:
        opt = result["optimizer"]
        ranges = "; ".join(f"{player} [{lo:.3g}, {hi:.3g}] (median {mid:.3g})"
                           for player, (lo, mid, hi) in opt["preconditioner"].items())
        lines.insert(-1, f"  optimizers      {'/'.join(opt['names'])} at iteration {opt['iterations']}, "
                         f"η = {opt['learning_rate']:g}; D = diag(r·P): {ranges}")
        if opt["momentum"]:
            bound = result["eta_max_momentum"]
            lines.insert(-1, f"  η_max (β = {opt['momentum']:g}) {'inf' if bound is None else f'{bound:.6g}'}  "
                             f"(with momentum, gain {opt['momentum_gain']:.4g})")
        if result["stable_at_learning_rate"] is not None:
            lines.insert(-1, f"  at η = {opt['learning_rate']:g}   "
                             + ("below the bound for the converged values" if result["stable_at_learning_rate"]
                                else "unstable: a converged value lies outside the stability region"))
    if "ritz_to_dense" in result:
        gaps = [g for g, ok in zip(result["ritz_to_dense"], result["converged"]) if ok]
        lines.append(f"  dense check     largest |λ| {result['dense_max_abs']:.6g}; each converged Ritz value "
                     f"within {max(gaps, default=float('nan')):.1e}·max|λ| of a dense eigenvalue")
    return "\n".join(lines)


def table(result: dict) -> str:
    lines = [f"{result['method']} on {result['problem']} (γ = {result['gamma']:g}, loss {result['loss']}, "
             f"{result['operator']})", "  eigenvalues:"]
    lines += [f"    {re:+.6g} {im:+.6g}i" for re, im in result["eigenvalues"]]
    for key, label in (("zeta", "phase factor ζ"), ("tau", "conditioning τ"), ("eta_max", "η_max"),
                       ("spectral_radius", "ρ(∂F_h)"), ("rate_per_iteration", "rate ρ^(1/k)")):
        if key not in result:
            continue
        value = result[key]
        shown = ("n/a (see ρ(∂F_h))" if key == "eta_max" and "spectral_radius" in result
                 else "inf" if value is None else f"{value:.6g}")
        lines.append(f"  {label:15s} {shown}")
    if "converges" in result:
        lines.append(f"  locally convergent at this h: {'yes' if result['converges'] else 'no'}")
    if "sec6" in result:
        lines += sec6_table(result["sec6"])
    return "\n".join(lines)


def sec6_table(sec6: dict) -> list:
    err, t4, ex = sec6["lemma3_relative_error"], sec6["theorem4"], sec6["extreme_cases"]
    lines = [f"  Sec. 6 ({sec6['generator_parameters']} generator, {sec6['discriminator_parameters']} discriminator "
             f"parameters, rank P = {sec6['rank_p']}):",
             "    Lemma 3, autodiff SimGD Jacobian vs eq. 9 (relative): "
             + ", ".join(f"{k} {v:.1e}" for k, v in err.items()),
             f"    Theorem 4: a1 in [{t4['a1_range'][0]:.6g}, {t4['a1_range'][1]:.6g}], a2 in "
             f"[{t4['a2_range'][0]:.6g}, {t4['a2_range'][1]:.6g}]; largest violation {t4['violation']:.1e}; "
             f"{t4['zero_eigenvalues']} zero eigenvalues"]
    if ex["c"] is not None:
        lines.append(f"    extreme cases: c = {ex['c']:.6g}, c′ = {ex['c_prime']:.6g}"
                     + (f", predicted ζ = {ex['predicted_zeta']:.6g}" if ex["predicted_zeta"] is not None else "")
                     + (f", predicted τ = {ex['predicted_tau']:.6g}" if ex["predicted_tau"] is not None else "")
                     + (" (exact: Q and PᵀP are multiples of I)" if ex["scalar"] else " (Q or PᵀP not ∝ I)"))
    if "theorem5_relative_error" in sec6:
        lines.append(f"    Theorem 5: max|λ/γ − (−λ(PᵀP) ∪ −λ(PPᵀ))| / max λ(PᵀP) = "
                     f"{sec6['theorem5_relative_error']:.3e}")
    return lines


def main(argv):
    if len(argv) > 1:
        print(f"jare-spectrum: error: unexpected arguments {argv[1:]} (every input is a --flag).", file=sys.stderr)
        return 2
    if FLAGS.method not in methods.names():
        print(f"jare-spectrum: error: unknown --method={FLAGS.method!r}; valid methods: "
              f"{', '.join(methods.names())}.", file=sys.stderr)
        return 2
    if FLAGS.workdir:
        try:
            config_checks.check_flags({"k": FLAGS.k, "step": FLAGS.step}, positive=("k",), non_negative=("step",))
            from jare_tf.training import run_spectrum
            result = run_spectrum.of_workdir(FLAGS.workdir, FLAGS.step, FLAGS.k, FLAGS.which, FLAGS.dense,
                                             FLAGS.operator)
        except ValueError as e:
            print(f"jare-spectrum: error: {e}", file=sys.stderr)
            return 2
        print(json.dumps(result) if FLAGS.json else workdir_table(result))
        return 0
    if FLAGS.operator == "optimizer":
        print("jare-spectrum: error: --operator=optimizer analyses a trained run's optimizer state; it needs "
              "--workdir (the equilibrium problems have no optimizer).", file=sys.stderr)
        return 2
    try:
        config_checks.check_flags({n: FLAGS[n].value for n in ("gamma", "sigma2", "mu", "dim", "step_size",
                                                               "latent_variance", "disc_scale", *METHOD_OPTIONS)},
                                  positive=("sigma2", "dim", "step_size", "std", "num_draws", "clip", "n_d", "n_g",
                                            "every", "latent_variance", "disc_scale"),
                                  non_negative=("gamma", "target"))
        if FLAGS.problem == "linear_gaussian":
            linear_gaussian_game(FLAGS.loss or "vanilla")      # its flags, checked before TensorFlow loads
        result = compute()
    except ValueError as e:
        print(f"jare-spectrum: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result) if FLAGS.json else table(result))
    return 0


def run():
    cli.run(main, __name__)


if __name__ == "__main__":
    run()
