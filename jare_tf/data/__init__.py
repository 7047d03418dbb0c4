"""Data sources: synthetic toy data as stateless functions of a seed."""
