"""Training under tf.distribute ends where one device ends (DESIGN.md, "Distribution"; issue: scale out).

* Two logical CPU devices (MirroredStrategy) and one device train gan, conopt and jare on setting C (fake data,
  global batch 8) for 3 steps and end with the same parameters; a regulariser taken against each replica's own
  gradient (the per-replica shortcut) ends elsewhere, so the comparison can fail.
* Setting A's batch norm with synchronised statistics gives the one-device directions through the second
  backward pass (float64, where rounding cannot hide a wrong term); per-replica statistics do not.
* Two worker processes (MultiWorkerMirroredStrategy, TF_CONFIG on 127.0.0.1) end with the parameters of a
  one-process run, and the mirrored command line of the issue runs.

Logical devices and multi-worker clusters must be set up before TensorFlow starts, so each check runs in fresh
interpreters.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from jare_tf.training import distribute

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")

def test_strategy_choices_are_checked():
    with pytest.raises(ValueError, match="valid|choose"):
        distribute.make_strategy("horovod")
    with pytest.raises(ValueError, match="--strategy=tpu"):
        distribute.make_strategy("default", tpu="my-tpu")
    with pytest.raises(ValueError, match="--strategy=mirrored"):
        distribute.make_strategy("default", num_cpu_devices=2)
    assert distribute.make_strategy("default").num_replicas_in_sync == 1
    assert distribute.is_chief(tf.distribute.get_strategy())


def test_one_replica_receives_the_global_batch_unchanged():
    batches = tf.data.Dataset.range(3).map(
        lambda s: {"real": tf.fill([2, 4, 5], tf.cast(s, tf.float32)) + tf.range(4, dtype=tf.float32)[:, None]})
    received = [b["real"].numpy() for b in distribute.per_replica_dataset(tf.distribute.get_strategy(), lambda: batches, 4)]
    assert len(received) == 3
    for step, real in enumerate(received):
        np.testing.assert_array_equal(real, step + np.arange(4)[None, :, None] * np.ones([2, 4, 5]))


TRAINING = textwrap.dedent("""
    import sys, tempfile
    import numpy as np
    from jare_tf.training import distribute
    distribute.split_cpu(2)
    from jare_tf import settings
    from jare_tf.methods import base
    from jare_tf.training.image_trainer import ImageRun
    from jare_tf.training.workdir import NonFiniteError

    class PerReplica(base.VectorReducer):
        def global_mean(self, tensors):       # the biased shortcut: each replica's own gradient
            return list(tensors)

    def config(sgd=False, every=1):
        c = settings.load("C")
        if every > 1:   # lazy JARE: iterations 0 and 2 regularised (tf.cond around all-reduces), 1 plain
            c.method.options.jare.every = every
        c.fake_data, c.batch_size, c.num_steps, c.steps_per_execution = True, 8, 3, 2
        c.log_every, c.sample_every, c.checkpoint_every = 1, 0, 0
        if sgd:   # plain steps: a wrong scale of the applied direction shows in full (Adam would hide it)
            c.optimizer.g = c.optimizer.d = {"name": "sgd", "learning_rate": 0.01}
        return c

    def params(run):
        return np.concatenate([np.ravel(v.numpy()) for v in run.model.generator.trainable_variables
                               + run.model.discriminator.trainable_variables])

    mirrored = distribute.make_strategy("mirrored")
    assert mirrored.num_replicas_in_sync == 2
    # Adam's state under replicas: conopt, altgd, wgan; the applied direction's scale, in full under SGD: gan,
    # jare (with the biased per-replica regulariser as a control that the check can fail) and lazy jare.
    cases = [("conopt", False, 1), ("gan", True, 1), ("jare", True, 1), ("altgd", False, 1), ("wgan", False, 1),
             ("jare", True, 2)]
    for method, sgd, every in cases:
        one = ImageRun(config(sgd, every), method)
        one.train(tempfile.mkdtemp(), log=lambda s: None, verbose=0)
        runs = [("global", None)] + ([("per_replica", PerReplica())] if method == "jare" and every == 1 else [])
        for label, reducer in runs:
            two = ImageRun(config(sgd, every), method, mirrored)
            if reducer is not None:
                two.model.updater.reducer = reducer
            two.train(tempfile.mkdtemp(), log=lambda s: None, verbose=0)
            a, b = params(one), params(two)
            name = method + ("_sgd" if sgd else "") + (f"_every{every}" if every > 1 else "")
            print(name, label, int(two.model.iteration.numpy()), repr(float(np.linalg.norm(a - b) / np.linalg.norm(a))))

    # The NaN/Inf guard under two replicas: training stops at the flagged step with the quantity named.
    c = config()
    c.num_steps, c.steps_per_execution = 6, 4
    c.optimizer.g.learning_rate = c.optimizer.d.learning_rate = 1e30
    run = ImageRun(c, "jare", mirrored)
    try:
        run.train(tempfile.mkdtemp(), log=lambda s: None, verbose=0)
    except NonFiniteError as e:
        print("guard", str(e).split(":")[1].split()[0], int(run.model.iteration.numpy()),
              str(e).split("step ")[1].split(":")[0])
