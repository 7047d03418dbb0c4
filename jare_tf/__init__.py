"""jare_tf: JARE (Nie & Patel, UAI 2019) and the GAN training methods it builds on, in TensorFlow 2 / Keras.

The package is organised as DESIGN.md describes: a two-player game (`jare_tf.games`) is played by an update
rule (`jare_tf.methods`); `jare_tf.analysis` differentiates exactly the update that training applies.
"""

__version__ = "0.1.0"
