"""JARE, the Jacobian regularisation of the JARE paper (eq. 7, Sec. 6).

    φ ← φ − η∇_φ f − ½ηγ∇_φ‖∇_θ f‖²,      θ ← θ + η∇_θ f − ½ηγ∇_θ‖∇_φ f‖².

In loss form (L_D = −f): u_φ = g_φ + γ(∂g_θ/∂φ)ᵀg_θ and u_θ = g_θ + γ(∂g_φ/∂θ)ᵀg_φ — only the two cross
Hessian–vector products, never ∇²_φφ or ∇²_θθ (the difference from ConOpt). Its regularisation matrix is
Γ = [[I, −γ∇²_φθ f], [γ∇²_θφ f, I]] (Sec. 6) and, on the isotropic example, the Jacobian has the eigenvalues of
Theorem 3. Weight convention: ½γ‖·‖², as the paper and the reference code (reference_spec B.5).

Which generator loss the discriminator term differentiates is `Game.regularizer_generator_loss`: the reference
CIFAR code uses the non-saturating gradient (reference_spec B.6), eq. (7) uses ∇_φ f ("minimax").

Option `hvp`: "reverse" (default) or "forward" — how the two cross products are taken (reverse-over-reverse
through the recorded first-order pass, or forward-over-reverse with `tf.autodiff.ForwardAccumulator`); the
directions are the same, the cost differs (`gradient_norms`, docs/results/speed.md).
"""

from jare_tf.methods import base, gradient_norms


@base.register("jare")
class JARE(gradient_norms.GradientNormMethod):
    term = "both"
