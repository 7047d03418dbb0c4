"""Training: per-player optimizers and the updater that applies a Method's directions."""
