"""Generator-only gradient regularisation (Nagarajan & Kolter 2017, eq. 4; JARE paper Sec. 5.1).

    φ ← φ − η∇_φ f − ½ηγ∇_φ‖∇_θ f‖²,   θ ← θ + η∇_θ f.

u_φ = g_φ + γ(∂g_θ/∂φ)ᵀg_θ, u_θ = g_θ; Γ = [[I, −γ∇²_φθ f], [0, I]]. Weight convention: this package's
½γ‖·‖²; Nagarajan & Kolter write η‖∇_θ V‖² without the ½, so their η is γ/2 here (γ = 2η; their Fig. 1 uses
η = 0.5, i.e. γ = 1) (reference_spec F.3).
"""

from jare_tf.methods import base, gradient_norms


@base.register("gen_only")
class GeneratorOnly(gradient_norms.GradientNormMethod):
    term = "generator"
