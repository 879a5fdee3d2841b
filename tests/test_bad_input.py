"""Bad input, through the commands a user types: the exact message, the exit code, and
nothing changed.

Cases that fail before any host is involved run `fab` against the Chameleon target with a
loopback floating IP (127.0.0.10, where no sshd listens), so a run that got past the check
fails differently and no packet ever leaves this machine. Cases that can only be found on a host,
or whose point is that the hosts stay as they were, run against the lab.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gourmetops import PROJECT_ROOT
from gourmetops.app.kubeconfig import KubeconfigError, rewrite_server
from gourmetops.kubespray.checkout import SourceError, controller_checkout
from gourmetops.kubespray.overrides import node_files
from gourmetops.targets import lab_target
from tests.cli import Ran
from tests.cli import fab as run_fab
from tests.kubespray_source import KUBESPRAY
from tests.labtools import Lab

PLACEHOLDER_IP = "127.0.0.10"
K8S = "group_vars/k8s_cluster/k8s-cluster.yml"


def fab(*args: str, **env: str) -> Ran:
    """`fab` with no GOURMETOPS_ setting of this shell and no chameleon.local.yaml."""
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GOURMETOPS_")}
    clean["GOURMETOPS_CHAMELEON_CONFIG"] = "/nonexistent/chameleon.local.yaml"
    return run_fab(*args, env={**clean, **env})


def cluster_file(tmp_path: Path, old: str, new: str) -> Path:
    text = (PROJECT_ROOT / "cluster.yaml").read_text()
    assert old in text
    bad = tmp_path / "cluster.yaml"
    bad.write_text(text.replace(old, new, 1))
    return bad


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("name: node2", "name: node1", "duplicate node name 'node1'"),
        ("address: 192.168.1.12", "address: 192.168.1.11", "duplicate node address '192.168.1.11'"),
        (
            "address: 192.168.1.13",
            "address: 192.168.1.313",
            "node 'node3' address: '192.168.1.313' is not an IPv4 address (expected A.B.C.D)",
        ),
        ("jump: true ", "jump: false", "exactly one node must have 'jump: true' (found [])"),
    ],
    ids=["duplicate-name", "duplicate-ip", "invalid-ip", "no-jump-host"],
)
def test_bad_cluster_model_stops_before_any_host(tmp_path, old, new, message):
    bad = cluster_file(tmp_path, old, new)
    before = bad.read_bytes()
    ssh_config = PROJECT_ROOT / ".state" / "chameleon" / "ssh_config"
    config_before = ssh_config.read_bytes() if ssh_config.exists() else None
    ran = fab(
        "prepare",
        "--target",
        "chameleon",
        GOURMETOPS_CLUSTER=str(bad),
        GOURMETOPS_FLOATING_IP=PLACEHOLDER_IP,
    )
    assert ran.code == 1
    assert ran.out.strip() == f"error: {bad}: {message}"
    assert bad.read_bytes() == before
    assert (ssh_config.read_bytes() if ssh_config.exists() else None) == config_before


def test_floating_ip_missing_stops_before_any_host():
    ran = fab("prepare", "--target", "chameleon")
    assert ran.code == 1
    assert ran.out.strip() == (
        "error: no floating IP for node1: set GOURMETOPS_FLOATING_IP=A.B.C.D "
        "or write 'floating_ip: A.B.C.D' to /nonexistent/chameleon.local.yaml"
    )


def test_floating_ip_malformed_stops_before_any_host():
    ran = fab("prepare", "--target", "chameleon", GOURMETOPS_FLOATING_IP="127.0.0")
    assert ran.code == 1
    assert ran.out.strip() == (
        "error: environment variable GOURMETOPS_FLOATING_IP='127.0.0' is not an IPv4 "
        "address (expected A.B.C.D)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("scale", "--replicas", "six"), "error: --replicas 'six': must be a whole number"),
        (
            ("scale", "--replicas", "0"),
            "error: replicas (--replicas, or app_replicas in group_data) must be a whole "
            "number >= 1, not 0",
        ),
        (
            ("rollout", "--replicas=-2"),
            "error: replicas (--replicas, or app_replicas in group_data) must be a whole "
            "number >= 1, not -2",
        ),
        (
            ("autoscale", "--min", "5", "--max", "2"),
            "error: HPA min (5) is above max (2) (--min/--max, or hpa_min/hpa_max in group_data)",
        ),
        (("autoscale", "--max", "lots"), "error: --max 'lots': must be a whole number"),
    ],
    ids=["replicas-word", "replicas-zero", "replicas-negative", "hpa-min-above-max", "hpa-max"],
)
def test_bad_manifest_parameters_stop_before_the_api_server(args, message):
    """Checked before the tunnel opens or the kubeconfig is read: the lab target's
    kubeconfig is not needed to see the message (these run before `fab kubeconfig`)."""
    ran = fab(*args)
    assert ran.code == 1, ran.out
    assert ran.out.strip() == message


# --- kubespray: an override key it does not know, a ref that does not exist ----------


def test_unknown_kubespray_override_key_is_refused_with_a_suggestion():
    checkout = controller_checkout(KUBESPRAY, "release-2.26")
    with pytest.raises(Exception) as err:
        node_files(lab_target().cluster, checkout, {K8S: {"kube_verison": "v1.30.1"}})
    assert str(err.value) == (
        f"kubespray_group_vars[{K8S!r}]: 'kube_verison' is not a kubespray variable "
        "(no role, playbook or sample inventory of this kubespray mentions it); "
        "did you mean 'kube_version'?"
    )


def test_missing_kubespray_ref_is_named():
    with pytest.raises(SourceError) as err:
        controller_checkout(KUBESPRAY, "release-9.99")
    assert str(err.value) == (
        f"kubespray_ref 'release-9.99' is not a branch or tag of {KUBESPRAY}; "
        "set kubespray_ref in group_data to one that exists"
    )


def node1_home(lab: Lab) -> str:
    """Every file under cc's home on node1 with its size and mtime: any change shows."""
    return lab.out("node1", "find ~ -xdev -printf '%p %s %T@\\n' | sort")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            f'kubespray_group_vars={{"{K8S}": {{"kube_verison": "v1.30.1"}}}}',
            f"kubespray_group_vars[{K8S!r}]: 'kube_verison' is not a kubespray variable",
        ),
        (
            "kubespray_ref=release-9.99",
            f"kubespray_ref 'release-9.99' is not a branch or tag of {KUBESPRAY}",
        ),
        (
            "kubespray_ref=--upload-pack=touch",
            "pyinfra --data: kubespray_ref: '--upload-pack=touch' is not a git branch, tag or "
            "commit name",
        ),
    ],
    ids=["unknown-override-key", "missing-ref", "ref-as-git-option"],
)
def test_kubespray_stage_refuses_bad_settings_and_node1_is_unchanged(lab: Lab, data, message):
    """Through the pyinfra CLI with `--data` (the way to try a setting without editing
    group_data): a clean message, no traceback, and node1's home untouched."""
    before = node1_home(lab)
    proc = lab.pyinfra("kubespray", "--data", data)
    assert proc.returncode != 0
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("--> pyinfra error in ") and message in last, proc.stdout[-3000:]
    assert "Traceback" not in proc.stdout
    assert "Starting operation" not in proc.stdout
    assert node1_home(lab) == before


