"""Training: per-player optimizers, the Updater that applies a Method's directions, the toy and image trainers."""
