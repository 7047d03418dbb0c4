"""jare_tf: JARE (Nie & Patel, UAI 2019) and its baselines in TensorFlow 2 / Keras."""

import setuptools

setuptools.setup(
    name="jare_tf",
    version="0.1.0",
    description="Jacobian-regularised GAN training (JARE) and the methods it builds on, in TF2/Keras.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    # configs/ (one plain-Python file per setting) ships inside the wheel as jare_tf.configs.
    packages=setuptools.find_packages(include=["jare_tf", "jare_tf.*"]) + ["jare_tf.configs"],
    package_dir={"jare_tf.configs": "configs"},
    install_requires=[
        "tensorflow>=2.16",
        "tensorflow-datasets",
        "importlib_resources",     # imported by tensorflow-datasets' download_and_prepare, not declared by it
        "tensorflow-gan",
        "absl-py",
        "ml-collections",
        "numpy",
        "matplotlib",
        "tensorboard",
        "scipy",                   # Krylov eigenvalues of the matrix-free Jacobian (jare_tf/analysis/krylov.py)
    ],
    # pytest-xdist runs the tests in two processes; filelock lets them share the session fixtures (tests/conftest.py).
    extras_require={"test": ["pytest", "pytest-xdist", "filelock"]},
    entry_points={
        "console_scripts": [
            "jare-spectrum=jare_tf.spectrum:run",
            "jare-train=jare_tf.train:run",
            "jare-reproduce=jare_tf.reproduce:run",
            "jare-eval=jare_tf.evaluate:run",
            "jare-bench=jare_tf.bench:run",
            "jare-prepare=jare_tf.prepare:run",
        ],
    },
)
