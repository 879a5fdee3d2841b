"""The Ansible reference for deploys/prepare.py: its inventory, derived from the cluster
model and group_data like our own, a timed run of benchmarks/ansible/prepare.yml (plain,
pipelined, or under Mitogen's strategy), and a check that a run left the host state
deploys/prepare.py describes.

Used by benchmarks/prepare_vs_ansible.py, tests/test_ansible_reference.py (which proves
the reference really reaches the same state, so the comparison is fair) and
tests/test_mitogen.py (which proves, without the lab, that Mitogen's strategy loads and
runs modules under the installed ansible-core, and that the proof of it below works).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchmarks.mitogen import MitogenError, mitogen_env, mitogen_playbook, mitogen_problems
from gourmetops import PROJECT_ROOT
from gourmetops.jump import RELOAD_SSHD, SSHD_DROPIN, max_startups, sshd_dropin
from gourmetops.kubespray.recap import HostRecap, parse_recap
from gourmetops.settings import host_settings
from gourmetops.targets import Target

PLAYBOOK = PROJECT_ROOT / "benchmarks" / "ansible" / "prepare.yml"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))


def inventory(target: Target) -> dict:
    """An Ansible inventory of the target: the groups pyinfra uses, the same ssh_config
    (node1 direct, node2/node3 through it) and the same group_data values."""
    data = host_settings(target.name)
    groups = target.groups()
    return {
        "all": {
            "vars": {
                "ansible_ssh_common_args": f"-F {target.write_ssh_config()}",
                "ansible_python_interpreter": "/usr/bin/python3",
                "ssh_user": target.cluster.user,
                "cluster_key_bits": data.cluster_key_bits,
                "docker_packages": list(data.docker_packages),
                "docker_apt_source": data.docker_apt_source,
                "apt_update_offline_ok": data.apt_update_offline_ok,
                "jump_sshd_dropin": SSHD_DROPIN,
                "jump_sshd_content": sshd_dropin(len(target.cluster.nodes)),
                "jump_sshd_reload": RELOAD_SSHD,
            },
            "children": {
                group: {
                    "hosts": {
                        name: {"private_address": hdata["private_address"]}
                        for name, hdata in members
                    }
                }
                for group, members in groups.items()
            },
        }
    }


def write_inventory(target: Target) -> Path:
    path = target.state_dir / "ansible" / "hosts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(inventory(target), indent=2))
    return path


@dataclass(frozen=True)
class AnsibleRun:
    seconds: float
    recap: dict[str, HostRecap]
    output: str

    @property
    def changed(self) -> int:
        return sum(r.changed for r in self.recap.values())


def _env(target: Target, cp_dir: str, *, pipelining: bool, mitogen: bool) -> dict[str, str]:
    """ansible-playbook's environment, the same for every contender but for pipelining and
    Mitogen's strategy (which ignores pipelining: it runs modules in its own interpreter)."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_PIPELINING="True" if pipelining else "False",
        ANSIBLE_SSH_CONTROL_PATH_DIR=cp_dir,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="False",
        # Every node at once, as pyinfra does (Ansible's default is 5 at a time).
        ANSIBLE_FORKS=str(max(5, len(target.cluster.nodes))),
        # A connection node1's stock sshd drops (MaxStartups) is tried again, as pyinfra
        # tries its workers' (gourmetops.targets): at twelve nodes Ansible met it too.
        ANSIBLE_SSH_RETRIES="2",
    )
    if mitogen:
        env.update(mitogen_env())
    return env


