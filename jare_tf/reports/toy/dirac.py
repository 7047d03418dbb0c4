"""Section dirac: the Dirac-GAN, Table 1 and Fig. 3 of Mescheder et al. 2018, and the JARE paper's Appendix C."""

import os

import matplotlib.pyplot as plt

from jare_tf.reports.toy.common import Fragment, fmt, slugify

# (label, method, overrides) — the rows of Table 1 and Fig. 3 of Mescheder et al. 2018 and of Appendix C.
DIRAC_RUNS = [
    ("GAN", "gan", {}),
    ("non-saturating GAN", "gan", {"game.generator_loss": "non_saturating"}),
    ("WGAN (clip 1)", "wgan", {}),
    ("WGAN-GP (γ 0.7, g0 1)", "wgan_gp", {}),
    ("instance noise (σ 0.7)", "instance_noise", {}),
    ("R1 (γ 0.3)", "r1", {}),
    ("R2 (γ 0.3)", "r2", {}),
    ("gradient penalty at the critical γ = 1 (R1)", "r1", {"method.options.r1.gamma": 1.0}),
    ("ConOpt (γ 1)", "conopt", {}),
    ("JARE (γ 1)", "jare", {}),
    ("AltGD (n_d = 5)", "altgd", {"method.options.altgd.n_d": 5}),
    ("ConOpt, large γ = 4 (Appendix C)", "conopt", {"method.options.conopt.gamma": 4.0}),
    ("JARE, γ = 10 (Appendix C)", "jare", {"method.options.jare.gamma": 10.0}),
]


def dirac(out: Fragment):
    out.lines += ["## Dirac-GAN (Mescheder et al. 2018, Table 1 and Fig. 3; JARE paper Appendix C)", "",
                  "Start (φ₀, θ₀) = (1, −1), which is Mescheder et al.'s θ₀ = ψ₀ = 1 (their discriminator "
                  "scores fakes high), step 0.2, 1,000 steps, simultaneous unless stated. distance_ratio = final "
                  "over initial distance to (0, 0); tail_mean_ratio = mean distance over the last 20% of "
                  "steps over the initial one.", "",
                  "| run | distance_ratio | tail_mean_ratio | converges |", "|---|---|---|---|"]
    fig, ax = plt.subplots(figsize=(6.4, 6.4), constrained_layout=True)
    for label, method, overrides in DIRAC_RUNS:
        slug = slugify(label)
        _, result, history = out.run("dirac", method, os.path.join(out.workdir, "dirac", slug), overrides)
        converges = result["distance_ratio"] < 0.1
        out.lines.append(f"| {label} | {fmt(result['distance_ratio'])} | {fmt(result['tail_mean_ratio'])} | "
                         f"{'yes' if converges else 'no'} |")
        ax.plot(history["phi"], history["theta"], lw=0.8, label=label)
    ax.set_xlim(-2.5, 2.5)
    ax.set_ylim(-2.5, 2.5)
    ax.set_xlabel("φ (generator position)")
    ax.set_ylabel("θ (discriminator slope)")
    ax.legend(fontsize=6)
    out.lines.append("")
    out.figure(fig, "dirac_trajectories.png", "Dirac-GAN trajectories")
