"""jare-bench, seconds per 1K training iterations side by side (the command and its docstring: `cli`).

One module per concern: `parsing` (the --methods syntax, configs, checks before anything is built), `timing`
(a method built as training builds it, and the interleaved rounds), `flops` (the GFLOP column), `memory` (peak
memory), `contention` (rounds other processes disturbed) and `report` (tables and docs/results/speed.md).
"""

from jare_tf.bench.cli import main, run
from jare_tf.bench.contention import Contention
from jare_tf.bench.flops import op_flop, step_flop
from jare_tf.bench.memory import Memory
from jare_tf.bench.parsing import (BASELINE, UsageError, check_methods, default_xla, load_config,
                                   parse_methods, parse_steps_for, steps_per_execution)
from jare_tf.bench.report import PUBLIC, findings, render, rounds_text, table, write_report
from jare_tf.bench.timing import SECOND_ORDER, Case, _real_source, bench_setting

__all__ = ["BASELINE", "Case", "Contention", "Memory", "PUBLIC", "SECOND_ORDER", "UsageError",
           "_real_source", "bench_setting", "check_methods", "default_xla", "findings", "load_config", "main",
           "op_flop", "parse_methods", "parse_steps_for", "render", "rounds_text", "run", "step_flop",
           "steps_per_execution", "table", "write_report"]
