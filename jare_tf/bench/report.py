"""jare-bench's output: the per-setting table, the findings read off it, and docs/results/speed.md (one section
per command, kept in speed.json beside it)."""

import json
import os
from typing import List

from jare_tf.bench.parsing import BASELINE


#: The figures --json prints per method.
PUBLIC = ("sec_per_1k", "ratio_to_gan", "peak_mem_mb")


def table(results) -> List[str]:
    lines = ["| method | s / 1K iterations | ratio to gan | min – max s / 1K | conv + matmul GFLOP (× gan) | "
             "peak memory (MiB) | trace + first call (s) |", "|---|---:|---:|---|---:|---:|---:|"]
    base = results[BASELINE]["gflop"]
    for label, r in results.items():
        suffix = "" if r["policy"] == "float32" else f" ({r['policy']})"
        lines.append(f"| {label}{suffix} | {r['sec_per_1k']:.1f} | {r['ratio_to_gan']:.2f} | "
                     f"{r['min_sec_per_1k']:.1f} – {r['max_sec_per_1k']:.1f} | "
                     f"{r['gflop']:.2f} ({r['gflop'] / base:.2f}) | {r['peak_mem_mb']:.0f} | "
                     f"{r['trace_s']:.1f} |")
    return lines


def findings(results) -> List[str]:
    """The comparisons the issue asks about, read off one setting's results."""
    out = []
    if {"jare", "conopt"} <= set(results):
        j, c = results["jare"]["ratio_to_gan"], results["conopt"]["ratio_to_gan"]
        out.append(f"jare/gan {j:.2f}, conopt/gan {c:.2f}: jare {'≤' if j <= c else '>'} conopt")
    for base in ("jare", "conopt"):
        fwd = f"{base}:hvp=forward"
        if base in results and fwd in results:
            r, f = results[base]["sec_per_1k"], results[fwd]["sec_per_1k"]
            out.append(f"{base}: reverse-over-reverse {r:.0f}, forward-over-reverse {f:.0f} s/1K → "
                       f"{'reverse' if r <= f else 'forward'} is faster (forward/reverse {f / r:.2f})")
    return out


def render(runs) -> str:
    lines = [
        "# Training speed: seconds per 1K iterations (JARE paper Fig. 4)",
        "",
        "Written by `jare-bench --report`; each section is one command, run again to replace it. Do not edit by "
        "hand.",
        "",
        "Protocol: every method is built as training builds it (the setting's models and optimizers, the "
        "Updater) and runs steps_per_execution iterations per call of one tf.function; tracing, compilation and "
        "the first call are excluded. The methods are timed in interleaved rounds (the order rotates from round "
        "to round) in one process; seconds per 1K iterations is the median over rounds, the ratio to gan the "
        "median of the per-round ratios; rounds in which other processes took a share of the machine are left "
        "out (each setting says how many rounds were used). Peak memory is the method's resident state "
        "(parameters, layer state, optimizer slots) plus the peak working memory of one call above what was in "
        "use before it. GFLOP: the convolutions and matrix products one iteration executes (after pruning and "
        "merging of identical subexpressions), about the least time ratio reachable with the same kernels.",
    ]
    for run in runs:
        results, infos = run["results"], run["infos"]
        labels = list(next(iter(results.values())).keys())
        lines += ["", f"## `{run['command']}`", "",
                  f"- Machine: {run['machine']}",
                  f"- Source: {run.get('source', 'not recorded (a section written before jare-bench recorded it)')}",
                  f"- Date: {run['date']}",
                  f"- Options: {run['options']}",
                  "", "Seconds per 1K iterations (ratio to gan):", "",
                  "| setting | " + " | ".join(labels) + " |",
                  "|---|" + "---:|" * len(labels)]
        for setting, res in results.items():
            lines.append(f"| {setting} | " + " | ".join(
                f"{res[m]['sec_per_1k']:.0f} ({res[m]['ratio_to_gan']:.2f})" if m in res else "–"
                for m in labels) + " |")
        checks = [f"- {setting}: {text}" for setting, res in results.items() for text in findings(res)]
        if checks:
            lines += [""] + checks
        for setting, res in results.items():
            info = infos[setting]
            lines += ["", f"### Setting {setting}", "",
                      f"Batch {info['batch_size']}; {info['steps']} timed iterations of every method per round, "
                      f"{info['spe']} iterations per call; {rounds_text(info)}; device {info['device']}; "
                      f"memory: {info['memory']}.", ""]
            lines += table(res)
    return "\n".join(lines) + "\n"


def rounds_text(info) -> str:
    text = (f"{info['rounds_used']} of {info['rounds']} rounds used (left out: rounds in which other processes "
            f"used more than {100 * info['max_contention']:.0f}% of the machine; {info['contention']})")
    if info["rounds_used"] == info["rounds"] and info["clean_rounds"] < info["rounds"]:
        text += "; too few clean rounds, so all are used: the figures are contended"
    if info.get("timed_out"):
        text += "; stopped by --max_minutes"
    return text


def _atomic_write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_report(path: str, run: dict) -> None:
    """Replace (or add) this command's section; the sections live in a JSON file beside the markdown."""
    store = os.path.splitext(path)[0] + ".json"
    runs = []
    if os.path.exists(store):
        with open(store, encoding="utf-8") as f:
            runs = json.load(f)
    runs = [r for r in runs if r["key"] != run["key"]] + [run]
    _atomic_write(store, json.dumps(runs, indent=1) + "\n")
    _atomic_write(path, render(runs))
