"""Theory as a tool: the game Jacobian of any Method, its spectrum (ζ, τ, η_max) and the papers' closed forms."""

from jare_tf.analysis.jacobian import update_operator_jacobian, vector_field_jacobian
from jare_tf.analysis.spectrum import Spectrum, analyse

__all__ = ["update_operator_jacobian", "vector_field_jacobian", "Spectrum", "analyse"]
