"""Discriminator-only gradient regularisation (JARE paper Sec. 5.1, "only regularising the discriminator").

    φ ← φ − η∇_φ f,   θ ← θ + η∇_θ f − ½ηγ∇_θ‖∇_φ f‖².

u_φ = g_φ, u_θ = g_θ + γ(∂g_φ/∂θ)ᵀg_φ; Γ = [[I, 0], [γ∇²_θφ f, I]] (the reference's `smooth` optimizer,
reference_spec B.7). Weight convention ½γ‖·‖². The generator loss it differentiates is
`Game.regularizer_generator_loss`.
"""

from jare_tf.methods import base, gradient_norms


@base.register("disc_only")
class DiscriminatorOnly(gradient_norms.GradientNormMethod):
    term = "discriminator"
