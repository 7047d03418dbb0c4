# `python -m jare_tf.bench`: the jare-bench command (no docstring here, so that --help shows the command's).

from jare_tf.bench.cli import run

run()
