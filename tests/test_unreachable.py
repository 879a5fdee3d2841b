"""node1 unreachable: every task that connects exits non-zero with one line naming node1,
the cause, the fix and the ssh command to try it by hand, and no traceback, whichever client
failed (paramiko under Fabric, ssh's exit 255, pyinfra's "Could not connect").

No lab: the Chameleon target's floating IP is a loopback address where nothing listens
(127.0.0.10), so every connection is refused at once and no packet leaves the machine; a
proxy on a closed loopback port stops any fetch. The tasks run in a copy of the project
whose controller already has kubespray (a clone of the lab's mirror, where a real run keeps
its cached clone) and a kubeconfig, so that each task gets as far as its first connection.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from paramiko.ssh_exception import (
    AuthenticationException,
    BadHostKeyException,
    NoValidConnectionsError,
    SSHException,
)

from gourmetops import KUBESPRAY_UPSTREAM, PROJECT_ROOT
from gourmetops import unreachable as u
from gourmetops.targets import chameleon_target
from tests.cli import copy_tracked
from tests.kubespray_source import KUBESPRAY

CHAMELEON = {
    "GOURMETOPS_FLOATING_IP": "127.0.0.10",
    "GOURMETOPS_NODE1_PUBLIC_ADDRESS": "127.0.0.8",
    "GOURMETOPS_CHAMELEON_CONFIG": "/nonexistent/chameleon.local.yaml",
    "https_proxy": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
}
TRY = "try it yourself: ssh -F .state/chameleon/ssh_config node1 true"
ADVICE = (
    "connection refused: nothing accepts SSH at 127.0.0.10:22: check the floating IP "
    f"(GOURMETOPS_FLOATING_IP or floating_ip) and that node1 is up; {TRY}"
)
PARAMIKO = "([Errno None] Unable to connect to port 22 on 127.0.0.10)"
SSH = "(ssh: connect to host 127.0.0.10 port 22: Connection refused)"
FABRIC = f"error: node1: could not connect over SSH {PARAMIKO}: {ADVICE}"
TUNNEL = f"error: node1: could not connect over SSH {SSH}: {ADVICE}"
WORKERS = (
    "; node2: unreachable through node1 (node1 could not be reached)"
    "; node3: unreachable through node1 (node1 could not be reached)"
)


def _pyinfra(stage: str) -> str:
    node1 = f"node1: could not connect over SSH {PARAMIKO}: {ADVICE}"
    return f"{stage} failed on target chameleon: {node1}{WORKERS}"


def _free_port() -> int:
    """A local port nothing listens on, for the API tunnel's local end (were one listening,
    the kube tasks would take it for an open tunnel and not connect)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PORT = str(_free_port())
APP = str(PROJECT_ROOT / "tests" / "fixtures" / "app")

