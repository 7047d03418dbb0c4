"""Reproduction reports: experiment lists, runs, figures and the markdown under docs/results/."""
