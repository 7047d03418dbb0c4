"""The README's install works with the pip a fresh `python3 -m venv` has (issue 23): as a wheel and as an editable
install, also after `wheel` is installed (the case in which an old pip, without pyproject.toml's build-system
table, took the legacy `setup.py develop` route that ignores package_dir and lost `jare_tf.configs`).

Each case installs a copy of the source tree, without dependencies, into a throwaway venv whose pip is the one
`venv` bundles; the build's own requirement (setuptools) comes from the index pip is configured with (the local
index on this project's machines). The import runs from an unrelated folder, so nothing is found through the
source tree by accident."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
IMPORT = ("import jare_tf.configs as c, importlib.util as u; "
          "missing = [s for s in c.SETTINGS if u.find_spec('jare_tf.configs.' + s) is None]; "
          "assert not missing, missing; print(c.__file__)")


def _source_copy(dest: pathlib.Path) -> pathlib.Path:
    """The files git would ship (tracked and not ignored), so build outputs of the checkout do not leak in."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the source files to install cannot be listed")
    for name in filter(None, listed.stdout.decode().split("\0")):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def _venv(path: pathlib.Path) -> pathlib.Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    return path / "bin" / "python"


def _pip(python, *args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0 and "No matching distribution found" in done.stderr:
        pytest.skip(f"no package index reachable for the build requirements: {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, done.stderr[-3000:]


def _imports_configs(python, cwd) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(python), "-c", IMPORT], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_wheel_and_editable_installs_import_configs(tmp_path):
    source = _source_copy(tmp_path / "src")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    wheel_env = _venv(tmp_path / "wheel_venv")
    _pip(wheel_env, "--no-deps", str(source), cwd=elsewhere)
    installed = _imports_configs(wheel_env, elsewhere)
    assert "site-packages" in installed and installed.endswith(os.path.join("jare_tf", "configs", "__init__.py"))

    editable_env = _venv(tmp_path / "editable_venv")
    _pip(editable_env, "wheel", cwd=elsewhere)           # what the first `pip install -e .` brings in
    _pip(editable_env, "--no-deps", "-e", str(source), cwd=elsewhere)
    _pip(editable_env, "--no-deps", "-e", str(source), cwd=elsewhere)    # the README's second command
    assert _imports_configs(editable_env, elsewhere) == str(source / "configs" / "__init__.py")