# (task and flags, the last line it prints)
# (prepare's: test_pyinfra_says_it_all_in_the_run_log_and_fab_sums_it_up)
CASES = [
    (("kubespray",), _pyinfra("kubespray")),
    (("registry",), _pyinfra("registry")),
    (
        ("cluster",),
        f"cluster failed on target chameleon: cluster.yml failed after 3 attempt(s): "
        f"node1: could not connect over SSH {PARAMIKO}: {ADVICE}",
    ),
    (
        ("reset", "--yes"),
        f"reset failed on target chameleon: reset.yml failed after 1 attempt(s): "
        f"node1: could not connect over SSH {PARAMIKO}: {ADVICE}; the next `fab up` installs again",
    ),
    (("kubeconfig",), FABRIC),
    (("catalog",), FABRIC),
    (("image", "--dry", "--source", APP), FABRIC),
    (("image", "--source", APP), FABRIC),
    (("loadtest",), FABRIC),
    (("rollout", "--port", PORT), TUNNEL),
    (("scale", "--replicas", "6", "--port", PORT), TUNNEL),
    (("autoscale", "--port", PORT), TUNNEL),
    (("status", "--port", PORT), TUNNEL),
    (("teardown", "--port", PORT), TUNNEL),
    (("experiment", "--port", PORT), TUNNEL),
    (
        ("check",),
        f"3 check(s) failed on target chameleon; node1 not reached: {ADVICE}",
    ),
    (
        ("up",),
        "fab up stopped before any change: pre-check failed (node1 ssh, node2 ssh, "
        "node3 ssh); fix it as the table says, or override one check with --skip-check NAME; "
        f"node1 not reached: {ADVICE}",
    ),
    (
        ("logs",),
        "error: fab logs collected nothing from any node, so {bundle} holds only the "
        f"controller's run logs; nothing from node1 {SSH}: {ADVICE}",
    ),
]


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The tracked project in a scratch directory, with what a controller has after its
    first real run: kubespray's clone (from the lab's mirror, under the name a clone of
    upstream gets) and a kubeconfig pointing at the tunnel."""
    dest = tmp_path_factory.mktemp("unreachable") / "gourmetops"
    copy_tracked(dest)
    ref = "release-2.26"
    key = hashlib.sha256(f"{KUBESPRAY_UPSTREAM}\0{ref}".encode()).hexdigest()[:12]
    clone = dest / ".state" / "kubespray" / key  # as gourmetops.kubespray.checkout names it
    subprocess.run(["git", "clone", "--quiet", "--branch", ref, KUBESPRAY, str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "remote", "set-url", "origin", KUBESPRAY_UPSTREAM],
                   check=True)  # fmt: skip
    kubeconfig = dest / ".state" / "chameleon" / "kubeconfig"
    kubeconfig.parent.mkdir(parents=True)
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:16443', "
        "insecure-skip-tls-verify: true}}]\n"
        "users: [{name: u, user: {token: not-a-token}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    kubeconfig.chmod(0o600)
    (dest / "home").mkdir()
    return dest


@pytest.mark.parametrize(
    ("args", "last"), CASES, ids=[" ".join(args[:2]).replace("--", "") for args, _ in CASES]
)
def test_every_connecting_task_says_node1_is_unreachable_in_one_line(copy, args, last):
    bin_dir = Path(sys.executable).parent
    ran = subprocess.run(
        [str(bin_dir / "fab"), *args, "--target", "chameleon"],
        cwd=copy,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(copy / "home"), **CHAMELEON},
        timeout=300,
    )
    out = ran.stdout + ran.stderr
    assert ran.returncode != 0, out
    assert "Traceback" not in out and "paramiko.ssh_exception" not in out, out
    lines = out.strip().splitlines()
    if "{bundle}" in last:
        bundles = sorted((copy / ".state" / "chameleon").glob("support-*.tar.gz"))
        last = last.format(bundle=bundles[-1])
    assert lines[-1] == last, out


def _fab(copy: Path, *args: str, **env: str) -> str:
    bin_dir = Path(sys.executable).parent
    ran = subprocess.run(
        [str(bin_dir / "fab"), *args, "--target", "chameleon"],
        cwd=copy,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(copy / "home"), **CHAMELEON, **env},
        timeout=300,
    )
    assert ran.returncode == 1, ran.stdout
    return ran.stdout


def test_pyinfra_says_it_all_in_the_run_log_and_fab_sums_it_up(copy):
    """A pyinfra stage's console: its command, each host that could not connect with
    pyinfra's words, the totals and the one-line explanation; pyinfra's whole output goes
    to the run log. GOURMETOPS_VERBOSE=1 shows that output on the console as well."""
    out = _fab(copy, "prepare")
    assert "Traceback" not in out and "paramiko.ssh_exception" not in out, out
    node1 = "  node1: Could not connect ([Errno None] Unable to connect to port 22 on 127.0.0.10)"
    assert node1 in out.splitlines(), out
    assert "  0 operations: 0 changed something, 0 changed nothing, 0 failed; not reached: " in out
    assert "--> Loading inventory" not in out and "[node1] Could not connect" not in out, out
    assert out.strip().splitlines()[-1] == _pyinfra("prepare")
    log = max((copy / ".state" / "chameleon" / "logs").glob("prepare-*.log"), key=os.path.getmtime)
    text = log.read_text()
    assert "--> Loading inventory" in text and "[node1] Could not connect ([Errno None]" in text
    assert node1 not in text.splitlines()  # the summary is for the console
    verbose = _fab(copy, "prepare", GOURMETOPS_VERBOSE="1")
    assert "--> Loading inventory" in verbose and node1 not in verbose.splitlines()
    assert verbose.strip().splitlines()[-1] == _pyinfra("prepare")


# --- each cause, from what each client says (recorded ssh stderr, paramiko's exceptions) ---

KEY = "refused your ssh-agent's and ~/.ssh's keys for cc: set ssh_key in chameleon.local.yaml"


@pytest.mark.parametrize(
    ("stderr", "said"),
    [
        ("cc@127.0.0.10: Permission denied (publickey).\r\n",
         f"key refused: node1 {KEY} (or GOURMETOPS_SSH_KEY) to your key (e.g. "
         "~/.ssh/id_rsa_chameleon), or ssh-add it; " + TRY),
        ("@@@@@@@@\r\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\n"
         "Host key verification failed.\r\n",
         "host key changed: its host key is not the one in ~/.ssh/known_hosts (a rebuilt "
         "node, or a man-in-the-middle); if it was rebuilt: ssh-keygen -R 127.0.0.10; " + TRY),
        ("ssh: connect to host 127.0.0.10 port 22: Connection timed out\r\n",
         "timed out: nothing answered at 127.0.0.10:22: check the floating IP "
         "(GOURMETOPS_FLOATING_IP or floating_ip), that node1 is up and that its security "
         "group allows SSH; " + TRY),
        ("ssh: Could not resolve hostname nodex: Name or service not known\r\n",
         "name not resolved: the name of node1 does not resolve: check HostName in the "
         "ssh_config; " + TRY),
        ("kex_exchange_identification: read: Connection reset by peer\r\n",
         "connection closed before login: node1 closed the connection before login (booting, "
         "or its sshd busy); run again; " + TRY),
    ],
    ids=["key-refused", "host-key-changed", "timed-out", "name-not-resolved", "dropped"],
)  # fmt: skip
def test_each_cause_of_ssh_exit_255_is_named_with_its_fix(stderr, said):
    target = chameleon_target(env={"GOURMETOPS_FLOATING_IP": "127.0.0.10"})
    line = str(u.from_ssh(target, "node1", stderr))
    first = next(x.strip() for x in stderr.splitlines() if x.strip() and "@@@" not in x)
    assert line.startswith("node1: could not connect over SSH (")
    assert line.endswith(f"): {said}"), line
    assert "\n" not in line and (first in line or "IDENTIFICATION" in line)


def test_paramiko_exceptions_name_their_cause(tmp_path):
    """The exceptions paramiko raises (under Fabric) map to the same causes; the named key
    is the one a key refusal names."""
    key = tmp_path / "id_chameleon"
    key.write_text("x")
    key.chmod(0o600)
    target = chameleon_target(
        env={"GOURMETOPS_FLOATING_IP": "127.0.0.10", "GOURMETOPS_SSH_KEY": str(key)}
    )
    refused = NoValidConnectionsError({("127.0.0.10", 22): ConnectionRefusedError(111, "x")})
    cases = {
        u.REFUSED: refused,
        u.TIMED_OUT: TimeoutError("timed out"),
        u.NOT_RESOLVED: socket.gaierror(-2, "Name or service not known"),
        u.KEY_REFUSED: AuthenticationException("Authentication failed."),
        u.DROPPED: SSHException("Error reading SSH protocol banner"),
        u.NO_ROUTE: OSError(113, "No route to host"),
    }
    for cause, exc in cases.items():
        assert u.cause_of(exc) == cause, (cause, exc)
    assert u.cause_of(BadHostKeyException.__new__(BadHostKeyException)) == u.HOST_KEY_CHANGED
    assert u.cause_of(ValueError("not a connection")) is None
    said = str(u.from_exception(target, "node1", cases[u.KEY_REFUSED]))
    assert said == (
        "node1: could not connect over SSH (Authentication failed.): key refused: node1 "
        f"refused the key {key} for cc: set ssh_key in chameleon.local.yaml (or "
        f"GOURMETOPS_SSH_KEY) to the key it accepts; {TRY}"
    )
