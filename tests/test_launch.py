"""launch/: the sweep expands methods × settings × seeds, the shell launchers build the right commands (checked
with DRY_RUN=1, which prints instead of running) and refuse bad arguments. The multi-worker launcher is also run
for real in tests/training/test_distributed.py."""

import json
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def launch(script, *args, **env):
    return subprocess.run(["bash", os.path.join(ROOT, "launch", script), *args], capture_output=True, text=True,
                          env=dict(os.environ, **env), timeout=60)


def sweep(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "launch", "sweep.py"), *args], capture_output=True,
                          text=True, timeout=60)


def test_sweep_prints_one_command_per_setting_method_and_seed():
    proc = sweep("--settings=A,C", "--methods=gan,conopt,jare", "--seeds=1,2", "--root=runs/s", "--",
                 "--fake_data", "--num_steps=5")
    assert proc.returncode == 0, proc.stderr
    commands = [shlex.split(line) for line in proc.stdout.strip().splitlines()]
    assert len(commands) == 12
    combos = {(c[1], c[2], c[3]) for c in commands}
    assert len(combos) == 12 and ("--setting=C", "--method=jare", "--seed=2") in combos
    workdirs = [c[4] for c in commands]
    assert len(set(workdirs)) == 12 and "--workdir=runs/s/C/jare/seed2" in workdirs
    assert all(c[0] == "jare-train" and c[-2:] == ["--fake_data", "--num_steps=5"] for c in commands)


def test_sweep_refuses_unknown_settings_and_methods_before_printing():
    for args, message in ((["--settings=C,Z", "--methods=jare"], "--settings: unknown Z"),
                          (["--settings=C", "--methods=jare,simgd"], "--methods: unknown simgd")):
        proc = sweep(*args, "--root=runs/s")
        assert proc.returncode == 2 and message in proc.stderr and "valid" in proc.stderr and not proc.stdout


def test_sweep_runs_through_a_launcher_and_reports_failures():
    proc = sweep("--settings=C", "--methods=gan,jare", "--root=r", "--launcher=echo", "--run")
    assert proc.returncode == 0
    # each command printed once by the sweep and once by the launcher (echo) that ran it
    assert proc.stdout.count("echo C jare r/C/jare/seed125 --seed=125") == 1
    assert proc.stdout.count("C jare r/C/jare/seed125 --seed=125") == 2
    proc = sweep("--settings=C", "--methods=gan", "--root=r", "--launcher=false", "--run")
    assert proc.returncode == 1 and "1 run(s) failed" in proc.stderr
    assert sweep("--settings=C", "--methods=gan", "--root=r", "--seeds=x").returncode == 2
    assert sweep("--settings=C", "--methods=gan", "--root=r", "--launcher=launch/tpu_pod.sh").returncode == 2
    proc = sweep("--settings=C", "--methods=gan", "--root=r", "--launcher=/nonexistent.sh", "--run")
    assert proc.returncode == 2 and "not an executable" in proc.stderr and "Traceback" not in proc.stderr


def test_launchers_build_the_strategy_commands():
    proc = launch("multi_gpu.sh", "A", "jare", "runs/a", "--batch_size=256", DRY_RUN="1")
    command = shlex.split(proc.stdout)
    assert proc.returncode == 0 and command[:4] == ["jare-train", "--setting=A", "--method=jare", "--workdir=runs/a"]
    assert sorted(command[4:]) == ["--batch_size=256", "--strategy=mirrored"]
    assert launch("multi_gpu.sh", "A", "jare", DRY_RUN="1").returncode == 2
    proc = launch("multi_worker.sh", "h1:2222,h2:2222,h3:2222", "2", "C", "conopt", "gs://b/r", DRY_RUN="1")
    assert proc.returncode == 0, proc.stderr
    command = shlex.split(proc.stdout)       # one line that can be pasted into a shell
    assert command[0] == "env" and command[2:5] == ["jare-train", "--setting=C", "--method=conopt"]
    config = json.loads(command[1].split("=", 1)[1])
    assert config == {"cluster": {"worker": ["h1:2222", "h2:2222", "h3:2222"]}, "task": {"type": "worker", "index": 2}}
    assert "--strategy=multi_worker" in command
    assert launch("multi_worker.sh", "h1:2222", "first", "C", "gan", "w", DRY_RUN="1").returncode == 2
    assert launch("multi_worker.sh", "h1:2222,h2:2222", "2", "C", "gan", "w", DRY_RUN="1").returncode == 2
    assert launch("local.sh", "C", DRY_RUN="1").returncode == 2
    # Hosts that would make TF_CONFIG invalid JSON or give the cluster an empty worker, and a flag where the
    # workdir belongs, are refused with the argument named.
    for hosts in ('h1:1,,h2:2', 'h"1:2222', "h1"):
        proc = launch("multi_worker.sh", hosts, "0", "C", "gan", "w", DRY_RUN="1")
        assert proc.returncode == 2 and "HOST:PORT" in proc.stderr, hosts
    proc = launch("multi_worker.sh", "[::1]:2222,h2:2222", "0", "C", "gan", "w", DRY_RUN="1")
    tf_config = json.loads(shlex.split(proc.stdout)[1].split("=", 1)[1])
    assert proc.returncode == 0 and tf_config["cluster"]["worker"] == ["[::1]:2222", "h2:2222"]
    for script, args in (("local.sh", ["C", "gan", "--fake_data"]),
                         ("multi_worker.sh", ["h1:2222", "0", "C", "gan", "--fake_data"])):
        proc = launch(script, *args, DRY_RUN="1")
        assert proc.returncode == 2 and "looks like a flag" in proc.stderr, script


def test_tpu_pod_installs_on_every_host_and_trains_from_one_with_buckets():
    env = dict(DRY_RUN="1", TPU="my-v4-32", ZONE="us-central2-b", PACKAGE="gs://b/wheels/jare_tf-0.1.0-py3-none-any.whl")
    odd_workdir = "gs://b/runs/c x;touch /tmp/pwned"
    proc = launch("tpu_pod.sh", "C", "jare", "gs://b/tfds", odd_workdir, "--num_steps=10", **env)
    assert proc.returncode == 0, proc.stderr
    install, train = [shlex.split(line) for line in proc.stdout.strip().splitlines()]
    assert install[:5] == ["gcloud", "compute", "tpus", "tpu-vm", "ssh"] and "--worker=all" in install
    assert "jare_tf-0.1.0-py3-none-any.whl" in install[-1]
    assert "--worker=0" in train
    remote = shlex.split(train[-1].split("=", 1)[1])        # what the host's shell will see
    assert remote[:5] == ["TPU_LOAD_LIBRARY=0", "nohup", "python3", "-m", "jare_tf.train"]
    assert {"--strategy=tpu", "--tpu=my-v4-32", "--data_dir=gs://b/tfds", f"--workdir={odd_workdir}",
            "--num_steps=10"} <= set(remote)                # the odd workdir stays one argument
    assert remote[-4:-2] == [">", "pwned.log"] and remote[-1] == "&"
    proc = launch("tpu_pod.sh", "C", "jare", "/local/tfds", "gs://b/runs/c", **env)
    assert proc.returncode == 2 and "gs://" in proc.stderr
    assert launch("tpu_pod.sh", "C", "jare", "gs://a", "gs://b", DRY_RUN="1").returncode == 2   # no TPU/ZONE/PACKAGE
