"""Is this checkout's training code the code that made the stored runs? Checked by trajectories, not by bytes.

A stored run names the sha256 of the files that compute a trajectory (`provenance.TRAINING_CODE`), and runs of
different training code are never mixed silently (store.py). Byte identity is a strict proxy: moving a helper
between files, a docstring or a new dataset module changes the hash without changing any number a run computes.
`jare-reproduce fashion_mnist --check_code` settles it for a grid: it checks out the commit that made the stored
runs, trains the first STEPS iterations of every (setting, method) of the grid from seed 1 with that commit's code
and with this checkout's (fingerprint.py, each in its own process, on the real minibatches), and
compares every variable of the models and optimizers at step 0 and at STEPS (with TensorFlow's op determinism on
in both, so that the same code gives the same numbers):

* only the trajectory is compared (TRAJECTORY_OBJECTS: players, optimizers, iteration), not the trainer's
  bookkeeping (stored config and metrics); a variable that exists in one and not the other, or an integer
  variable that differs, fails the case;
* a float variable passes when max|this − reference| ≤ RTOL × max|reference_STEPS − reference_0| (its displacement
  over the iterations) + ATOL_SCALE × max|reference|; at step 0 (the initialisation) the displacement term is 0;
* a case whose floats exceed that is trained a second time with each code: when the codes do not repeat
  themselves (measured: ConOpt on setting E differs between processes by up to a few % of the displacement
  after 4 iterations, with op determinism on, one thread and a fixed hash seed, landing on a few distinct
  outcomes; every other case of the default grid repeats bit for bit), the case passes if its difference is at
  most SPREAD_FACTOR × the larger of the two codes' own spreads.

When every case passes it stores an equivalence record (`code_<this>_<reference>.json`, sealed like the runs) in
the grid's runs/ folder: from then on the grid counts the stored runs as made by this code (they are skipped, not
retrained; the report names the equivalence), for the cases the record lists. When a case fails nothing is
stored, and the command says which case and variable differ and by how much: new runs of this code are stored
beside the old ones and the report marks the mixture.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from jare_tf import provenance
from jare_tf.reports.fashion_mnist import store as run_store

STEPS = 4
RTOL = 1e-3
ATOL_SCALE = 1e-6
#: A case whose floats differ beyond the allowance passes when this code, run again, differs from itself by at
#: least 1/SPREAD_FACTOR as much: the difference is then within what the code itself does not repeat.
SPREAD_FACTOR = 3.0


#: The checkpoint's objects that hold a trajectory; the others are the trainer's bookkeeping (the stored config
#: and metrics, which versions of the trainer add without changing a number the run computes).
TRAJECTORY_OBJECTS = ("generator", "discriminator", "g_optimizer", "d_optimizer", "iteration")


def trajectory(key: str) -> bool:
    """Whether a fingerprint key (`<case>|<tag>|<object>/…`) names a variable of the trajectory."""
    return key.rsplit("|", 1)[-1].split("/", 1)[0] in TRAJECTORY_OBJECTS


def compare(reference: Dict[str, np.ndarray], current: Dict[str, np.ndarray], cases: Sequence[str],
            rtol: float = RTOL, atol_scale: float = ATOL_SCALE) -> Dict[str, Dict[str, object]]:
    """{case: {"passed", "identical", "worst" (the largest difference / its allowance), "variable", "problem"}}
    for two fingerprints (fingerprint.py's arrays)."""
    out = {}
    for case in cases:
        prefix = f"{case}|"
        ref = {k[len(prefix):]: v for k, v in reference.items() if k.startswith(prefix) and trajectory(k)}
        cur = {k[len(prefix):]: v for k, v in current.items() if k.startswith(prefix) and trajectory(k)}
        result = {"passed": True, "identical": True, "worst": 0.0, "variable": None, "problem": None}
        only = sorted(set(ref) ^ set(cur))
        if not ref:
            result.update(passed=False, identical=False, problem="no variables in the reference fingerprint")
        elif only:
            result.update(passed=False, identical=False, problem=f"{len(only)} variable(s) in one only, e.g. "
                                                                  f"{only[0]}")
        for name in sorted(set(ref) & set(cur)):
            a, b = np.asarray(ref[name]), np.asarray(cur[name])
            if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
                continue             # text: the run's stored config, which names its (temporary) workdir
            if a.shape != b.shape:
                result.update(passed=False, identical=False, variable=name, problem=f"shape {a.shape} ≠ {b.shape}")
                continue
            if not np.array_equal(a, b):
                result["identical"] = False
            if not np.issubdtype(a.dtype, np.floating):
                if not np.array_equal(a, b):
                    result.update(passed=False, variable=name, problem="an integer variable differs")
                continue
            tag, variable = name.split("|", 1)
            start = ref.get(f"0|{variable}") if tag == "final" else None
            displacement = float(np.max(np.abs(a - start))) if start is not None and start.shape == a.shape else 0.0
            allowed = rtol * displacement + atol_scale * float(np.max(np.abs(a), initial=0.0))
            difference = float(np.max(np.abs(a.astype(np.float64) - b), initial=0.0))
            ratio = difference / allowed if allowed > 0 else (0.0 if difference == 0 else float("inf"))
            if ratio > result["worst"]:
                result.update(worst=ratio, variable=name)
            if ratio > 1:
                result["passed"] = False
        out[case] = result
    return out


def within_spread(results: Dict[str, Dict[str, object]], own: Dict[str, Dict[str, object]]) -> None:
    """Decide the cases of `own` (a code against itself, from `compare`: the larger of the two codes' own
    spreads) in `results` (this code against the reference): each passes when its difference is at most
    SPREAD_FACTOR × that spread; `spread` is recorded."""
    for case, o in own.items():
        r = results[case]
        r["spread"] = o["worst"]
        r["passed"] = o["problem"] is None and r["worst"] <= SPREAD_FACTOR * o["worst"]


def load_fingerprint(path: str):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k != "__meta__"}
        meta = json.loads(str(data["__meta__"]))
    return arrays, meta


