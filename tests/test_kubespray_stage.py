"""The kubespray stage on the converged lab (conftest's `converged_lab`: the nodes as the
first `fab up` left them): node1's checkout and venv as pinned, the inventory render
shows, kubespray's own facts playbook run by `fab cluster` from node1's virtualenv over the
private network to all three nodes, the playbook's retries, and a move to another ref.

The lab's nodes are offline and have no kubelet, so kubespray's cluster.yml cannot install
Kubernetes here; `fab cluster` runs kubespray's own playbooks/facts.yml (group_data/lab.py),
and the retry logic is driven with small playbooks of ours (tests/fixtures/playbooks).
The dry run is in tests/test_up_dry.py, on pristine nodes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from gourmetops import lab as labmod
from gourmetops import render
from gourmetops.kubespray.recap import parse_recap
from gourmetops.kubespray.record import RECORD
from tests.conftest import CONVERGED
from tests.kubespray_source import KUBESPRAY
from tests.labtools import Lab, results_total

PLAYBOOKS = Path(__file__).parent / "fixtures" / "playbooks"


def test_kubespray_checked_out_and_installed_as_pinned(converged_lab: Lab):
    lab = converged_lab
    bundle_head = subprocess.run(
        ["git", "ls-remote", KUBESPRAY, "refs/heads/release-2.26"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    assert lab.out("node1", "git -C kubespray rev-parse HEAD") == bundle_head
    assert lab.out("node1", "git -C kubespray rev-parse --abbrev-ref HEAD") == "release-2.26"
    # The requirements are installed from the synced wheels, with the pins kubespray asks for.
    pins = lab.out("node1", "grep -E '^ansible==' kubespray/requirements.txt")
    assert pins in lab.out("node1", "myenv/bin/pip freeze").splitlines()
    assert lab.out("node1", "myenv/bin/python -c 'import ruamel.yaml; print(1)'") == "1"
    # The sample stays as upstream wrote it: the inventory is a copy, the one render shows.
    assert lab.out("node1", "git -C kubespray status --porcelain inventory/sample") == ""
    files = render.artifacts("lab")
    kubespray_files = {
        k.removeprefix("kubespray/"): v for k, v in files.items() if k.startswith("kubespray/")
    }
    assert len(kubespray_files) == 3
    for rel, text in kubespray_files.items():
        assert lab.ssh("node1", f"cat kubespray/{rel}").stdout == text, rel


def test_drift_in_the_wheels_and_the_inventory_is_put_back(converged_lab: Lab):
    """What the stage decides from its planning reads (the wheels' sha1s, the inventory
    files' bytes): a wheel changed, another removed, a stray one added and hosts.yaml
    edited on node1, then one rerun puts back each, and the run after changes nothing."""
    lab = converged_lab
    hosts = "kubespray/inventory/mycluster/hosts.yaml"
    sums = "cd kubespray-wheels && sha1sum -- * .complete"
    hosts_before, sums_before = lab.out("node1", f"cat {hosts}"), lab.out("node1", sums)
    lab.ssh(
        "node1",
        'cd kubespray-wheels && set -- *.whl && echo x >> "$1" && rm -- "$2" && touch stray.whl',
    )
    lab.ssh("node1", f"echo '# edited' >> {hosts}")
    assert lab.out("node1", sums) != sums_before

    rerun = lab.pyinfra("kubespray")
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert results_total(rerun.stdout)["success"] != "-", rerun.stdout[-3000:]
    assert lab.out("node1", f"cat {hosts}") == hosts_before
    assert lab.out("node1", sums) == sums_before
    again = lab.pyinfra("kubespray")
    assert results_total(again.stdout)["success"] == "-", again.stdout[-3000:]


def test_kubesprays_facts_playbook_ran_on_every_node(converged_lab: Lab, first_up):
    """The lab's cluster stage: kubespray's playbooks/facts.yml from node1's venv, to all
    three nodes over the private network."""
    assert "[task 1] PLAY Bootstrap hosts for Ansible" in first_up.stdout
    logs = sorted((converged_lab.target.state_dir / "logs").glob("facts-*.log"))
    recap = parse_recap(logs[-1].read_text())
    assert sorted(recap) == ["node1", "node2", "node3"]
    assert all(h.healthy and h.ok > 0 for h in recap.values())


def test_fab_cluster_reruns_a_transient_failure(converged_lab: Lab):
    lab = converged_lab
    lab.ssh("node2", "sudo rm -f /tmp/gourmetops-flaky-marker")
    lab.put("node1", PLAYBOOKS / "flaky.yml", "/tmp/flaky.yml")
    result = lab.fab("cluster", "--playbook", "/tmp/flaky.yml", "--retries", "1")
    assert result.returncode == 0, result.stdout[-3000:]
    assert (
        "attempt 1 failed: failed hosts: node2 (failed=1); "
        "first failed task: Fail once on node2 on node2" in result.stdout
    )
    assert "attempt 2/2" in result.stdout


def test_fab_cluster_gives_up_naming_host_and_task(converged_lab: Lab):
    lab = converged_lab
    lab.put("node1", PLAYBOOKS / "broken.yml", "/tmp/broken.yml")
    result = lab.fab("cluster", "--playbook", "/tmp/broken.yml", "--retries", "1")
    assert result.returncode != 0
    assert "attempt 2/2" in result.stdout and "attempt 3" not in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert "failed after 2 attempt(s)" in last
    assert "node2 (failed=1)" in last
    assert "Configure something that cannot work on node2 on node2" in last
    # a run that did not finish leaves no record: the next `fab up` runs the playbook
    assert lab.ssh("node1", f"test -e {RECORD}", check=False).returncode == 1
    up = lab.fab("up", "--from", "cluster", "--to", "cluster", "--dry")
    assert "==> cluster: would run playbooks/facts.yml: no finished run of it is recorded" in (
        up.stdout
    ), up.stdout[-3000:]


def test_a_different_ref_moves_the_checkout(converged_lab: Lab, tmp_path):
    """A bundle with a newer branch: same deploy, other ref, node1 follows; back again."""
    lab = converged_lab
    work = tmp_path / "ks"
    subprocess.run(
        ["git", "clone", "-q", "--branch", "release-2.26", KUBESPRAY, str(work)], check=True
    )
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@lab"]
    subprocess.run([*git, "checkout", "-q", "-b", "gourmetops-test"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "newer"], check=True)
    newer = subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    derived = tmp_path / "kubespray-derived.bundle"
    subprocess.run(
        [*git, "bundle", "create", "-q", str(derived), "release-2.26", "gourmetops-test"],
        check=True,
    )

    moved = lab.pyinfra(
        "kubespray",
        "--data",
        f"kubespray_source={derived}",
        "--data",
        "kubespray_ref=gourmetops-test",
    )
    assert moved.returncode == 0, moved.stdout[-3000:]
    assert lab.out("node1", "git -C kubespray rev-parse HEAD") == newer

    back = lab.fab("kubespray")
    assert back.returncode == 0, back.stdout[-3000:]
    assert lab.out("node1", "git -C kubespray rev-parse --abbrev-ref HEAD") == "release-2.26"


def test_reset_runs_kubesprays_reset_confirmed_and_the_next_up_installs_again(
    converged_lab: Lab,
):
    """`fab reset --yes` for real: kubespray's reset.yml passes its confirmation (the pause
    is skipped, "Check confirmation" does not fail), then stops where offline lab nodes
    must: the preinstall role its reset play runs installs iputils-ping from the internet.
    The record is gone first, so the next `fab up` runs the cluster stage again."""
    lab = converged_lab
    labmod.reset(lab.target, CONVERGED)  # the tests above dropped the first run's record
    assert lab.ssh("node1", f"test -e {RECORD}", check=False).returncode == 0
    ran = lab.fab("reset", "--target", "lab", "--yes")
    assert ran.returncode == 1, ran.stdout[-3000:]
    last = ran.stdout.strip().splitlines()[-1]
    assert last.startswith("reset failed on target lab: reset.yml failed after 1 attempt(s): ")
    assert "kubernetes/preinstall : Ensure ping package" in last, last
    assert last.endswith("; the next `fab up` installs again")
    log = max(
        (lab.target.state_dir / "logs").glob("reset-*-1.log"), key=lambda p: p.stat().st_mtime
    )
    text = log.read_text()
    # The play went past its two confirmation tasks (skipped, and kubespray's ansible.cfg
    # does not print skipped tasks) to its third; without reset_confirmation the pause
    # would wait for a typed "yes" and "Check confirmation" fail.
    play = text.split("PLAY [Reset cluster]")[1]
    assert "TASK [Gather information about installed services]" in play
    assert "Reset confirmation failed" not in text and "Type 'yes' to reset" not in text
    assert lab.ssh("node1", f"test -e {RECORD}", check=False).returncode == 1
    up = lab.fab("up", "--from", "cluster", "--to", "cluster", "--dry")
    assert "==> cluster: would run playbooks/facts.yml: no finished run of it is recorded" in (
        up.stdout
    ), up.stdout[-3000:]