""")


def python(script, timeout=900):
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=ENV, cwd=ROOT,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [line.split() for line in proc.stdout.strip().splitlines()]


def test_two_replicas_end_with_the_parameters_of_one_device():
    rows = python(TRAINING)
    guard = [row for row in rows if row[0] == "guard"]
    result = {(method, label): (int(steps), float(rel)) for method, label, steps, rel in rows if method != "guard"}
    assert set(result) == {("conopt", "global"), ("gan_sgd", "global"), ("jare_sgd", "global"),
                           ("jare_sgd", "per_replica"), ("altgd", "global"), ("wgan", "global"),
                           ("jare_sgd_every2", "global")}
    for (method, label), (steps, rel) in result.items():
        assert steps == 3
        if label == "global":
            assert rel <= 1e-5, (method, rel)
        else:
            assert rel > 1e-4, (method, rel)    # the per-replica regulariser is measurably another update
    # The guard stopped both replicas at the same, flagged step (before the end) and named the quantity.
    assert len(guard) == 1
    _, quantity, iteration, step = guard[0]
    assert quantity and iteration == step and 0 < int(step) < 6


SYNC_BATCH_NORM = textwrap.dedent("""
    import keras, numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    keras.config.set_floatx("float64")
    from jare_tf import methods, settings
    from jare_tf.data import images

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    for sync in (True, False):
        c = settings.load("A")
        c.sync_batch_norm = sync
        for name in ("gan", "jare"):
            method = methods.get(name, **settings.method_options(c, name))
            keras.utils.set_random_seed(3)
            game = settings.image_game(c, method)
            params, state = game.params(), game.state()
            batch = {"real": tf.cast(images.fake_images(0, 6, 32, 3), tf.float64),
                     "z": tf.cast(images.latents(0, 0, 6, 128, 3), tf.float64)}
            one = method.directions(game, params, state, batch).updates
            halves = {k: tf.split(v, 2) for k, v in batch.items()}
            per_replica = strategy.experimental_distribute_values_from_function(
                lambda ctx: {k: v[ctx.replica_id_in_sync_group] for k, v in halves.items()})

            @tf.function
            def replica_mean(b):
                def directions(b):
                    u = method.directions(game, params, state, b).updates
                    return list(u.g) + list(u.d)
                out = strategy.run(directions, args=(b,))
                return [strategy.reduce("MEAN", t, axis=None) for t in out]

            mean = np.concatenate([np.ravel(t) for t in replica_mean(per_replica)])
            ref = np.concatenate([np.ravel(t) for t in list(one.g) + list(one.d)])
            print(name, sync, repr(float(np.linalg.norm(mean - ref) / np.linalg.norm(ref))))

    # Forward-over-reverse products cannot see through the all-reduce of synchronised statistics: refused.
    c.sync_batch_norm = True
    method = methods.get("jare", gamma=1.0, hvp="forward")
    game = settings.image_game(c, method)
    try:
        strategy.run(lambda b: method.directions(game, game.params(), game.state(), b).updates.g, args=(per_replica,))
    except ValueError as e:
        print("forward refused", "all_reduce" in str(e))
    # jare-train refuses it when it builds the run, before train() writes config.json into the workdir.
    from jare_tf.training.image_trainer import ImageRun
    c.method.options.jare.hvp = "forward"
    c.fake_data = True
    try:
        ImageRun(c, "jare", strategy)
    except ValueError as e:
        print("run refused", "sync_batch_norm=False" in str(e))
    # Lazy regularisation would all-reduce the synchronised statistics inside its tf.cond: refused as well.
    c.method.options.jare.hvp, c.method.options.jare.every = "reverse", 2
    try:
        ImageRun(c, "jare", strategy)
    except ValueError as e:
        print("lazy refused", "every=2 cannot run with sync_batch_norm=True" in str(e))
    # The training spectrum is a one-device analysis.
    c.method.options.jare.every, c.spectrum_every = 1, 10
    try:
        ImageRun(c, "jare", strategy)
    except ValueError as e:
        print("spectrum refused", "analyses the applied update on one device" in str(e))
