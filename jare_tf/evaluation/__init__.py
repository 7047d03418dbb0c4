"""Evaluation: toy-setting metrics (parameter distances, trajectories, mode coverage)."""
