"""tf.distribute strategies for the image runs, the per-replica input pipeline and the worker roles.

`--strategy` picks one of

* `default`: one device (TensorFlow's default strategy);
* `mirrored`: every local GPU, or, on a machine without GPUs, every logical CPU device (`--num_cpu_devices=N`
  splits the CPU into N, for tests and for trying data-parallel training on a laptop);
* `multi_worker`: MultiWorkerMirroredStrategy over the cluster that TF_CONFIG describes (one process per worker,
  each started with its own TF_CONFIG; see launch/multi_worker.sh);
* `tpu`: TPUStrategy on the TPU named by `--tpu` (a TPU-VM's local TPU when empty).

`--batch_size` is always the global batch. The input pipeline makes each step's global batch exactly as a
one-device run makes it (a function of seed and step), then hands every replica its contiguous slice, so R
replicas see, together, the examples one device sees. Each replica's losses are means over its slice and the
Updater averages the replicas' directions, so every loss is the mean over the global batch; the second-order
regularisers are those of the global batch through `methods.base.VectorReducer` (DESIGN.md, "Distribution").
"""

import os
from typing import Callable, Dict, Optional

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def split_cpu(num_devices: int) -> None:
    """Split the host CPU into `num_devices` logical devices; must run before TensorFlow initialises devices."""
    if num_devices < 1:
        raise ValueError(f"--num_cpu_devices must be >= 1, got {num_devices}.")
    if num_devices == 1:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * num_devices)
    except RuntimeError:
        present = len(tf.config.list_logical_devices("CPU"))
        if present != num_devices:
            raise ValueError(f"--num_cpu_devices={num_devices}: TensorFlow already started with {present} CPU "
                             f"device(s); set it before anything else runs TensorFlow.") from None


