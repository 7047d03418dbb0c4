"""`jare-reproduce fashion_mnist`: the JARE paper's Fig. 3 comparison on Fashion-MNIST, as rooms with one job each:
grids.py (the grids and a run's config), runner.py (train, score and store runs; the report's entry point),
store.py (the sealed run records under docs/results/<report>/runs/), render.py with rules.py and figures.py (the
report as a pure function of the records), equivalence.py with fingerprint.py (training code compared by
trajectories: `--check_code`)."""
