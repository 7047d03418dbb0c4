"""Bad names and paths are refused before TensorFlow is imported (its import costs seconds of CPU, a minute on a
busy machine): each command runs with a `tensorflow` package on PYTHONPATH whose import fails, so a check that
came after the import would print that failure instead of the expected message."""

import os
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def no_tensorflow(tmp_path_factory):
    root = tmp_path_factory.mktemp("no_tensorflow")
    (root / "tensorflow").mkdir()
    (root / "tensorflow" / "__init__.py").write_text("raise ImportError('tensorflow was imported')\n")
    return str(root)


@pytest.mark.parametrize("module, args, message", [
    ("jare_tf.train", ["--setting=C", "--method=jaer", "--workdir=W"],
     "unknown --method='jaer' (did you mean 'jare'?)"),
    ("jare_tf.train", ["--setting=Z", "--workdir=W"], "Unknown --setting='Z'"),
    ("jare_tf.train", ["--setting=C", "--workdir=FILE"], "is a file"),
    ("jare_tf.train", ["--setting=mog", "--workdir=FILE"], "is a file"),
    # Paths that cannot be a folder (issue 25 item 6): named in one line, not a traceback from the first write.
    ("jare_tf.train", ["--setting=C", "--workdir=LONG"], "is 300 bytes long, more than the 255 its file system "
     "allows (File name too long)"),
    ("jare_tf.train", ["--setting=dirac", "--workdir=DANGLING"], "is a symbolic link to "),
    ("jare_tf.train", ["--setting=C", "--workdir=DANGLING/run"], "lies under "),
    ("jare_tf.train", ["--setting=C", "--workdir=FILE/run"], "which is a file"),
    # The global batch over the replicas --num_cpu_devices makes, with the flag as typed.
    ("jare_tf.train", ["--setting=C", "--config.batch_size=7", "--strategy=mirrored", "--num_cpu_devices=2",
                       "--workdir=W"], "--config.batch_size=7 is the global batch and must divide evenly over the 2 "
     "replicas of --num_cpu_devices=2; use a multiple of 2."),
    ("jare_tf.train", ["--setting=C", "--batch_size=9", "--strategy=mirrored", "--num_cpu_devices=4", "--workdir=W"],
     "--batch_size=9 is the global batch and must divide evenly over the 4 replicas"),
    ("jare_tf.train", ["--setting=C", "--config.method.gamma=1", "--workdir=W"],
     "--config.method.options.jare.gamma"),
    ("jare_tf.train", ["--setting=C", "--config.optimiser.g.learning_rate=1", "--workdir=W"],
     "Unknown override --config.optimiser.g.learning_rate"),
    ("jare_tf.evaluate", ["--workdir=MISSING"], "does not exist"),
    ("jare_tf.evaluate", ["--workdir=FILE"], "is a file"),
    ("jare_tf.spectrum", ["--method=jaer"], "unknown --method='jaer'"),
    ("jare_tf.bench", ["--methods=gan,jaer"], "unknown method 'jaer'"),
    ("jare_tf.bench", ["--setting=Z"], "Unknown --setting='Z'"),
    # Numbers: each refused with the flag as typed and the rule it breaks, not by a JSON writer or a tensor.
    ("jare_tf.train", ["--setting=C", "--batch_size=0", "--workdir=W"], "--batch_size=0: must be > 0"),
    ("jare_tf.train", ["--setting=C", "--config.method.options.jare.gamma=-1", "--workdir=W"],
     "--config.method.options.jare.gamma=-1.0: must be >= 0"),
    ("jare_tf.train", ["--setting=isotropic", "--config.method.options.jare.gamma=nan", "--workdir=W"],
     "--config.method.options.jare.gamma=nan: must be a finite number"),
    ("jare_tf.train", ["--setting=C", "--config.optimizer.d.learning_rate=-0.1", "--workdir=W"],
     "--config.optimizer.d.learning_rate=-0.1: must be > 0"),
    ("jare_tf.train", ["--setting=C", "--config.optimizer.g.learning_rate=inf", "--workdir=W"],
     "--config.optimizer.g.learning_rate=inf: must be a finite number"),
    ("jare_tf.train", ["--setting=mog", "--config.optimizer.g.learning_rate=1e400", "--workdir=W"],
     "must be a finite number"),
    ("jare_tf.train", ["--setting=C", "--checkpoint_every=-5", "--workdir=W"], "--checkpoint_every=-5: must be > 0"),
    ("jare_tf.train", ["--setting=C", "--config.log_every=-1", "--workdir=W"], "--config.log_every=-1: must be > 0"),
    ("jare_tf.train", ["--setting=C", "--config.z_dim=0", "--workdir=W"], "--config.z_dim=0: must be > 0"),
    ("jare_tf.train", ["--setting=isotropic", "--num_steps=100000000000000000000", "--workdir=W"],
     "must be at most 2147483647"),
    ("jare_tf.train", ["--setting=C", "--batch_size=1000000000000", "--workdir=W"], "must be at most 2147483647"),
    ("jare_tf.evaluate", ["--workdir=MISSING", "--num_fake=-5"], "--num_fake=-5: must be > 0"),
    ("jare_tf.evaluate", ["--workdir=MISSING", "--num_real=0"], "--num_real=0: must be > 0"),
    ("jare_tf.spectrum", ["--gamma=inf"], "--gamma=inf: must be a finite number"),
    ("jare_tf.spectrum", ["--mu=inf"], "--mu=inf: must be a finite number"),
    ("jare_tf.spectrum", ["--method=altgd", "--step_size=0"], "--step_size=0.0: must be > 0"),
    ("jare_tf.spectrum", ["--problem=linear_gaussian", "--variances=1"], "give --dim=2 positive finite variances"),
    ("jare_tf.spectrum", ["--problem=linear_gaussian", "--variances=inf,1"], "--variances=inf,1: give --dim=2"),
    ("jare_tf.spectrum", ["--problem=linear_gaussian", "--dim=9"], "1 <= dim <= 5"),
    ("jare_tf.spectrum", ["--problem=linear_gaussian", "--disc_scale=0"], "--disc_scale=0.0: must be > 0"),
    ("jare_tf.evaluate", ["--workdir=MISSING", "--stats_dir=FILE"], "does not exist"),
    ("jare_tf.reproduce", ["toy", "--only="], "--only is empty"),
    ("jare_tf.reproduce", ["toy", "--workdir=FILE"], "is a file"),
    ("jare_tf.reproduce", ["toy", "--report_dir=FILE"], "is a file"),
    ("jare_tf.bench", ["--fake_data", "--max_contention=-1"], "--max_contention must be >= 0"),
    ("jare_tf.bench", ["--fake_data", "--methods=jare:gamma=abc"], "jare:gamma=abc: gamma must be a number"),
    ("jare_tf.bench", ["--fake_data", "--methods=jare:every=4", "--steps=6"],
     "--steps=6 for setting C is not a multiple of jare:every=4's every=4"),
    ("jare_tf.spectrum", ["isotropic"], "unexpected arguments ['isotropic']"),
    ("jare_tf.evaluate", ["--workdir=MISSING", "latest"], "unexpected arguments ['latest']"),
    ("jare_tf.bench", ["--fake_data", "--report", "--report_path=FILE/speed.md"], "cannot be written"),
    # Names a config holds, each with the flag and the closest valid names.
    ("jare_tf.train", ["--setting=C", "--config.dataset=fashon_mnist", "--workdir=W"],
     "Unknown --config.dataset='fashon_mnist' (did you mean 'fashion_mnist'?); valid datasets: cifar10, celeb_a"),
    ("jare_tf.train", ["--setting=isotropic", "--config.method.options.jare.gama=5", "--workdir=W"],
     "--config.method.options.jare.gama: --method=jare has no option 'gama' (did you mean 'gamma'?); its "
     "options: gamma, hvp, every."),
    ("jare_tf.train", ["--setting=C", "--method=altgd", "--config.method.options.altgd.nd=5", "--workdir=W"],
     "has no option 'nd' (did you mean 'n_d'?)"),
    ("jare_tf.train", ["--setting=isotropic", "--method=sngan", "--workdir=W"],
     "--method=sngan needs a spectrally normalised discriminator"),
    ("jare_tf.train", ["--setting=mog", "--strategy=mirrored", "--workdir=W"], "is a toy setting"),
    # A method option as a flag of its own gets the key that sets it (absl: "Unknown command line flag").
    ("jare_tf.train", ["--gamma=5", "--workdir=W"], "--gamma is not a jare-train flag: γ is an option of each "
     "method, set with --config.method.options.<method>.gamma=<value> (here --config.method.options.jare.gamma=5)"),
    ("jare_tf.train", ["--method=wgan", "--every", "4", "--workdir=W"], "--method=wgan has no every"),
    ("jare_tf.reproduce", ["toyy"], "unknown report 'toyy' (did you mean 'toy'?); valid reports: toy, fashion_mnist"),
    ("jare_tf.reproduce", [], "name the report to make; valid reports: toy, fashion_mnist"),
    ("jare_tf.prepare", ["fashion_mnst"], "unknown dataset 'fashion_mnst' (did you mean 'fashion_mnist'?); "
     "jare-prepare prepares: fashion_mnist"),
])
def test_the_error_comes_before_the_tensorflow_import(module, args, message, no_tensorflow, tmp_path):
    (tmp_path / "FILE").write_text("not a folder")
    os.symlink(tmp_path / "no_such_target", tmp_path / "dangling")
    paths = {"W": str(tmp_path / "run"), "FILE": str(tmp_path / "FILE"), "MISSING": str(tmp_path / "missing"),
             "LONG": str(tmp_path / ("a" * 300)), "DANGLING": str(tmp_path / "dangling")}

    def path(arg):       # --flag=FILE or --flag=FILE/name: the placeholder becomes a path under tmp_path
        flag, _, value = arg.partition("=")
        head, _, tail = value.partition("/")
        return f"{flag}={os.path.join(paths[head], tail) if tail else paths[head]}" if head in paths else arg

    args = [path(a) for a in args]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([no_tensorflow, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in proc.stderr and "tensorflow was imported" not in proc.stderr, proc.stderr[-2000:]
    assert not os.path.lexists(paths["W"]) and not os.path.lexists(tmp_path / "no_such_target")   # nothing made


def test_the_stand_in_really_stops_a_command_that_needs_tensorflow(no_tensorflow):
    env = dict(os.environ, PYTHONPATH=no_tensorflow)
    proc = subprocess.run([sys.executable, "-c", "import jare_tf.training.workdir"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode != 0 and "tensorflow was imported" in proc.stderr


def test_the_names_checked_before_tensorflow_are_the_packages_own():
    """config_checks holds the datasets, the methods' options and the image-only methods without importing
    TensorFlow; they must be those of the data module and of the methods' constructors."""
    from jare_tf import config_checks, methods, settings
    from jare_tf.data import images
    assert config_checks.DATASETS == tuple(images.DATASETS)
    assert sorted(config_checks.METHOD_OPTIONS) == methods.names()
    for name in methods.names():
        accepted, any_other = settings.option_names(name)
        assert config_checks.METHOD_OPTIONS[name] == tuple(accepted) and not any_other, name
    assert set(config_checks.IMAGE_ONLY_METHODS) == {
        name for name in methods.names() if methods.method_class(name).spectral_norm_discriminator}


@pytest.mark.parametrize("module, arg, message", [
    # Your own data (issue 27): what is wrong with a folder or a tfds: name that is known without TensorFlow.
    ("jare_tf.train", "--config.dataset=folder:{tmp}/FILE", "is a file, not a folder; pass the folder that holds it"),
    ("jare_tf.train", "--config.dataset=folder:{tmp}/EMPTY", "holds no image (no .png, .jpg or .jpeg file in it"),
    ("jare_tf.train", "--config.dataset=folder:{tmp}/missing", "does not exist; pass the folder that holds the images"),
    ("jare_tf.train", "--config.dataset=tfds:", "is not of the form tfds:<name>[/<config>][:<split>]"),
    ("jare_tf.train", "--config.image_key=picture", "it applies to --config.dataset=tfds:<name> only"),
    ("jare_tf.evaluate", "--classifier=train:celeba", "unknown dataset 'celeba' (did you mean 'celeb_a'?)"),
    ("jare_tf.evaluate", "--classifier=train:folder:{tmp}/EMPTY", "--classifier=train:folder:"),
    ("jare_tf.evaluate", "--classifier=incepton", "not one of inception, fashion_mnist, stand_in, train:<dataset>"),
])
def test_own_data_is_checked_before_the_tensorflow_import(module, arg, message, no_tensorflow, tmp_path):
    (tmp_path / "FILE").write_text("not a folder")
    (tmp_path / "EMPTY" / "sub").mkdir(parents=True)
    run = tmp_path / "run"
    if module == "jare_tf.evaluate":     # a workdir with a config.json, so that the check reaches --classifier
        run.mkdir()
        (run / "config.json").write_text('{"architecture": "dcgan", "image_size": 32}')
        args = [f"--workdir={run}", arg.format(tmp=tmp_path)]
    else:
        args = ["--setting=C", f"--workdir={run}", arg.format(tmp=tmp_path)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([no_tensorflow, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in proc.stderr and "tensorflow was imported" not in proc.stderr, proc.stderr[-2000:]
    assert module == "jare_tf.evaluate" or not run.exists()
