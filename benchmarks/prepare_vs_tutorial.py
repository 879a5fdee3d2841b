"""Benchmark: the Preliminaries stage, ours (`fab prepare`, pyinfra) against the reference
(the tutorial's own commands typed over SSH: ssh-keygen, ssh-copy-id with agent forwarding,
`service firewalld stop`, `apt remove` of the Docker packages), side by side on the same lab,
alternating, from pristine nodes each time (`lab.reset`). Also times our second, no-change run.

    sudo .venv/bin/python benchmarks/prepare_vs_tutorial.py [ROUNDS]

Needs the lab (root). Writes the table to stdout; docs/benchmarks.md records a run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gourmetops import PROJECT_ROOT  # noqa: E402
from gourmetops import lab as labmod  # noqa: E402
from gourmetops.settings import host_settings  # noqa: E402
from gourmetops.targets import LAB_DIR, lab_target  # noqa: E402

FAB = str(Path(sys.executable).with_name("fab"))


def reference_script(addresses: list[str], user: str) -> str:
    """The tutorial's Preliminaries, verbatim but for the addresses, run on node1."""
    copy = "".join(
        f"ssh-copy-id -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
        f"-i ~/.ssh/id_rsa.pub {user}@{a}; "
        for a in addresses
    )
    stop_fw = "".join(
        f"ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null {user}@{a} "
        f"'sudo service firewalld stop'; "
        for a in addresses
    )
    return (
        'ssh-keygen -t rsa -b 4096 -f ~/.ssh/id_rsa -q -N ""; '
        + copy
        + stop_fw
        + f"sudo apt -y remove {' '.join(host_settings('lab').docker_packages)}; "
        "sudo rm /etc/apt/sources.list.d/docker.list; sudo apt update; true"
    )


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def main(rounds: int) -> None:
    target = lab_target()
    labmod.up(target)
    cfg = str(target.write_ssh_config())
    agent = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, check=True).stdout
    env = dict(os.environ)
    for part in agent.replace("\n", ";").split(";"):
        if "=" in part and not part.strip().startswith("echo"):
            key, value = part.strip().split("=", 1)
            env[key] = value
    agent_pid = int(env["SSH_AGENT_PID"])
    try:
        subprocess.run(["ssh-add", "-q", str(LAB_DIR / "id_ed25519")], env=env, check=True)
        addresses = [str(n.address) for n in target.cluster.nodes]
        ref = reference_script(addresses, target.cluster.user)
        results: dict[str, list[float]] = {
            "tutorial commands": [],
            "fab prepare": [],
            "fab prepare, second run": [],
        }
        for i in range(rounds):
            labmod.reset(target)
            results["tutorial commands"].append(
                timed(["ssh", "-F", cfg, "-A", "-o", "BatchMode=yes", "node1", ref], env)
            )
            labmod.reset(target)
            results["fab prepare"].append(timed([FAB, "prepare"]))
            results["fab prepare, second run"].append(timed([FAB, "prepare"]))
            print(
                f"round {i + 1}: " + ", ".join(f"{k} {v[-1]:.1f}s" for k, v in results.items()),
                flush=True,
            )
    finally:
        os.kill(agent_pid, 15)
    print("\n| run | mean (s) | min (s) | max (s) |\n|---|---|---|---|")
    for name, values in results.items():
        print(f"| {name} | {statistics.mean(values):.1f} | {min(values):.1f} | {max(values):.1f} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
