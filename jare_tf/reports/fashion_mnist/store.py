"""Stored results of finished Fashion-MNIST runs, so a grid accumulates over sittings and machines.

Each finished and scored run of a report's grid is one small JSON file under `docs/results/<report>/runs/`
(committed with the report): its eval records, final metrics, seconds, the grid's protocol, the resolved
config, the package version and commit, the machine, and the sha256 of the training code that made it
(`provenance.training_code_sha256`). The report is rendered from these files alone, so a fresh clone re-renders
it byte for byte without training, and `jare-reproduce` skips the runs already stored for the same protocol and
training code.

A record file is checked when it is read: one that is not JSON, lacks a field, fails its own content hash
(edited or truncated), or was made for another grid protocol is named and skipped, never mixed in. Several
records of one run (made by different training code) may be stored side by side; the newest is reported, and
the report names every row's commit and marks a mixture of training codes. An equivalence record
(equivalence.py: another code shown to train the same trajectories for the grid's cases) joins two codes.
"""

import dataclasses
import hashlib
import json
import os
import time
from typing import Dict, List, Optional, Tuple

from jare_tf.training.workdir import write_json

RUN_FORMAT = "jare_tf/fashion_mnist_run/1"
FLOOR_FORMAT = "jare_tf/fashion_mnist_floor/1"
EQUIVALENCE_FORMAT = "jare_tf/code_equivalence/1"
EQUIVALENCE_FIELDS = ("training_code_sha256", "equivalent_to", "source", "reference_source", "machine", "steps",
                      "rtol", "atol_scale", "spread_factor", "cases", "stored_at")
RUN_FIELDS = ("format", "setting", "method", "seed", "protocol", "training_code_sha256", "source", "machine",
              "config", "records", "final_metrics", "timing", "stored_at", "content_sha256")

RunKey = Tuple[str, str, int]