def commit_of(source: str) -> Optional[str]:
    """The commit a record's `source` names, or None when it cannot be checked out (uncommitted changes, no git)."""
    match = re.fullmatch(r"jare_tf \S+, commit ([0-9a-f]{7,40})", source)
    return match.group(1) if match else None


def commit_time(tree: str, source: str) -> int:
    """The commit time of a record's source (0 when it names no commit the checkout knows)."""
    commit = commit_of(source)
    done = subprocess.run(["git", "-C", tree, "log", "-1", "--format=%ct", commit or "-"], capture_output=True,
                          text=True) if commit else None
    return int(done.stdout.strip()) if done is not None and done.returncode == 0 and done.stdout.strip() else 0


def current_tree() -> str:
    """The root of the checkout this package runs from (its jare_tf/ and configs/)."""
    import jare_tf
    import jare_tf.configs
    root = os.path.dirname(os.path.dirname(os.path.abspath(jare_tf.__file__)))
    configs = os.path.dirname(os.path.abspath(jare_tf.configs.__file__))
    if configs != os.path.join(root, "configs"):
        raise ValueError(f"--check_code needs a source checkout (jare_tf/ beside configs/); this package runs from "
                         f"{root} with its configs at {configs}.")
    return root


def run_fingerprint(tree: str, grid_name: str, steps: int, cases: Sequence[str], out: str,
                    data_dir: Optional[str], log: Callable[[str], None]):
    #: Run by path, not imported: it imports the training code of `tree` (fingerprint.py).
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fingerprint.py")
    command = [sys.executable, script, tree, grid_name, str(steps), out, *cases]
    if data_dir:
        command.append(f"--data_dir={data_dir}")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONPATH", None)
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    for line in done.stdout.splitlines():
        log(f"  {line}")
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise ValueError(f"training the first {steps} iterations with the code of {tree} failed:\n{tail}")
    return load_fingerprint(out)


