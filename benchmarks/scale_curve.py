"""Benchmark: how prepare's cost grows with the number of nodes, ours against the Ansible
reference, side by side in one run: 3, 6 and 12 lab nodes by default.

For every size the lab is brought up with cluster.yaml grown to that many nodes
(gourmetops.lab.scaled, what `fab lab.scale` writes), then, as benchmarks/prepare_vs_ansible.py
does at three nodes: each round resets the lab to pristine nodes before every contender's
first run, checks the state it left (the same check for both tools), and times no-op
reruns that must report no change; the contenders' order rotates every round. Ansible runs
with `forks` = the number of nodes (its default of 5 would hold it back at 6 and 12 nodes).
Also measured per size: `fab lab.up` from down, and each node's memory (the PSS of its
processes) idle after boot and after a prepare.

    sudo .venv/bin/python benchmarks/scale_curve.py [--sizes 3 6 12] [--rounds 3] [--noop 3]
    .venv/bin/python benchmarks/scale_curve.py --render    # again from docs/scale_curve.json

The contenders are prepare_vs_ansible's, Ansible under Mitogen's strategy included.

Needs the lab (root), ansible, mitogen and matplotlib (`pip install -e '.[dev,bench]'`).
Prints the tables for docs/benchmarks.md, writes the plot to docs/scale_curve.png and the
raw times to docs/scale_curve.json (a size measured before a contender existed has no
times for it: the tables and plot then leave that contender out).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.prepare_vs_ansible import (  # noqa: E402
    CONTENDERS,
    measure_rounds,
    preflight,
    ratio,
)
from gourmetops import PROJECT_ROOT  # noqa: E402
from gourmetops import lab as labmod  # noqa: E402
from gourmetops.cluster import CLUSTER_ENV, load_cluster  # noqa: E402
from gourmetops.lab import machines  # noqa: E402
from gourmetops.lab.scaled import write_scaled  # noqa: E402
from gourmetops.targets import LAB_DIR, Target, lab_target  # noqa: E402

DOCS = PROJECT_ROOT / "docs"


def node_memory_mb(target: Target) -> list[float]:
    """Each running node's memory: the PSS of its processes (gourmetops.lab.machines)."""
    return [machines.memory_mib(node.name) for node in target.cluster.nodes]


def measure_size(nodes: int, rounds: int, noop_repeats: int) -> dict:
    path = LAB_DIR / "clusters" / f"cluster-{nodes}.yaml"
    write_scaled(load_cluster(), nodes, path)
    os.environ[CLUSTER_ENV] = str(path)  # for this process and every tool it starts
    target = lab_target(load_cluster(path))
    labmod.down(target)
    started = time.monotonic()
    labmod.up(target)
    result: dict = {"nodes": nodes, "lab_up_s": time.monotonic() - started}
    result["memory_idle_mb"] = node_memory_mb(target)
    measured = measure_rounds(target, rounds, noop_repeats, label=f"{nodes} nodes, ")
    result["memory_prepared_mb"] = node_memory_mb(target)
    result["first"], result["noop"] = measured.first, measured.noop
    result["failed"] = measured.failed
    return result


def contenders(results: list[dict]) -> list[str]:
    """The contenders measured at every size: a JSON written before a contender was added
    (or merged with such sizes) has no times for it."""
    return [n for n in CONTENDERS if all(n in r["first"] for r in results)]


def _times(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "-"


def tables(results: list[dict]) -> str:
    """Medians per size, each contender over ours, ours' growth and the lab's cost, then
    the failed runs (a size measured before they were recorded has none)."""
    med = statistics.median
    names = contenders(results)
    ours = names[0]
    head = "| nodes | " + " | ".join(f"{n}, first / no-op (s)" for n in names) + " |"
    lines = [head, "|---" * (len(names) + 1) + "|"]
    for r in results:
        cells = [f"{_times(r['first'][n])} / {_times(r['noop'][n])}" for n in names]
        lines.append(f"| {r['nodes']} | " + " | ".join(cells) + " |")
    lines += ["", "| nodes | " + " | ".join(f"{n} / ours, first / no-op" for n in names[1:])]
    lines[-1] += " |"
    lines.append("|---" * len(names) + "|")
    for r in results:
        cells = [
            f"{ratio(r['first'][n], r['first'][ours])} / {ratio(r['noop'][n], r['noop'][ours])}"
            for n in names[1:]
        ]
        lines.append(f"| {r['nodes']} | " + " | ".join(cells) + " |")
    base = results[0]
    lines += ["", "| nodes | ours no-op / at " + f"{base['nodes']} nodes | `fab lab.up` (s) | "
              "memory per node, idle / prepared (MiB, median) |", "|---|---|---|---|"]  # fmt: skip
    for r in results:
        growth = ratio(r["noop"][ours], base["noop"][ours])
        lines.append(
            f"| {r['nodes']} | {growth} | {r['lab_up_s']:.1f} | "
            f"{med(r['memory_idle_mb']):.0f} / {med(r['memory_prepared_mb']):.0f} |"
        )
    failed = [
        f"| {r['nodes']} | {name} | {why} |"
        for r in results
        for name, whys in r.get("failed", {}).items()
        for why in whys
    ]
    if failed:
        lines += ["", "| nodes | failed run (no time recorded) | why |", "|---|---|---|", *failed]
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    sizes = [r["nodes"] for r in results]
    for ax, kind, title in ((axes[0], "first", "first run"), (axes[1], "noop", "no-op rerun")):
        for name in contenders(results):
            shown = [
                (r["nodes"], statistics.median(r[kind][name])) for r in results if r[kind][name]
            ]
            ax.plot(*zip(*shown, strict=True), marker="o", label=name)
        ax.set_title(f"prepare, {title} (median)")
        ax.set_xlabel("nodes")
        ax.set_ylabel("seconds")
        ax.set_xticks(sizes)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 6, 12])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--noop", type=int, default=3)
    parser.add_argument("--render", action="store_true", help="tables and plot from the JSON")
    parser.add_argument("--merge", action="store_true", help="keep the JSON's other sizes")
    args = parser.parse_args()
    if args.render:
        results = json.loads((DOCS / "scale_curve.json").read_text())
        plot(results, DOCS / "scale_curve.png")
        print(tables(results))
        return
    preflight()
    path = DOCS / "scale_curve.json"
    kept = json.loads(path.read_text()) if args.merge and path.exists() else []
    results = [r for r in kept if r["nodes"] not in args.sizes]
    try:
        for nodes in args.sizes:
            results.append(measure_size(nodes, args.rounds, args.noop))
            results.sort(key=lambda r: r["nodes"])
            path.write_text(json.dumps(results, indent=1) + "\n")  # each size as it is done
    finally:
        labmod.down()  # every node of ours, whatever the size
        os.environ.pop(CLUSTER_ENV, None)
    plot(results, DOCS / "scale_curve.png")
    print(tables(results))


if __name__ == "__main__":
    main()
