"""The two-player game: loss families (Sec. 3.1) and the Game bundle."""

from jare_tf.games.game import Game, Players
from jare_tf.games.losses import FAMILIES, GENERATOR_LOSSES, LossFamily, get_family

__all__ = ["Game", "Players", "FAMILIES", "GENERATOR_LOSSES", "LossFamily", "get_family"]