def make_strategy(name: str, tpu: str = "", num_cpu_devices: int = 1) -> tf.distribute.Strategy:
    """The strategy `--strategy=name` asks for (see the module docstring)."""
    if name not in STRATEGIES:
        raise ValueError(f"Unknown --strategy={name!r}; choose one of {', '.join(STRATEGIES)}.")
    if tpu and name != "tpu":
        raise ValueError(f"--tpu={tpu!r} needs --strategy=tpu.")
    if num_cpu_devices > 1 and name != "mirrored":
        raise ValueError(f"--num_cpu_devices={num_cpu_devices} needs --strategy=mirrored (got {name}).")
    if num_cpu_devices > 1 and tf.config.list_physical_devices("GPU"):
        raise ValueError("--num_cpu_devices splits the CPU of a machine without GPUs; this one has GPUs, which "
                         "--strategy=mirrored uses.")
    split_cpu(num_cpu_devices)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")]
        if not devices:
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError("--strategy=multi_worker needs the TF_CONFIG environment variable (the cluster and "
                             "this worker's task); see launch/multi_worker.sh.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "local")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        where = f"--tpu={tpu}" if tpu else "this machine (a TPU VM's own TPU)"
        raise ValueError(f"--strategy=tpu: no TPU found at {where} ({type(e).__name__}: "
                         f"{(str(e).strip().splitlines() or [''])[0][:160]}). Pass --tpu=<name or grpc://address>, "
                         f"or use --strategy=default|mirrored.") from None
    return tf.distribute.TPUStrategy(resolver)


def worker_id(strategy: tf.distribute.Strategy) -> Optional[int]:
    """This process's task index in a multi-worker cluster (None for single-process strategies)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or isinstance(strategy, tf.distribute.TPUStrategy):
        return None
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type is None:
        return None
    # The chief task, or worker 0 when the cluster has no chief, writes the run's files.
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return 0 if task_type == "chief" else int(task_id) + (1 if has_chief else 0)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    return worker_id(strategy) in (None, 0)


def per_replica_dataset(strategy: tf.distribute.Strategy, global_batches: Callable[[], tf.data.Dataset],
                        global_batch_size: int):
    """Distribute a dataset of global batches: every entry has shape [K, B, ...] (K minibatches per step, the
    global batch B second); replica r of R receives entries of shape [K, B/R, ...] holding examples
    [r·B/R, (r+1)·B/R) of each minibatch. Every input pipeline (one per worker or TPU host) builds the global
    batches with `global_batches()` and keeps its replicas' part."""
    replicas = strategy.num_replicas_in_sync
    if global_batch_size % replicas:
        raise ValueError(f"--batch_size={global_batch_size} is the global batch and must divide evenly over the "
                         f"{replicas} replicas; use a multiple of {replicas}.")
    per_replica = global_batch_size // replicas

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        local = context.num_replicas_in_sync // context.num_input_pipelines
        first = context.input_pipeline_id * local * per_replica

        def this_pipelines_replicas(batch: Dict[str, tf.Tensor]) -> tf.data.Dataset:
            def part(t):
                t = t[:, first:first + local * per_replica]
                shape = tf.shape(t)
                t = tf.reshape(t, tf.concat([shape[:1], [local, per_replica], shape[2:]], axis=0))
                perm = [1, 0] + list(range(2, t.shape.rank))
                return tf.transpose(t, perm)
            return tf.data.Dataset.from_tensor_slices({k: part(v) for k, v in batch.items()})

        return global_batches().flat_map(this_pipelines_replicas).prefetch(tf.data.AUTOTUNE)

    options = tf.distribute.InputOptions(experimental_fetch_to_device=True)
    return strategy.distribute_datasets_from_function(dataset_fn, options)


def num_replicas() -> int:
    """Replicas in sync in the current replica context (1 on one device and in cross-replica context)."""
    ctx = tf.distribute.get_replica_context()
    return 1 if ctx is None else ctx.num_replicas_in_sync


def assign_replicated(variables, values, average: bool = True) -> None:
    """Assign values computed inside a replica to replicated variables (layer state, projections).

    On one device a plain assign. Under R > 1 replicas each replica's value goes to its own copy of the variable
    through the strategy (Keras variables, aggregation "none", allow nothing else in a replica context); with
    `average` the values are first averaged over the replicas, so state that may differ between replicas (batch
    statistics) stays the same on every copy. Values that are equal by construction on every replica (the
    spectral-norm vector, projected weights) can skip the average: it is not exact for every R.
    """
    variables, values = list(variables), list(values)
    if not variables:
        return
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        for var, value in zip(variables, values):
            var.assign(value)
        return
    if average:
        values = ctx.all_reduce(tf.distribute.ReduceOp.MEAN, values)
    targets = [getattr(v, "value", v) for v in variables]   # the tf.Variable behind a Keras variable

    def update(strategy, pairs):
        for var, value in pairs:
            strategy.extended.update(var, lambda v, x: v.assign(x), args=(value,), group=False)

    ctx.merge_call(update, args=(list(zip(targets, values)),))


def workers_agree(strategy: tf.distribute.Strategy, value: float) -> bool:
    """Whether every worker of a multi-worker run holds the same number (a collective: all workers must call
    it, in the same order). True at once for single-process strategies."""
    if worker_id(strategy) is None:
        return True
    mean, mean_square = _worker_means(strategy, value)
    return abs(mean_square - mean * mean) <= 1e-6 * max(1.0, mean * mean)


def any_worker(strategy: tf.distribute.Strategy, flag: bool) -> bool:
    """Whether the flag is set on any worker of a multi-worker run (a collective, like `workers_agree`)."""
    if worker_id(strategy) is None:
        return bool(flag)
    return _worker_means(strategy, float(flag))[0] > 0


def _worker_means(strategy, value: float):
    """(mean, mean of squares) of a number over the replicas of all workers."""
    def replica_fn():
        v = tf.constant(value, tf.float64)
        return tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.MEAN, tf.stack([v, v * v]))
    result = strategy.experimental_local_results(strategy.run(replica_fn))[0].numpy()
    return float(result[0]), float(result[1])