def run_playbook(target: Target, *, pipelining: bool, mitogen: bool = False) -> AnsibleRun:
    """One ansible-playbook run, timed, from cold: a fresh ControlPath directory, so no SSH
    connection is left over from an earlier run (pyinfra keeps none either). Under Mitogen
    the proof play runs last (timed with the rest) and must show Mitogen's ssh to every
    node, or MitogenError is raised: no time is reported for a run Mitogen did not carry."""
    hosts = write_inventory(target)
    playbook = mitogen_playbook(PLAYBOOK, hosts.parent) if mitogen else PLAYBOOK
    with tempfile.TemporaryDirectory(prefix="gourmetops-ansible-cp-") as cp_dir:
        env = _env(target, cp_dir, pipelining=pipelining, mitogen=mitogen)
        start = time.monotonic()
        proc = subprocess.run(
            [ANSIBLE_PLAYBOOK, "-i", str(hosts), str(playbook)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=600,
        )
        seconds = time.monotonic() - start
        # End the ControlPersist masters this run started (they hold the directory open).
        for sock in Path(cp_dir).iterdir():
            subprocess.run(
                ["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "x"],
                capture_output=True,
                timeout=10,
            )
    if proc.returncode != 0:
        raise RuntimeError(f"ansible-playbook failed ({proc.returncode}):\n{proc.stdout[-4000:]}")
    if mitogen:
        problems = mitogen_problems(proc.stdout, [n.name for n in target.cluster.nodes], "ssh")
        if problems:
            raise MitogenError(f"Mitogen did not carry the run: {'; '.join(problems)}")
    return AnsibleRun(seconds, parse_recap(proc.stdout), proc.stdout)


def state_problems(target: Target) -> list[str]:
    """What differs from the state deploys/prepare.py describes, read over SSH on the nodes
    (empty when the state is right). Both tools are held to this same check. One ssh per
    node for what it holds, all nodes side by side (eight at a time through node1)."""

    def sh(node: str, command: str) -> str:
        return subprocess.run(
            target.ssh_argv(node, command),
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()

    data = host_settings(target.name)
    nodes = target.cluster.nodes
    head = target.cluster.jump.name
    problems = []
    split = "@@gourmetops@@"
    parts = sh(
        head,
        f"; echo {split}; ".join(
            [
                "cat ~/.ssh/id_rsa.pub",
                "stat -c %a ~/.ssh/id_rsa",
                "ssh-keygen -l -f ~/.ssh/id_rsa.pub | cut -d' ' -f1",
                "cat ~/.ssh/known_hosts",
                "dpkg-query -W -f '${Package} ${Status}\\n' 2>/dev/null",
                f"test -e {data.docker_apt_source} && echo present",
                f"cat {SSHD_DROPIN}",
                "sudo sshd -T | grep -i '^maxstartups'",
            ]
        ),
    ).split(split)
    if len(parts) != 8:
        return [f"{head}: not reached over ssh"]
    pubkey, mode, bits, known, installed, apt_source, dropin, starts = parts
    pubkey, known_lines = pubkey.strip(), known.strip().splitlines()
    if not pubkey.startswith("ssh-rsa "):
        problems.append(f"{head}: no RSA key in ~/.ssh/id_rsa.pub")
    if mode.strip() != "600":
        problems.append(f"{head}: ~/.ssh/id_rsa is not 0600")
    if bits.strip() != str(data.cluster_key_bits):
        problems.append(f"{head}: key has {bits.strip()} bits")
    key_body = " ".join(pubkey.split()[:2])

    def node_state(node) -> tuple[str, str, list[str]]:
        """(authorized_keys, firewalld, served host keys) of one node, in one ssh."""
        parts = sh(
            node.name,
            f"cat ~/.ssh/authorized_keys; echo {split}; systemctl is-active firewalld; "
            f"systemctl is-enabled firewalld; echo {split}; cat /etc/ssh/ssh_host_*_key.pub",
        ).split(split)
        keys, firewalld, served = parts if len(parts) == 3 else ("", "not reached", "")
        return keys, firewalld.strip(), served.strip().splitlines()

    with ThreadPoolExecutor(max_workers=8) as pool:
        states = dict(zip(nodes, pool.map(node_state, nodes), strict=True))
        reached = dict(
            zip(
                nodes,
                pool.map(lambda n: sh(head, f"ssh -o BatchMode=yes {n.address} hostname"), nodes),
                strict=True,
            )
        )
    for node in nodes:
        keys, firewalld, served = states[node]
        if sum(" ".join(line.split()[:2]) == key_body for line in keys.splitlines()) != 1:
            problems.append(f"{node.name}: {head}'s key not authorised exactly once")
        if firewalld != "inactive\ndisabled":
            problems.append(f"{node.name}: firewalld not stopped and disabled")
        for key in served:
            line = f"{node.name},{node.address} {' '.join(key.split()[:2])}"
            if known_lines.count(line) != 1:
                problems.append(f"{head}: known_hosts lacks (or repeats) {line[:60]}...")
        if reached[node] != node.name:
            problems.append(f"{head}: cannot reach {node.name} with its key and pinned host keys")
    for package in data.docker_packages:
        if f"{package} install ok installed" in installed:
            problems.append(f"{head}: {package} still installed")
    if apt_source.strip() == "present":
        problems.append(f"{head}: {data.docker_apt_source} still there")
    if dropin.strip() + "\n" != sshd_dropin(len(nodes)):
        problems.append(f"{head}: {SSHD_DROPIN} does not size sshd for the jump host")
    if starts.split()[-1:] != [max_startups(len(nodes))]:
        problems.append(f"{head}: sshd runs with {starts.strip() or 'no MaxStartups'}")
    return problems
