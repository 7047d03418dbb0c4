"""jare-bench end to end, as a user runs it (a subprocess; with --json the last stdout line is the JSON object)."""

import json
import os
import subprocess
import sys

import pytest

from jare_tf import bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args):
    # The BFC allocator keeps statistics on the CPU too, so peaks are the allocator's, not the noisy RSS.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_CPU_ALLOCATOR_USE_BFC="true")
    return subprocess.run([sys.executable, "-m", "jare_tf.bench", *args], capture_output=True, text=True, env=env,
                          timeout=300, cwd=ROOT)


def test_a_tiny_benchmark_reports_every_method_and_writes_the_report(tmp_path):
    report = tmp_path / "speed.md"
    proc = run("--setting=C", "--fake_data", "--batch_size=4", "--steps=2", "--repeats=2", "--methods=jare,conopt",
               "--max_contention=1", "--json", "--report", f"--report_path={report}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert list(result) == ["gan", "jare", "conopt"]            # gan is added as the baseline, first
    for method, figures in result.items():
        assert set(figures) == {"sec_per_1k", "ratio_to_gan", "peak_mem_mb"}, method
        assert all(isinstance(v, float) and v > 0 for v in figures.values()), (method, figures)
    assert result["gan"]["ratio_to_gan"] == 1.0
    # Second-order methods do more work per step than plain gradients, even at batch 4.
    assert result["jare"]["ratio_to_gan"] > 1.0 and result["conopt"]["ratio_to_gan"] > 1.0
    assert "memory: TensorFlow allocator peak on CPU:0" in proc.stdout
    # Double backprop keeps the first backward pass' activations alive: more working memory than gan's step.
    assert result["jare"]["peak_mem_mb"] > result["gan"]["peak_mem_mb"]
    text = report.read_text()
    assert "jare-bench --setting=C --fake_data --batch_size=4" in text and "Machine:" in text
    assert "- Source: jare_tf 0.1.0, commit " in text
    assert "| C | " in text and "| conopt | " in text and "jare/gan" in text
    sections = json.loads((tmp_path / "speed.json").read_text())
    assert len(sections) == 1 and set(sections[0]["results"]["C"]) == {"gan", "jare", "conopt"}


def test_an_unknown_method_fails_early_with_status_2_naming_the_flag():
    proc = run("--fake_data", "--methods=gan,jaer")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "--methods: unknown method 'jaer'; valid methods: altgd" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("call, message", [
    (lambda: bench.parse_methods("jare:hvp"), "option 'hvp' of jare must read option=value"),
    (lambda: bench.parse_methods("jare,jare"), "'jare' is listed twice"),
    (lambda: bench.check_methods(bench.load_config("C", 8, None, None), bench.parse_methods("jare:hvp=sideways")),
     "--methods: jare:hvp=sideways: Unknown hvp='sideways'"),
    (lambda: bench.check_methods(bench.load_config("C", 8, None, None), bench.parse_methods("gan:n_d=2")),
     "--methods: gan:n_d=2: gan has no option n_d; its options: none."),
    (lambda: bench.check_methods(bench.load_config("C", 8, None, None), bench.parse_methods("jare:evry=4")),
     "--methods: jare:evry=4: jare has no option evry; its options: gamma, hvp, every."),
    (lambda: bench.load_config("isotropic", None, None, None), "toy setting"),
    (lambda: bench.load_config("Z", None, None, None), "Unknown --setting='Z'"),
    (lambda: bench.steps_per_execution(bench.load_config("C", None, None, None), 3, 2),
     "--steps=3 must be a multiple of --steps_per_execution=2"),
    (lambda: bench.parse_steps_for("E=4"), "must read SETTING:STEPS"),
    (lambda: bench._real_source(bench.load_config("C", 4, "/nonexistent/tfds", None), False), "is not prepared"),
])
def test_bad_input_is_a_usage_error_that_says_why(call, message):
    with pytest.raises(bench.UsageError) as info:
        call()
    assert message in str(info.value)


def test_method_options_parse_as_python_values_and_gan_leads():
    specs = bench.parse_methods("jare:hvp=forward:gamma=10, conopt")
    assert specs == [("gan", "gan", {}), ("jare:hvp=forward:gamma=10", "jare", {"hvp": "forward", "gamma": 10}),
                     ("conopt", "conopt", {})]
    assert bench.steps_per_execution(bench.load_config("C", None, None, None), 4, None) == 4   # capped at --steps


def test_step_flop_counts_what_runs_once_including_nested_functions():
    import tensorflow as tf
    x = tf.zeros([2, 8, 8, 3])
    w = tf.zeros([3, 3, 3, 4])
    a, b = tf.zeros([5, 6]), tf.zeros([6, 7])

    @tf.function
    def inner(p, q):
        return tf.matmul(p, q)

    @tf.function
    def step(x, w, a, b):
        y1 = tf.nn.conv2d(x, w, 1, "SAME")
        y2 = tf.nn.conv2d(x, w, 1, "SAME")             # the same computation: runs once
        unused = tf.nn.conv2d(x, w, 2, "SAME")         # not needed by any output: pruned
        del unused
        return y1 + y2, inner(a, b), inner(a, b)

    graph = step.get_concrete_function(x, w, a, b).graph
    conv = 2 * (2 * 8 * 8 * 4) * 3 * 3 * 3             # 2·|y|·k_h·k_w·C_in
    matmul = 2 * 5 * 7 * 6
    assert bench.step_flop(graph) == conv + matmul


def test_contention_counts_other_processes_cpu_time():
    """A busy child process shows up as contention; this process' own work does not."""
    import time
    probe = bench.Contention()
    if not probe.available:
        pytest.skip("no /proc/stat")
    child = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 1.5: pass"])
    try:
        time.sleep(0.3)
        probe.start()
        time.sleep(0.8)
        share = probe.stop()
    finally:
        child.wait()
    assert share >= 0.6 / probe.cpus, share        # the child keeps one of the CPUs busy


def test_max_minutes_bounds_a_benchmark_on_a_busy_machine():
    """Every round counts as contended (max_contention < 0): the busy machine is named after the first round,
    and no round starts after --max_minutes, instead of retrying up to max_rounds."""
    config = bench.load_config("C", 4, None, None)
    lines = []
    results, info = bench.bench_setting(config, bench.parse_methods("gan"), 2, 5, 2, False, False, True,
                                        lines.append, "C", max_contention=-1.0, max_rounds=15, max_minutes=1e-6)
    assert info["rounds"] == 1 and info["timed_out"] and results["gan"]["sec_per_1k"] > 0
    assert any("the machine is busy" in line for line in lines)
    assert "stopped by --max_minutes" in bench.rounds_text(info)