def check(store: run_store.RunStore, grid_name: str, protocol: Dict[str, object], cases: Sequence[str],
          data_dir: Optional[str] = None, steps: int = STEPS, log: Callable[[str], None] = print) -> List[str]:
    """Check this checkout's training code against the code of every stored run of `protocol` that another code
    made; store an equivalence record for each that passes. Returns the records written; raises ValueError with
    the failing cases when the code differs."""
    loaded = store.load(protocol)
    code = provenance.training_code_sha256()
    sources = {}     # another code → the sources (commits) of its records
    for record in loaded.all_records:
        if f"{record['setting']}:{record['method']}" not in cases:
            continue           # another grid's run in a shared store: its own grid's check covers it
        if record["training_code_sha256"] != code and not loaded.same_code(record, code):
            sources.setdefault(record["training_code_sha256"], set()).add(record["source"])
    if not sources:
        log(f"Every stored run of this grid was made by this training code ({code[:12]}…), or by code shown "
            f"equivalent to it: nothing to check.")
        return []
    tree = current_tree()
    # The newest commit of each code is checked out: its grids module runs the fingerprint's interface.
    others = {c: max(sorted(found), key=lambda source: commit_time(tree, source)) for c, found in sources.items()}
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        log(f"This checkout ({tree}, training code {code[:12]}…): the first {steps} iterations of {len(cases)} "
            f"case(s) ...")
        current, current_meta = run_fingerprint(tree, grid_name, steps, cases, os.path.join(scratch, "current.npz"),
                                                data_dir, log)
        for reference_code, source in sorted(others.items()):
            commit = commit_of(source)
            if commit is None:
                raise ValueError(f"the stored runs of training code {reference_code[:12]}… were made by '{source}', "
                                 f"which cannot be checked out; their code cannot be compared.")
            worktree = os.path.join(scratch, f"reference_{commit}")
            git = subprocess.run(["git", "-C", tree, "worktree", "add", "--detach", worktree, commit],
                                 capture_output=True, text=True)
            if git.returncode != 0:
                raise ValueError(f"cannot check out commit {commit} (of the stored runs of training code "
                                 f"{reference_code[:12]}…) from {tree}: {git.stderr.strip()}")
            try:
                log(f"Commit {commit} (training code {reference_code[:12]}…, the stored runs'): the same iterations "
                    f"...")
                reference, meta = run_fingerprint(worktree, grid_name, steps, cases,
                                                  os.path.join(scratch, f"{commit}.npz"), data_dir, log)
                if meta["training_code_sha256"] != reference_code:
                    raise ValueError(f"commit {commit}'s training code is {meta['training_code_sha256'][:12]}…, not "
                                     f"the {reference_code[:12]}… its stored runs name; they cannot be compared.")
                results = compare(reference, current, cases)
                unsure = [case for case, r in results.items() if not r["passed"] and r["problem"] is None]
                if unsure:
                    # Floats beyond the allowance: is that the code, or do the codes not repeat these iterations
                    # themselves? A second run of each on those cases measures their own spread (the larger).
                    log(f"Both codes again, for {', '.join(unsure)}: their own run-to-run spread ...")
                    again, _ = run_fingerprint(tree, grid_name, steps, unsure, os.path.join(scratch, "again.npz"),
                                               data_dir, log)
                    reference_again, _ = run_fingerprint(worktree, grid_name, steps, unsure,
                                                         os.path.join(scratch, "reference_again.npz"), data_dir, log)
                    own = compare(current, again, unsure)
                    for case, o in compare(reference, reference_again, unsure).items():
                        if o["problem"] or o["worst"] > own[case]["worst"]:
                            own[case] = o
                    within_spread(results, own)
            finally:
                subprocess.run(["git", "-C", tree, "worktree", "remove", "--force", worktree], capture_output=True)
                shutil.rmtree(worktree, ignore_errors=True)
            for case, r in results.items():
                spread = (f", {r['worst'] / r['spread']:.2g}× the codes' own spread" if r.get("spread") else "")
                state = "identical" if r["identical"] else (
                    f"within tolerance (worst {r['worst']:.2g} of the allowance{spread})" if r["passed"] else
                    f"DIFFERS: {r['problem'] or ''} {r['variable'] or ''} at {r['worst']:.3g}× the allowance{spread}")
                log(f"  {case}: {state}")
            failed = [case for case, r in results.items() if not r["passed"]]
            if failed:
                raise ValueError(f"this training code ({code[:12]}…) does not train the trajectories of the stored "
                                 f"runs' code ({reference_code[:12]}…, commit {commit}) for {', '.join(failed)}; "
                                 f"the stored runs stay theirs, and runs trained now are stored beside them.")
            written.append(store.write_equivalence(
                training_code_sha256=code, equivalent_to=reference_code, source=current_meta["source"],
                reference_source=source, machine=provenance.machine(), steps=steps, rtol=RTOL,
                atol_scale=ATOL_SCALE, spread_factor=SPREAD_FACTOR,
                cases={case: {"identical": r["identical"], "worst": r["worst"], "spread": r.get("spread", 0.0)}
                       for case, r in results.items()},
                stored_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
            log(f"Stored {written[-1]}: training code {code[:12]}… trains the stored runs' trajectories.")
    return written
