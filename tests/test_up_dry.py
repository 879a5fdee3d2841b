"""`fab up --dry` on pristine lab nodes: every stage plans (the image stage included, though
no registry answers yet), the run exits 0, and no node changes."""

from __future__ import annotations

from tests.labtools import Lab

# What any stage would change, read without changing it (no podman call: its first run
# creates its storage).
SNAPSHOT = (
    "ls -A ~; ls -la --time-style=full-iso ~/.ssh; cat ~/.ssh/* 2>/dev/null | sha256sum; "
    "systemctl is-active firewalld; systemctl is-enabled firewalld; "
    "systemctl is-active docker-registry; systemctl is-enabled docker-registry; "
    "systemctl is-active docker; "
    "dpkg -l | sha256sum; ls /etc/apt/sources.list.d; "
    "sudo cat /etc/docker/daemon.json /etc/docker/registry/config.yml 2>&1 | sha256sum; "
    "ls -A /etc/containers/registries.conf.d 2>&1; "
    "sudo ls -A /var/lib/containers/storage 2>&1; ss -ltnH | sort"
)


def snapshot(lab: Lab) -> dict[str, str]:
    return {node: lab.ssh(node, SNAPSHOT, check=False).stdout for node in lab.nodes}


def test_dry_up_plans_every_stage_and_changes_nothing(fresh_lab: Lab):
    before = snapshot(fresh_lab)
    assert "kubespray" not in before["node1"] and ":5000" not in before["node1"]
    result = fresh_lab.fab("up", "--target", "lab", "--dry")
    out = result.stdout
    assert result.returncode == 0, out[-3000:]
    for planned in (
        "deploys/prepare.py --dry",
        "Stop and disable firewalld",
        "deploys/kubespray.py --dry",
        "kubespray checked out at release-2.26",
        "would run on node1 (lab)",  # the cluster stage's playbook
        "deploys/registry.py --dry",
        "deploys/lab_container_engine.py --dry",
        "Install docker.io, crun from the rootfs's .debs (offline)",
        "would run registry:2 on 10.254.1.11:5000: no Docker engine on it yet",
        "no registry answers at http://10.254.1.11:5000",
        "would build and push node1:5000/gourmetgram-app:",
        "==> image: dry",
        "==> stage 4/7: kubeconfig: skipped, lab's cluster stage installs no Kubernetes",
        "==> stage 7/7: rollout: skipped",
        "stage timings (lab):",
    ):
        assert planned in out, planned
    assert snapshot(fresh_lab) == before
