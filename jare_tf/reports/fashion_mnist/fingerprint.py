"""Train the first iterations of a Fashion-MNIST grid's runs with the jare_tf of a given source tree, and save the
parameters and optimizer state they reach (the evidence equivalence.py compares).

Run as a script, so that it imports the training code of TREE and not the package beside this file:

    python fingerprint.py TREE GRID STEPS OUT.npz SETTING:METHOD [SETTING:METHOD ...] [--data_dir=DIR]

TREE is a checkout's root (its `jare_tf/` and `configs/`). Each case trains STEPS iterations from seed 1 exactly as
the grid trains it (the tree's own `run_config`, `split_label` and `ImageRun`, which every version with a run
store has, in grids.py or, before the report was a package, fashion_mnist_report.py), in a temporary workdir,
on the real minibatches. OUT.npz holds, for each case, every
variable of its step-0 and final checkpoints (`<case>|0|<name>`, `<case>|final|<name>`), and `__meta__`: the
tree's training-code sha256 and source version as JSON.
"""

import importlib.util
import json
import os
import sys
import tempfile


def import_tree(root: str) -> None:
    """Make `import jare_tf` (and `jare_tf.configs`, which a checkout keeps in configs/) resolve to `root`."""
    root = os.path.abspath(root)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, root)
    for name in [n for n in sys.modules if n == "jare_tf" or n.startswith("jare_tf.")]:
        del sys.modules[name]
    import jare_tf
    if os.path.dirname(os.path.abspath(jare_tf.__file__)) != os.path.join(root, "jare_tf"):
        raise RuntimeError(f"jare_tf imported from {jare_tf.__file__}, not from {root}")
    init = os.path.join(root, "configs", "__init__.py")
    spec = importlib.util.spec_from_file_location("jare_tf.configs", init,
                                                  submodule_search_locations=[os.path.dirname(init)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["jare_tf.configs"] = module
    spec.loader.exec_module(module)
    jare_tf.configs = module


def fingerprint(grid_name: str, steps: int, cases, data_dir=None):
    """{key: array} of the cases' step-0 and final checkpoints after `steps` iterations."""
    import dataclasses

    import tensorflow as tf

    # The same code on the same minibatches must give the same numbers: without this, threaded float reductions
    # on the CPU differ run to run by more than a code comparison can allow (measured: ConOpt on setting E).
    tf.config.experimental.enable_op_determinism()
    try:                     # where the grids live since the report became a package, and before
        from jare_tf.reports.fashion_mnist import grids as report
    except ImportError:
        from jare_tf.reports import fashion_mnist_report as report
    from jare_tf.training.image_trainer import ImageRun
    grid = dataclasses.replace(report.GRIDS[grid_name], steps=steps, eval_every=steps)
    arrays = {}
    for case in cases:
        setting, method = case.split(":", 1)
        config = report.run_config(setting, method, 1, grid, data_dir)
        with tempfile.TemporaryDirectory() as workdir:
            ImageRun(config, report.split_label(method)[0]).train(workdir, log=lambda message: None, verbose=0)
            state = tf.train.get_checkpoint_state(os.path.join(workdir, "checkpoints"))
            paths = list(state.all_model_checkpoint_paths)
            for tag, path in (("0", paths[0]), ("final", paths[-1])):
                reader = tf.train.load_checkpoint(path)
                for name in sorted(reader.get_variable_to_shape_map()):
                    if not name.startswith("_CHECKPOINTABLE_OBJECT_GRAPH"):
                        arrays[f"{case}|{tag}|{name}"] = reader.get_tensor(name)
        print(f"fingerprint: {case}: {steps} iterations", flush=True)
    return arrays


def main(argv) -> int:
    data_dir = None
    positional = []
    for arg in argv[1:]:
        if arg.startswith("--data_dir="):
            data_dir = arg.split("=", 1)[1] or None
        else:
            positional.append(arg)
    if len(positional) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    tree, grid_name, steps, out, cases = positional[0], positional[1], int(positional[2]), positional[3], \
        positional[4:]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import_tree(tree)
    import numpy as np

    from jare_tf import provenance
    arrays = fingerprint(grid_name, steps, cases, data_dir)
    meta = {"training_code_sha256": provenance.training_code_sha256(), "source": provenance.source_version()}
    np.savez(out, __meta__=np.array(json.dumps(meta)), **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
