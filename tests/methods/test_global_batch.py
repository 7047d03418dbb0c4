"""Second-order terms are those of the global batch under tf.distribute (DESIGN.md, "Distribution").

With two logical CPU devices, the replica-mean of each replica's directions (its half of the batch) must equal
the one-device directions on the whole batch, for every regularised method; a regulariser taken against the
replica's own gradient (the per-replica shortcut) must not. Logical devices must be configured before
TensorFlow starts, so the check runs in a fresh interpreter.
"""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    sys.path.insert(0, os.getcwd())
    from jare_tf import methods
    from jare_tf.methods import base
    from tests.conftest import small_mlp_game

    class PerReplica(base.VectorReducer):
        def global_mean(self, tensors):
            return list(tensors)

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    worst = {}
    for name in ["jare", "conopt", "gen_only", "disc_only", "extrapolation"]:
        game, batch = small_mlp_game(seed=7, generator_loss="non_saturating", batch_size=8)
        params, state = game.params(), game.state()
        method = methods.get(name, gamma=0.9)
        one = method.directions(game, params, state, batch).updates
        halves = {k: tf.split(v, 2) for k, v in batch.items()}
        def replica_batch(ctx):
            return {k: v[ctx.replica_id_in_sync_group] for k, v in halves.items()}
        dist = strategy.experimental_distribute_values_from_function(replica_batch)
        for label, reducer in (("global", base.LOCAL), ("per_replica", PerReplica())):
            def step(b):
                u = method.directions(game, params, state, b, reducer=reducer).updates
                return list(u.g) + list(u.d)
            out = strategy.run(step, args=(dist,))
            mean = [strategy.reduce(tf.distribute.ReduceOp.MEAN, t, axis=None) for t in out]
            ref = list(one.g) + list(one.d)
            err = max(float(tf.reduce_max(tf.abs(a - b))) for a, b in zip(mean, ref))
            scale = max(float(tf.reduce_max(tf.abs(b))) for b in ref)
            worst[(name, label)] = err / scale
    for key, value in sorted(worst.items()):
        print(key[0], key[1], repr(value))
""")


def test_replica_mean_of_directions_equals_the_global_batch_directions():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, cwd=root,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line.split() for line in proc.stdout.strip().splitlines()]
    errors = {(name, label): float(value) for name, label, value in rows}
    assert len(errors) == 10
    for (name, label), err in errors.items():
        if label == "global":
            assert err < 1e-12, (name, err)
        else:
            assert err > 1e-6, (name, err)   # the per-replica shortcut is measurably wrong