# --- kubeconfig ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: v1\nkind: Config\n", "node1:~/.kube/config: no clusters in it"),
        (
            "clusters:\n- name: c\n  cluster: {certificate-authority-data: x}\n",
            "node1:~/.kube/config: cluster 'c' has no server",
        ),
        (
            "clusters:\n- name: c\n  cluster: {server: 'http://x:8080'}\n",
            "node1:~/.kube/config: server 'http://x:8080' is not https",
        ),
    ],
    ids=["no-clusters", "no-server", "not-https"],
)
def test_kubeconfig_without_a_usable_server_is_refused(text, message):
    with pytest.raises(KubeconfigError) as err:
        rewrite_server(text, 16443, where="node1:~/.kube/config")
    assert str(err.value) == message


UNREACHABLE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: cluster.local
  cluster: {server: 'https://127.0.0.1:16443', insecure-skip-tls-verify: true}
contexts:
- name: admin
  context: {cluster: cluster.local, user: admin}
current-context: admin
users:
- name: admin
  user: {token: gourmetops-test-token-5e3c}
"""


@pytest.fixture
def kubeconfig_pointing_nowhere(lab: Lab):
    """The fetched kubeconfig, pointing at the tunnel; the lab has no API server behind it."""
    path = lab.target.state_dir / "kubeconfig"
    saved = path.read_bytes() if path.exists() else None
    path.write_text(UNREACHABLE_KUBECONFIG)
    yield path
    if saved is None:
        path.unlink()
    else:
        path.write_bytes(saved)


def test_kubeconfig_pointing_nowhere_says_where_it_points(lab: Lab, kubeconfig_pointing_nowhere):
    proc = lab.fab("status")
    assert proc.returncode == 1
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith(
        "error: no API server answered at https://127.0.0.1:16443 "
        f"({kubeconfig_pointing_nowhere}, through the SSH tunnel to node1:6443): "
    ), proc.stdout[-3000:]
    assert "Traceback" not in proc.stdout
    assert "gourmetops-test-token-5e3c" not in proc.stdout


@pytest.fixture
def no_kubeconfig(lab: Lab):
    path = lab.target.state_dir / "kubeconfig"
    saved = path.read_bytes() if path.exists() else None
    path.unlink(missing_ok=True)
    yield path
    if saved is not None:
        path.write_bytes(saved)


def test_no_kubeconfig_says_which_stage_makes_it(lab: Lab, no_kubeconfig):
    proc = lab.fab("status")
    assert proc.returncode == 1
    assert proc.stdout.strip() == f"no {no_kubeconfig}: run `fab kubeconfig --target lab` first"