def content_sha256(document: Dict[str, object]) -> str:
    """sha256 of the canonical JSON of `document` without its own content_sha256 field."""
    body = {k: v for k, v in document.items() if k != "content_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def sealed(document: Dict[str, object]) -> Dict[str, object]:
    return dict(document, content_sha256=content_sha256(document))


def file_stem(setting: str, method: str, seed: int) -> str:
    """A run's name in file names: C, jare:every=4, 1 → C_jare_every4_seed1."""
    return f"{setting}_{method.replace(':', '_').replace('=', '')}_seed{seed}"


@dataclasses.dataclass
class Loaded:
    """What a store holds for one protocol: the newest record of each run, every record, and the files skipped
    (name → why)."""
    runs: Dict[RunKey, Dict[str, object]]
    all_records: List[Dict[str, object]]
    skipped: Dict[str, str]
    floors: Dict[str, Dict[str, object]]     # classifier sha256 → floor record
    #: Equivalence records: pairs of training codes shown to train the same trajectories for their `cases`.
    equivalences: List[Dict[str, object]] = dataclasses.field(default_factory=list)

    def codes_like(self, code: str, case: str) -> List[str]:
        """The training codes joined to `code` by equivalence records that list `case` ("setting:method"),
        `code` included, sorted."""
        found, todo = {code}, [code]
        while todo:
            here = todo.pop()
            for e in self.equivalences:
                if case in e["cases"]:
                    for a, b in ((e["training_code_sha256"], e["equivalent_to"]),
                                 (e["equivalent_to"], e["training_code_sha256"])):
                        if a == here and b not in found:
                            found.add(b)
                            todo.append(b)
        return sorted(found)

    def same_code(self, record: Dict[str, object], code: str) -> bool:
        """Was `record` made by `code`, or by a code shown equivalent to it for the record's case?"""
        return record["training_code_sha256"] in self.codes_like(code, f"{record['setting']}:{record['method']}")


class RunStore:
    def __init__(self, folder: str):
        self.folder = folder

    def path(self, setting: str, method: str, seed: int, code_sha256: str) -> str:
        return os.path.join(self.folder, f"{file_stem(setting, method, seed)}_{code_sha256[:12]}.json")

    def write_run(self, setting: str, method: str, seed: int, protocol: Dict[str, object], *,
                  training_code_sha256: str, source: str, machine: str, config: Dict[str, object],
                  records: List[Dict[str, object]], final_metrics: Dict[str, object],
                  timing: Dict[str, object]) -> str:
        document = sealed({
            "format": RUN_FORMAT, "setting": setting, "method": method, "seed": seed, "protocol": protocol,
            "training_code_sha256": training_code_sha256, "source": source, "machine": machine, "config": config,
            "records": records, "final_metrics": final_metrics, "timing": timing,
            "stored_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        path = self.path(setting, method, seed, training_code_sha256)
        os.makedirs(self.folder, exist_ok=True)
        write_json(path, document)
        return path

    def write_floor(self, classifier: Dict[str, object], floor: Dict[str, object]) -> str:
        path = os.path.join(self.folder, f"floor_{classifier['sha256'][:12]}.json")
        os.makedirs(self.folder, exist_ok=True)
        write_json(path, sealed({"format": FLOOR_FORMAT, "classifier": classifier, "floor": floor}))
        return path

    def write_equivalence(self, **fields) -> str:
        path = os.path.join(self.folder, f"code_{fields['training_code_sha256'][:12]}_"
                                         f"{fields['equivalent_to'][:12]}.json")
        os.makedirs(self.folder, exist_ok=True)
        write_json(path, sealed({"format": EQUIVALENCE_FORMAT, **{k: fields[k] for k in EQUIVALENCE_FIELDS}}))
        return path

    def _read(self, name: str) -> Tuple[Optional[Dict[str, object]], Optional[str]]:
        try:
            with open(os.path.join(self.folder, name), encoding="utf-8") as f:
                document = json.load(f)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            return None, f"damaged: not readable JSON ({type(e).__name__}: {str(e)[:80]})"
        if not isinstance(document, dict) or document.get("format") not in (RUN_FORMAT, FLOOR_FORMAT,
                                                                            EQUIVALENCE_FORMAT):
            return None, "foreign: not a jare_tf Fashion-MNIST run, floor or code-equivalence record"
        if document.get("content_sha256") != content_sha256(document):
            return None, "damaged: its content does not match its content_sha256 (edited or truncated)"
        return document, None

    def load(self, protocol: Dict[str, object]) -> Loaded:
        """Every valid record of `protocol` and the floor records; the other files are named as skipped."""
        runs: Dict[RunKey, Dict[str, object]] = {}
        records, skipped, floors, equivalences = [], {}, {}, []
        names = sorted(os.listdir(self.folder)) if os.path.isdir(self.folder) else []
        for name in names:
            if not name.endswith(".json"):
                skipped[name] = "foreign: not a .json record"
                continue
            document, why = self._read(name)
            if document is None:
                skipped[name] = why
            elif document["format"] == FLOOR_FORMAT:
                floors[document["classifier"]["sha256"]] = document
            elif document["format"] == EQUIVALENCE_FORMAT:
                missing = [f for f in EQUIVALENCE_FIELDS if f not in document]
                if missing:
                    skipped[name] = f"damaged: lacks {missing}"
                else:
                    equivalences.append(document)
            elif any(field not in document for field in RUN_FIELDS):
                skipped[name] = f"damaged: lacks {[f for f in RUN_FIELDS if f not in document]}"
            elif document["protocol"] != protocol:
                skipped[name] = f"foreign: made for another protocol ({json.dumps(document['protocol'], sort_keys=True)})"
            else:
                records.append(document)
                key = (document["setting"], document["method"], document["seed"])
                if key not in runs or document["stored_at"] > runs[key]["stored_at"]:
                    runs[key] = document
        return Loaded(runs, records, skipped, floors, equivalences)
