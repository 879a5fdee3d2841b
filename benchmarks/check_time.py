"""Benchmark: `fab check` (every pre-install check on every node) against what kubespray
needs before its own first assert can fire: Ansible's fact gathering on the same nodes
through the same jump host (`ansible all -m setup`, as cluster.yml's first play does).
Side by side on the same lab in one run, alternating, the order flipped every round.

    sudo .venv/bin/python benchmarks/check_time.py [ROUNDS]     # default 5

Needs the running lab, prepared and with the container engine (`fab prepare` and
`pyinfra inventories/lab.py deploys/lab_container_engine.py`), so that `fab check` exits 0.
Writes the table to stdout; docs/benchmarks.md records a run.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.ansible_reference import write_inventory  # noqa: E402
from benchmarks.prepare_vs_ansible import timed_run  # noqa: E402
from gourmetops.targets import lab_target  # noqa: E402

BIN = Path(sys.executable).parent


def main(rounds: int) -> None:
    target = lab_target()
    hosts = write_inventory(target)
    with tempfile.TemporaryDirectory() as cp_dir:
        os.environ.update(ANSIBLE_SSH_CONTROL_PATH_DIR=cp_dir, ANSIBLE_NOCOLOR="1")
        contenders = {
            "fab check (pre, 3 nodes)": lambda: timed_run([str(BIN / "fab"), "check"])[0],
            "ansible -m setup (3 nodes)": lambda: timed_run(
                [str(BIN / "ansible"), "all", "-i", str(hosts), "-m", "setup"]
            )[0],
        }
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for r in range(rounds):
            order = list(contenders) if r % 2 == 0 else list(reversed(contenders))
            for name in order:
                times[name].append(contenders[name]())
    print(f"{rounds} rounds, lab on this machine, {time.strftime('%Y-%m-%d')}\n")
    print("| run | mean (s) | min (s) | max (s) |\n|---|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {statistics.mean(values):.2f} | {min(values):.2f} | {max(values):.2f} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