""")


def test_synchronised_batch_norm_gives_the_global_batch_through_double_backprop():
    rows = python(SYNC_BATCH_NORM)
    assert ["forward", "refused", "True"] in rows
    assert ["run", "refused", "True"] in rows and ["lazy", "refused", "True"] in rows
    assert ["spectrum", "refused", "True"] in rows
    result = {(name, sync == "True"): float(rel) for name, sync, rel in rows
              if name not in ("forward", "run", "lazy", "spectrum")}
    assert len(result) == 4
    for name in ("gan", "jare"):
        assert result[(name, True)] < 1e-10, (name, result)
        assert result[(name, False)] > 1e-4, (name, result)   # per-replica statistics: another model


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def checkpoint_values(workdir):
    """The players' parameters in the latest checkpoint (saved under the optimizers that track them)."""
    path = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    reader = tf.train.load_checkpoint(path)
    names = [n for n in reader.get_variable_to_shape_map() if "/_trainable_variables/" in n]
    return path, {n: reader.get_tensor(n) for n in names}


def run_workers(workdirs, *flags):
    """Two workers started by the launch script, as on two machines (jare-train from this interpreter's bin/);
    returns their exit codes and outputs (stdout and stderr). Workers left running by a failure are killed."""
    hosts = ",".join(f"127.0.0.1:{free_port()}" for _ in workdirs)
    env = dict(ENV, PATH=os.path.dirname(sys.executable) + os.pathsep + ENV.get("PATH", ""))
    env.pop("TF_CONFIG", None)
    workers = [subprocess.Popen(["bash", "launch/multi_worker.sh", hosts, str(index), "C", "jare", str(workdir),
                                 *flags], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
               for index, workdir in enumerate(workdirs)]
    try:
        texts = [w.communicate(timeout=600)[0] for w in workers]
        return [w.returncode for w in workers], texts
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()


def test_multi_worker_on_localhost_and_mirrored_command_line_match_one_process(tmp_path):
    common = ["--fake_data", "--batch_size=8"]
    codes, texts = run_workers([tmp_path / "mw"] * 2, *common, "--num_steps=2")
    assert codes == [0, 0], [text[-3000:] for text in texts]
    # The same command with more steps: both workers resume from the chief's checkpoint and go on.
    codes, texts = run_workers([tmp_path / "mw"] * 2, *common, "--num_steps=3")
    assert codes == [0, 0], [text[-3000:] for text in texts]
    assert all("Resuming" in text and "step 2" in text for text in texts)
    train = [sys.executable, "-m", "jare_tf.train", "--setting=C", "--method=jare", *common, "--num_steps=3"]
    for args, name in (([], "one"), (["--strategy=mirrored", "--num_cpu_devices=2"], "mirrored")):
        proc = subprocess.run(train + args + [f"--workdir={tmp_path / name}"], capture_output=True, text=True,
                              env=ENV, cwd=ROOT, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
    path, reference = checkpoint_values(tmp_path / "one")
    assert path.endswith("ckpt-3") and len(reference) > 10
    norm = np.sqrt(sum(np.sum(v ** 2) for v in reference.values()))
    for name in ("mw", "mirrored"):
        path, values = checkpoint_values(tmp_path / name)
        assert path.endswith("ckpt-3") and set(values) == set(reference)
        diff = np.sqrt(sum(np.sum((values[n] - reference[n]) ** 2) for n in reference))
        assert diff / norm <= 1e-5, (name, diff / norm)
    # Only the chief wrote the run's files; the other worker's scratch folder is gone.
    assert sorted(os.listdir(tmp_path / "mw")) == ["checkpoints", "config.json", "metrics.json", "train"]
    assert json.load(open(tmp_path / "mirrored" / "metrics.json"))["step"] == 3


def test_workers_that_do_not_share_the_workdir_stop_with_a_clear_error(tmp_path):
    """Worker 0 would resume at step 2, worker 1 (another folder) start at 0: both refuse, none hangs."""
    common = ["--fake_data", "--batch_size=8", "--num_steps=2"]
    proc = subprocess.run([sys.executable, "-m", "jare_tf.train", "--setting=C", "--method=jare", *common,
                           f"--workdir={tmp_path / 'a'}"], capture_output=True, text=True, env=ENV, cwd=ROOT,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    codes, texts = run_workers([tmp_path / "a", tmp_path / "b"], *common[:-1], "--num_steps=4")
    assert codes == [2, 2], [text[-3000:] for text in texts]
    assert all("start from different steps" in text for text in texts)
