"""Consensus optimisation (Mescheder, Nowozin & Geiger 2017, eq. 13–14, Alg. 2; JARE paper Sec. 5.1).

    w ← w + η∇̃f − ½ηγ∇‖∇f‖²,   ∇̃f = (−∇_φ f, ∇_θ f).

In loss form: R = ½(‖g_θ‖² + ‖g_φ‖²) and u = g + γ∇R for both players, so ∇R contains the diagonal Hessian
terms ∇²_θθL_D·g_θ and ∇²_φφL_G·g_φ besides the cross terms (reference_spec B.4). Regularisation matrix
Γ = [[I + γ∇²_φφ f, −γ∇²_φθ f], [γ∇²_θφ f, I − γ∇²_θθ f]] (JARE paper Sec. 5.1); with a large γ it can
reverse the gradient flow (Appendix C). Weight convention: ½γ‖·‖², as the paper (the ConOpt code's class default
0.1 is overridden to 10).

Option `hvp`: "reverse" (default) or "forward" — reverse-over-reverse through the recorded first-order pass, or
forward-over-reverse (`tf.autodiff.ForwardAccumulator`, one tangent pass per player's gradient); the directions
are the same, the cost differs (`gradient_norms`, docs/results/speed.md).
"""

from jare_tf.methods import base, gradient_norms


@base.register("conopt")
class ConOpt(gradient_norms.GradientNormMethod):
    term = "consensus"
