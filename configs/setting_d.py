"""Setting D: the DCGAN-like model of setting C with RMSProp (reference semantics: ρ 0.9, ε 1e-10 inside the
root, accumulator starting at 1; reference_spec A.2, G.6)."""

from . import image


def get_config():
    c = image.base("setting_d", "dcgan4_nobn")
    c.optimizer.g = {"name": "rmsprop", "learning_rate": 1e-4}
    c.optimizer.d = {"name": "rmsprop", "learning_rate": 1e-4}
    return c
