"""Keras models of the players: toy games here; the image networks of settings A–F come with their own modules."""
