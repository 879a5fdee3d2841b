"""Hostile and careless input, the way a user (or a copied snippet) gives it: each value is
refused with a message naming the file, the field and the fix, before any file is written
or any host contacted, and never with a traceback.

No lab is needed: every run here stops before a connection. The Chameleon target gets a
loopback floating IP (127.0.0.10, no sshd there), so even a regression would not send a
packet off this machine.
"""

from __future__ import annotations

import copy
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError
from ruamel.yaml import YAML

from gourmetops import FIXTURES_DIR, PROJECT_ROOT, STATE_DIR
from gourmetops.app.kubeconfig import copy_for_user_command
from gourmetops.errors import InputError
from gourmetops.load.loadtest import LoadRun
from gourmetops.render import write
from gourmetops.run import _logged
from gourmetops.runlock import run_lock
from gourmetops.safe_write import UnsafePath, write_text
from gourmetops.settings import SettingsError, target_settings, validate
from gourmetops.validation import (
    DebPackage,
    GitRef,
    Hostname,
    HostPort,
    ImageRef,
    PosixUser,
    RelativePath,
    Source,
)
from tests.cli import copy_tracked, fab

CHAMELEON = {
    "GOURMETOPS_FLOATING_IP": "127.0.0.10",
    "GOURMETOPS_NODE1_PUBLIC_ADDRESS": "127.0.0.8",
    "GOURMETOPS_CHAMELEON_CONFIG": "/nonexistent/chameleon.local.yaml",
}
LONG = "n" * 300


def _cluster(tmp_path: Path, change) -> Path:
    raw = YAML(typ="safe").load((PROJECT_ROOT / "cluster.yaml").read_text())
    raw = copy.deepcopy(raw)
    change(raw)
    path = tmp_path / "cluster.yaml"
    YAML().dump(raw, path)
    return path


def _snapshot(*dirs: Path) -> dict[str, bytes]:
    """Every file under `dirs`: a write anywhere there shows."""
    return {str(p): p.read_bytes() for d in dirs if d.exists() for p in d.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda raw: raw["nodes"][1].update(name="node2\nProxyCommand touch /tmp/pwned"),
            "nodes[1].name: 'node2\\nProxyCommand touch /tmp/pwned' is not a valid node name",
        ),
        (
            lambda raw: raw["nodes"][1].update(name="node2;reboot"),
            "nodes[1].name: 'node2;reboot' is not a valid node name",
        ),
        (
            lambda raw: raw["nodes"][2].update(name="$(reboot)"),
            "nodes[2].name: '$(reboot)' is not a valid node name",
        ),
        (lambda raw: raw["nodes"][2].update(name=LONG), f"nodes[2].name: '{LONG}' is not a valid"),
        (lambda raw: raw.update(user="cc$(id)"), "user: 'cc$(id)' is not a valid user name"),
        (lambda raw: raw.update(user="cc' x"), 'user: "cc\' x" is not a valid user name'),
        (lambda raw: raw.update(user="../root"), "user: '../root' is not a valid user name"),
        (
            lambda raw: raw["nodes"][0].update(address="192.168.1.11 -oProxyCommand=x"),
            "node 'node1' address: '192.168.1.11 -oProxyCommand=x' is not an IPv4 address",
        ),
        (
            lambda raw: raw["nodes"][0].update(jump="false"),
            "node 'node1' jump: must be a boolean (true/false in YAML, True/False in Python), "
            "not 'false'",
        ),
        (
            lambda raw: raw["nodes"][2].update(address="192.168.2.11"),
            "node 'node3' address 192.168.2.11 is not a host of private_network 192.168.1.0/24",
        ),
        (
            lambda raw: raw["lab"].update(range="0.0.0.0/0"),
            "lab: range 0.0.0.0/0 must be a private",
        ),
    ],
    ids=[
        "newline-proxycommand",
        "semicolon",
        "command-substitution",
        "very-long",
        "user-substitution",
        "user-quote",
        "user-dotdot",
        "address-option",
        "jump-string",
        "outside-subnet",
        "lab-range-everything",
    ],
)
def test_hostile_cluster_values_are_refused_before_anything_is_written(tmp_path, change, message):
    bad = _cluster(tmp_path, change)
    out = tmp_path / "out"
    before = _snapshot(STATE_DIR / "lab", STATE_DIR / "chameleon")
    ran = fab("render", "--out", str(out), env={"GOURMETOPS_CLUSTER": str(bad)})
    assert ran.code == 1, ran.out
    assert ran.out.startswith(f"error: {bad}: {message}"), ran.out
    assert "Traceback" not in ran.out
    assert not out.exists()
    assert _snapshot(STATE_DIR / "lab", STATE_DIR / "chameleon") == before


# --- group_data settings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"kubespray_group_vars": {"group_vars/../../../../tmp/x.yml": {"a": 1}}},
            "kubespray_group_vars: 'group_vars/../../../../tmp/x.yml' is not a group_vars file "
            "of the inventory (e.g. 'group_vars/k8s_cluster/k8s-cluster.yml'; no '..', "
            "no leading '/')",
        ),
        (
            {
                "kubespray_group_vars": {
                    "group_vars/k8s_cluster/k8s-cluster.yml": {"kube_version": 1.3}
                }
            },
            "kubespray_group_vars: ['group_vars/k8s_cluster/k8s-cluster.yml']['kube_version'] "
            "must be a string like 'v1.30.4', not 1.3",
        ),
        (
            {"kubespray_ref": "--upload-pack=touch /tmp/pwned"},
            "kubespray_ref: '--upload-pack=touch /tmp/pwned' is not a git branch, tag or "
            "commit name",
        ),
        (
            {"app_source": "https://x/y.git\nrm -rf ~"},
            "app_source: 'https://x/y.git\\nrm -rf ~' is not a URL or path (no spaces, no "
            "leading '-')",
        ),
        (
            {"docker_packages": ["docker-ce; rm -rf /"]},
            "docker_packages[0]: 'docker-ce; rm -rf /' is not a Debian package name",
        ),
        (
            {"registry": "node1:5000\nProxyCommand x"},
            "registry: 'node1:5000\\nProxyCommand x' is not host:port (e.g. node1:5000)",
        ),
        ({"kubespray_dir": "../../etc"}, "kubespray_dir: '../../etc' is not a relative path"),
        (
            {"container_tool": "dockr"},
            "container_tool: must be one of 'docker' or 'podman', not 'dockr'",
        ),
        ({"cluster_retries": "2"}, "cluster_retries: must be a whole number, not '2'"),
        (
            {"cluster_retries": -1},
            "cluster_retries: must be greater than or equal to 0, not -1",
        ),
        (
            {"apt_update_offline_ok": "false"},
            "apt_update_offline_ok: must be a boolean (true/false in YAML, True/False in "
            "Python), not 'false'",
        ),
        (
            {"app_limits": {"cpu": "lots", "memory": "500Mi"}},
            "app_limits.cpu: 'lots' is not a Kubernetes quantity (e.g. '0.5', '500m', '300Mi')",
        ),
        ({"registry_port": 70000}, "registry_port: must be less than or equal to 65535"),
        ({"container_tol": "docker"}, "unknown setting 'container_tol'; did you mean"),
        ({"hpa_min": 7}, "hpa_min (7) is above hpa_max (6)"),
        (
            {"registry_htpasswd": "/dev/zero"},
            "registry_htpasswd: '/dev/zero' is not a regular file; give the htpasswd file itself",
        ),
        (
            {"registry_htpasswd": "/"},
            "registry_htpasswd: '/' is a directory; give the htpasswd file itself",
        ),
        (
            {"registry_htpasswd": "/nonexistent/htpasswd"},
            "registry_htpasswd: '/nonexistent/htpasswd' does not exist on the controller",
        ),
        ({"app_replicas": 2**31}, "app_replicas: must be less than or equal to 2147483647"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_hostile_settings_are_refused_naming_the_file(changes, message):
    """Each value as group_data/lab.py would set it; the message names that file (or
    group_data for a rule across settings)."""
    values, origin = target_settings("lab")
    values.update(changes)
    origin.update(dict.fromkeys(changes, "group_data/lab.py"))
    with pytest.raises(SettingsError) as err:
        validate(values, origin)
    text = str(err.value)
    assert text.startswith(("group_data/lab.py: ", "group_data: ")), text
    assert message in text, text


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    """The tracked project in a scratch directory, so its group_data can be made bad for
    real; fab and pyinfra run there import that copy (their directory comes first)."""
    dest = tmp_path_factory.mktemp("copy") / "gourmetops"
    copy_tracked(dest)
    return dest


def _in_copy(
    copy_root: Path, *cmd: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    bin_dir = Path(sys.executable).parent
    return subprocess.run(
        [str(bin_dir / cmd[0]), *cmd[1:]],
        cwd=copy_root,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "GOURMETOPS_FIXTURES": str(FIXTURES_DIR),
            **(env or {}),
        },
        timeout=120,
    )


def test_bad_group_data_file_stops_fab_and_pyinfra_before_any_host(project_copy: Path):
    lab_data = project_copy / "group_data" / "lab.py"
    pristine = lab_data.read_text()
    lab_data.write_text(
        pristine
        + '\nkubespray_group_vars = {"group_vars/../../../../tmp/x.yml": {"a": 1}}\n'
        + "cluster_retries = '2'\n"
    )
    try:
        ran = _in_copy(project_copy, "fab", "render", "--out", str(project_copy.parent / "o"))
        expected = [
            "error: group_data/lab.py: kubespray_group_vars: 'group_vars/../../../../tmp/x.yml' "
            "is not a group_vars file of the inventory (e.g. "
            "'group_vars/k8s_cluster/k8s-cluster.yml'; no '..', no leading '/')",
            "group_data/lab.py: cluster_retries: must be a whole number, not '2'",
        ]
        assert (ran.returncode, ran.stderr.splitlines()) == (1, expected), ran.stderr
        assert not (project_copy.parent / "o").exists()
        ran = _in_copy(project_copy, "pyinfra", "-y", "inventories/lab.py", "deploys/prepare.py")
        out = ran.stdout + ran.stderr
        assert ran.returncode != 0
        assert expected[1] in out and "Traceback" not in out, out
        assert "Connecting" not in out and not (project_copy / ".state").exists()
    finally:
        lab_data.write_text(pristine)


def test_a_dry_run_fetches_nothing_from_the_internet(project_copy: Path):
    """The Chameleon target's kubespray comes from GitHub; a dry run with no cached clone
    says what a real run would fetch instead of cloning. A proxy on a closed loopback port
    makes any attempt fail at once, without leaving the machine."""
    env = {**CHAMELEON, "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}
    bin_dir = Path(sys.executable).parent
    ran = subprocess.run(
        [str(bin_dir / "fab"), "experiment", "--dry", "--target", "chameleon"],
        cwd=project_copy,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", **env},
        timeout=120,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (
        "dry run: kubespray release-2.26 of https://github.com/kubernetes-sigs/kubespray is not "
        "on the controller, so the objects are not checked against its Kubernetes version "
        "(a real run clones it first)"
    ) in ran.stderr
    assert "would run, in order:" in ran.stdout
    assert not (project_copy / ".state" / "kubespray").exists()


# --- task flags ------------------------------------------------------------------------

FLAG_CASES = [
    (
        ("cluster", "--retries", "x", "--dry"),
        "--retries 'x': must be a whole number >= 0 and <= 10",
    ),
    (("cluster", "--retries=-1", "--dry"), "--retries '-1': must be a whole number >= 0 and <= 10"),
    (("up", "--retries", "11", "--dry"), "--retries '11': must be a whole number >= 0 and <= 10"),
    (
        ("cluster", "--playbook", "../../../etc/x.yml", "--dry"),
        "--playbook '../../../etc/x.yml': must be a .yml path in the kubespray checkout "
        "(e.g. cluster.yml, playbooks/facts.yml) or an absolute path on node1",
    ),
    (
        ("kubeconfig", "--port", "x", "--dry"),
        "--port 'x': must be a whole number >= 1 and <= 65535",
    ),
    (("kubeconfig", "--port", "0"), "--port '0': must be a whole number >= 1 and <= 65535"),
    (
        ("rollout", "--timeout", "soon"),
        "--timeout 'soon': must be seconds, or a number with s, m or h (e.g. 30s, 2m)",
    ),
    (("rollout", "--timeout", "0"), "--timeout '0': must be at least 1s"),
    (("scale", "--replicas", "six"), "--replicas 'six': must be a whole number"),
    (("autoscale", "--cpu", "half"), "--cpu 'half': must be a whole number"),
    (("status", "--port", "70000"), "--port '70000': must be a whole number >= 1 and <= 65535"),
    (("teardown", "--timeout=-5m"), "--timeout '-5m': must be at least 1s"),
    (
        ("loadtest", "--concurrency", "0", "--dry"),
        "--concurrency '0': must be a whole number >= 1 and <= 10000",
    ),
    (
        ("loadtest", "--concurrency", "many", "--dry"),
        "--concurrency 'many': must be a whole number >= 1 and <= 10000",
    ),
    (
        ("loadtest", "--duration", "soon", "--dry"),
        "--duration 'soon': must be a whole number of seconds > 0, or with s, m or h "
        "(e.g. 30s, 2m)",
    ),
    (
        ("loadtest", "--url", "ftp://x/test", "--dry"),
        "--url 'ftp://x/test': must be an http:// or https:// URL with a host",
    ),
    (("loadtest", "--port", "x", "--dry"), "--port 'x': must be a whole number >= 1 and <= 65535"),
    (("experiment", "--pause=-5", "--dry"), "--pause '-5': must be at least 0s"),
    # A real run (no --dry) too: refused before the first change, not after the 1-replica
    # and 6-replica scenarios have already run.
    (("experiment", "--pause=-5"), "--pause '-5': must be at least 0s"),
    (("experiment", "--scale-down-timeout", "0"), "--scale-down-timeout '0': must be at least 1s"),
    (
        ("experiment", "--scale-down-timeout", "0", "--dry"),
        "--scale-down-timeout '0': must be at least 1s",
    ),
    (
        ("experiment", "--concurrency", "x", "--dry"),
        "--concurrency 'x': must be a whole number >= 1 and <= 10000",
    ),
    (
        ("experiment", "--url", "http://", "--dry"),
        "--url 'http://': must be an http:// or https:// URL with a host",
    ),
    (("prepare", "--target", "prod"), "unknown target 'prod'; choose one of lab, chameleon"),
    # Numbers with the API's real limits, and ASCII digits only.
    (
        ("scale", "--replicas", "99999999999", "--dry"),
        "replicas (--replicas, or app_replicas in group_data) must be at most 2147483647 "
        "(Kubernetes' int32), not 99999999999",
    ),
    (("scale", "--replicas", "\u0665", "--dry"), "--replicas '\u0665': must be a whole number"),
    (
        ("autoscale", "--max", "2147483648", "--dry"),
        "HPA max (--max, or hpa_max in group_data) must be at most 2147483647 "
        "(Kubernetes' int32), not 2147483648",
    ),
    (
        ("experiment", "--pause", "99999999999h", "--dry"),
        "--pause '99999999999h': must be at most 86400s (24h)",
    ),
    (
        ("experiment", "--pause", "5\u017f"),  # LATIN SMALL LETTER LONG S: 's' to re.IGNORECASE
        "--pause '5\u017f': must be seconds, or a number with s, m or h (e.g. 30s, 2m)",
    ),
    (("rollout", "--timeout", "25h"), "--timeout '25h': must be at most 86400s (24h)"),
    (
        ("loadtest", "--duration", "\u0663\u0660s", "--dry"),
        "--duration '\u0663\u0660s': must be a whole number of seconds > 0, or with s, m or h "
        "(e.g. 30s, 2m)",
    ),
    (
        ("loadtest", "--duration", "2000h", "--dry"),
        "--duration '2000h': must be at most 86400s (24h)",
    ),
    (
        ("loadtest", "--concurrency", "99999999999", "--dry"),
        "--concurrency '99999999999': must be a whole number >= 1 and <= 10000",
    ),
    (
        ("cluster", "--retries", "1\n", "--dry"),
        "--retries '1\\n': must be a whole number >= 0 and <= 10",
    ),
    (
        ("image", "--source", "--upload-pack=touch /tmp/pwned", "--dry"),
        "--source '--upload-pack=touch /tmp/pwned': must be a URL or path (no spaces, no "
        "leading '-')",
    ),
    (("image", "--ref", "-x", "--dry"), "--ref '-x': must be a git branch, tag or commit name"),
    (
        ("render", "--out", "/tmp/gourmetops-never", "--kubespray-source", "a b"),
        "--kubespray-source 'a b': must be a URL or path (no spaces, no leading '-')",
    ),
]


@pytest.mark.parametrize(
    ("args", "message"), FLAG_CASES, ids=lambda v: " ".join(v) if isinstance(v, tuple) else None
)
def test_every_bad_flag_is_refused_by_name_before_anything_runs(args, message):
    """Against the Chameleon target: a check that let the value through would try the
    loopback floating IP and fail differently; nothing here needs a host."""
    target = () if "--target" in args else ("--target", "chameleon")
    ran = fab(*args, *target, env=CHAMELEON)
    assert (ran.code, ran.out.strip()) == (1, f"error: {message}")


# --- patterns matched whole, in ASCII -----------------------------------------------------

PATTERNS = {
    "node name": (Hostname, "node2"),
    "user": (PosixUser, "cc2"),
    "git ref": (GitRef, "release-2"),
    "source": (Source, "https://x/y2.git"),
    "relative path": (RelativePath, "kubespray2"),
    "deb package": (DebPackage, "docker2"),
    "image": (ImageRef, "node1:5000/app:2"),
    "registry": (HostPort, "node2:5000"),
}


@pytest.mark.parametrize("kind", PATTERNS)
def test_each_pattern_is_matched_whole_and_in_ascii(kind):
    """A trailing newline (what `$` let through), a NUL, and a Unicode digit in place of
    an ASCII one: each refused; the plain value passes."""
    annotated, good = PATTERNS[kind]
    adapter = TypeAdapter(annotated)
    assert adapter.validate_python(good) == good
    for bad in (good + "\n", good[:2] + "\0" + good[2:], good.replace("2", "\u0662")):
        assert bad != good
        with pytest.raises(ValidationError, match="is not"):
            adapter.validate_python(bad)


def test_a_node_named_with_a_trailing_newline_writes_nothing(tmp_path):
    """`node1\n` gave a second `Host node1` block in ssh_config and a key `node1\n` in
    hosts.yaml."""
    bad = _cluster(tmp_path, lambda raw: raw["nodes"][1].update(name="node1\n"))
    out = tmp_path / "out"
    ran = fab("render", "--out", str(out), env={"GOURMETOPS_CLUSTER": str(bad)})
    assert (ran.code, ran.out.strip().splitlines()[0]) == (
        1,
        f"error: {bad}: nodes[1].name: 'node1\\n' is not a valid node name: lowercase letters, "
        "digits and '-', starting and ending with a letter or digit, at most 63 characters "
        "(RFC 1123, as Kubernetes requires)",
    )
    assert not out.exists()


def test_settings_with_a_trailing_newline_are_refused():
    values, origin = target_settings("lab")
    values.update(app_image="gourmetgram-app\n", kubespray_ref="release-2.26\n")
    origin.update(app_image="group_data/lab.py", kubespray_ref="group_data/lab.py")
    with pytest.raises(SettingsError) as err:
        validate(values, origin)
    assert str(err.value).splitlines() == [
        "group_data/lab.py: kubespray_ref: 'release-2.26\\n' is not a git branch, tag or "
        "commit name",
        "group_data/lab.py: app_image: 'gourmetgram-app\\n' is not an image reference like "
        "name:tag",
    ]


# --- render --out -----------------------------------------------------------------------


def _tracked_manifests() -> dict[str, bytes]:
    return _snapshot(PROJECT_ROOT / "manifests")


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (".", "--out .: would write over the project itself"),
        ("manifests", "--out manifests: is inside the project's tracked sources (manifests/)"),
        ("gourmetops/plan", "--out gourmetops/plan: is inside the project's tracked sources"),
        ("README.md", "--out README.md: is a file, not a directory"),
        ("/", "--out /: would write over the project itself"),
    ],
)
def test_render_refuses_an_out_dir_over_the_sources(out, message):
    before = _tracked_manifests()
    ran = fab("render", "--out", out)
    assert ran.code == 1 and ran.out.startswith(f"error: {message}"), ran.out
    assert _tracked_manifests() == before
    assert not (PROJECT_ROOT / "gourmetops" / "plan").exists()


def test_render_into_a_foreign_non_empty_dir_needs_force(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    ran = fab("render", "--out", str(tmp_path))
    assert (ran.code, ran.out.strip()) == (
        1,
        f"error: --out {tmp_path}: is not empty and was not written by fab render; choose an "
        "empty or new directory, or add --force to write into it",
    )
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert fab("render", "--out", str(tmp_path), "--force").code == 0
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "ssh_config").exists()
    again = fab("render", "--out", str(tmp_path))  # its own directory: no --force needed
    assert again.code == 0, again.out


def test_no_artefact_is_written_outside_out(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(InputError) as err:
        write(out, {"ssh_config": "x", "../escaped": "y"})
    assert str(err.value) == f"artefact '../escaped' would be written outside --out {out}"
    assert not out.exists() and not (tmp_path / "escaped").exists()


# --- remote commands quote what they carry -----------------------------------------------


def test_remote_commands_keep_each_value_one_word():
    """Values that passed validation still reach the remote shell quoted: a URL may carry
    `$()`, `;` and quotes, a user name nothing the shell reads."""
    url = "http://10.254.0.2/test?q=$(reboot);x='1'"
    words = shlex.split(LoadRun(url=url, concurrency=2, duration=5).command())
    assert words[-1] == url
    assert shlex.split(copy_for_user_command("cc")) == [
        "sudo",
        "cp",
        "-R",
        "/root/.kube",
        "/home/cc/",
        "&&",
        "sudo",
        "chown",
        "-R",
        "cc:",
        "/home/cc/.kube",
    ]


# --- writes: no link followed, no tracked file replaced, no traceback on a path ----------


def _victim(tmp_path: Path) -> Path:
    """A file a planted link points at: it must come out of every case byte for byte."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    return victim


def test_a_lock_that_is_a_link_is_refused_and_its_target_untouched(tmp_path):
    victim = _victim(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    (state / "run.lock").symlink_to(victim)
    with pytest.raises(UnsafePath) as err, run_lock(state, "lab", "prepare"):
        pass
    assert str(err.value) == (
        f"run lock {state / 'run.lock'}: is a symbolic link; remove it and run again"
    )
    assert victim.read_text() == "precious\n"


def test_a_lock_that_is_a_directory_or_not_utf8_is_said_in_one_line(tmp_path):
    (tmp_path / "run.lock").mkdir()
    with pytest.raises(UnsafePath) as err, run_lock(tmp_path, "lab", "prepare"):
        pass
    assert (
        str(err.value)
        == f"run lock {tmp_path / 'run.lock'}: is a directory; remove it and run again"
    )
    (tmp_path / "run.lock").rmdir()
    (tmp_path / "run.lock").write_bytes(b"\xff\xfe{not json")
    said: list[str] = []
    with run_lock(tmp_path, "lab", "prepare", echo=said.append):
        pass
    assert said == [
        "taking over a stale lock on target lab from an unknown run: that run ended without "
        "releasing it"
    ]


def test_a_logs_dir_that_is_a_file_is_a_clean_error(tmp_path):
    (tmp_path / "logs").write_text("not a directory")
    with pytest.raises(UnsafePath) as err, _logged(tmp_path / "logs", "prepare"):
        pass
    assert str(err.value) == (
        f"run logs directory {tmp_path / 'logs'}: is not a directory; move it away and run again"
    )
    assert (tmp_path / "logs").read_text() == "not a directory"


def test_safe_write_refuses_links_directories_and_tracked_files(tmp_path):
    victim = _victim(tmp_path)
    (tmp_path / "link").symlink_to(victim)
    (tmp_path / "dir").mkdir()
    readme = (PROJECT_ROOT / "README.md").read_bytes()
    cases = {
        tmp_path / "link": f"x {tmp_path / 'link'}: is a symbolic link; refusing to write "
        "through it (remove the link, or choose another path)",
        tmp_path / "dir": f"x {tmp_path / 'dir'}: is a directory; give a file path",
        Path("/dev/null"): "x /dev/null: is not a regular file; give a file path",
        PROJECT_ROOT / "README.md": f"x {PROJECT_ROOT / 'README.md'}: is a tracked file of the "
        "project; choose a path outside its sources, e.g. under .state/ or /tmp",
    }
    for path, message in cases.items():
        with pytest.raises(UnsafePath) as err:
            write_text(path, "written", "x")
        assert str(err.value) == message
    assert victim.read_text() == "precious\n"
    assert (PROJECT_ROOT / "README.md").read_bytes() == readme
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "link", "victim.txt"]
    assert list((tmp_path / "dir").iterdir()) == []


def test_ssh_config_is_written_beside_a_planted_tmp_link_and_by_many_threads(project_copy):
    """The old fixed `ssh_config.tmp` name: a link planted there was written through, and
    threads (fab check's, one per node) renamed each other's temp away. Each writer now has
    its own temp file; 16 threads at once on a missing ssh_config, 20 times over."""
    state = project_copy / ".state" / "chameleon"
    state.mkdir(parents=True, exist_ok=True)
    victim = _victim(project_copy.parent)
    (state / "ssh_config.tmp").symlink_to(victim)
    script = (
        "import threading\n"
        "from gourmetops.targets import chameleon_target\n"
        "t = chameleon_target()\n"
        "errors = []\n"
        "def write():\n"
        "    try: t.write_ssh_config()\n"
        "    except Exception as exc: errors.append(repr(exc))\n"
        "for _ in range(20):\n"
        "    t.ssh_config_path.unlink(missing_ok=True)\n"
        "    threads = [threading.Thread(target=write) for _ in range(16)]\n"
        "    [th.start() for th in threads]; [th.join() for th in threads]\n"
        "print(errors)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script],
        cwd=project_copy,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **CHAMELEON},
        timeout=120,
    )
    assert (ran.returncode, ran.stdout.strip()) == (0, "[]"), ran.stderr
    assert victim.read_text() == "precious\n"
    assert (state / "ssh_config").read_text().startswith("# Generated from")
    assert sorted(p.name for p in state.iterdir()) == ["ssh_config", "ssh_config.tmp"]
    (state / "ssh_config").unlink()
    (state / "ssh_config").symlink_to(victim)
    ran = _in_copy(project_copy, "fab", "logs", "--target", "chameleon", env=CHAMELEON)
    assert (ran.returncode, ran.stderr.strip()) == (
        1,
        f"error: ssh_config {state / 'ssh_config'}: is a symbolic link; refusing to write "
        "through it (remove the link, or choose another path)",
    ), ran.stdout + ran.stderr
    assert victim.read_text() == "precious\n"
    shutil.rmtree(project_copy / ".state")


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (
            "README.md",
            "is a tracked file of the project; choose a path outside its sources, e.g. under "
            ".state/ or /tmp",
        ),
        ("{tmp}/dir", "is a directory; give a file path"),
        (
            "{tmp}/link",
            "is a symbolic link; refusing to write through it (remove the link, or choose "
            "another path)",
        ),
        ("{tmp}/old.tar.gz", "already exists; choose a new path, or add --force to replace it"),
    ],
    ids=["tracked", "directory", "link", "existing"],
)
def test_logs_out_is_refused_before_any_node_is_asked(tmp_path, out, message):
    (tmp_path / "dir").mkdir()
    (tmp_path / "link").symlink_to(_victim(tmp_path))
    (tmp_path / "old.tar.gz").write_text("someone's")
    before = _snapshot(tmp_path, PROJECT_ROOT / "manifests") | {
        "README.md": (PROJECT_ROOT / "README.md").read_bytes()
    }
    out = out.format(tmp=tmp_path)
    ran = fab("logs", "--target", "chameleon", "--out", out, env=CHAMELEON)
    assert (ran.code, ran.out.strip()) == (1, f"error: --out {out}: {message}")
    after = _snapshot(tmp_path, PROJECT_ROOT / "manifests") | {
        "README.md": (PROJECT_ROOT / "README.md").read_bytes()
    }
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "link", "old.tar.gz", "victim.txt"]
    assert list((tmp_path / "dir").iterdir()) == []


def test_render_out_unwritable_or_holding_a_link_is_a_clean_error(tmp_path):
    ran = fab("render", "--out", "/proc/1/x")
    assert ran.code == 1 and ran.out.startswith("error: --out /proc/1/x: cannot be made: "), ran.out
    assert "Traceback" not in ran.out and len(ran.out.strip().splitlines()) == 1
    out = tmp_path / "out"
    assert fab("render", "--out", str(out)).code == 0
    victim = _victim(tmp_path)
    (out / "ssh_config").unlink()
    (out / "ssh_config").symlink_to(victim)
    before = _snapshot(out)
    ran = fab("render", "--out", str(out))
    assert (ran.code, ran.out.strip()) == (
        1,
        f"error: artefact 'ssh_config' at {out / 'ssh_config'}: is a symbolic link; refusing "
        "to write through it (remove the link, or choose another path)",
    )
    assert _snapshot(out) == before and victim.read_text() == "precious\n"


# --- bounded input: config files and reports of any size or shape -------------------------

ALIAS_BOMB = "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n"
    for i in range(10)
)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: Path("/dev/zero"), "/dev/zero: is not a regular file; give a file"),
        (
            lambda tmp: _write(tmp / "big.yaml", "#" * (1024 * 1024 + 1)),
            "{path}: is larger than 1048576 bytes; it cannot be what is expected here",
        ),
        (
            lambda tmp: _write(tmp / "bomb.yaml", ALIAS_BOMB),
            "{path}: line 2, column 10: YAML aliases (*l0) are not accepted here; write the "
            "value out in full",
        ),
        (
            lambda tmp: _write(tmp / "latin1.yaml", "user: c\xe9\n", "latin-1"),
            "{path}: not UTF-8 text (byte 7)",
        ),
    ],
    ids=["dev-zero", "over-1MiB", "alias-bomb", "not-utf8"],
)
@pytest.mark.parametrize("variable", ["GOURMETOPS_CLUSTER", "GOURMETOPS_CHAMELEON_CONFIG"])
def test_config_files_are_read_bounded(tmp_path, make, message, variable):
    """cluster.yaml (GOURMETOPS_CLUSTER) and chameleon.local.yaml: a device, a file over
    1 MiB, a 1 KB alias bomb that expands to a billion nodes: one line each, at once."""
    path = make(tmp_path)
    env = {**CHAMELEON, "GOURMETOPS_FLOATING_IP": None, variable: str(path)}
    before = _snapshot(STATE_DIR / "chameleon")
    ran = fab("render", "--target", "chameleon", "--out", str(tmp_path / "out"), env=env)
    assert (ran.code, ran.out.strip()) == (1, "error: " + message.format(path=path))
    assert not (tmp_path / "out").exists()
    assert _snapshot(STATE_DIR / "chameleon") == before


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def _nan(data):
    data["scenarios"][0]["result"]["response_time"] = float("nan")
    return json.dumps(data)


def _infinity(data):
    data["scenarios"][1]["samples"][0]["t"] = float("inf")
    return json.dumps(data)


def _strings(data):
    data["scenarios"][0]["result"]["transactions"] = "412"
    data["scenarios"][0]["samples"][0]["t"] = "5"
    return json.dumps(data)


def _many_scenarios(data):
    data["scenarios"] = (data["scenarios"] * 13)[:51]  # one over the cap
    return json.dumps(data)


def _many_samples(data):
    data["scale_down"]["samples"] = [{"t": float(i), "replicas": 2} for i in range(20_001)]
    return json.dumps(data)


@pytest.mark.parametrize(
    ("spoil", "messages"),
    [
        (_nan, ["scenario '1 replica' result.response_time: must be a finite number (got nan)"]),
        (_infinity, ["scenario '6 replicas' samples[0].t: must be a finite number (got inf)"]),
        (
            _strings,
            [
                "scenario '1 replica' result.transactions: must be a whole number, not '412'",
                "scenario '1 replica' samples[0].t: must be a number, not '5'",
            ],
        ),
        (lambda data: "[" * 100_000 + "]" * 100_000, ["nested deeper than 32 levels; not results"]),
        (_many_scenarios, ["scenarios: must hold at most 50 items, not 51"]),
        (_many_samples, ["scale_down.samples: must hold at most 20000 items, not 20001"]),
    ],
    ids=["nan", "infinity", "strings", "100000-deep", "51-scenarios", "20001-samples"],
)
def test_a_hostile_results_file_leaves_the_report_as_it_was(reported, spoil, messages):
    """`reported`: the sample results as `fab report` left them (conftest)."""
    results = reported
    path = results / "experiment.json"
    path.write_text(spoil(json.loads(path.read_text())))
    before, names = _snapshot(results), sorted(p.name for p in results.iterdir())
    ran = fab("report", str(results))
    assert (ran.code, ran.out.strip().splitlines()) == (
        1,
        [f"error: {path}: {messages[0]}", *(f"{path}: {m}" for m in messages[1:])],
    )
    assert _snapshot(results) == before  # report.md and the PNGs byte for byte
    assert sorted(p.name for p in results.iterdir()) == names  # no scratch left


def test_results_over_the_size_cap_are_refused_unread(tmp_path):
    (tmp_path / "experiment.json").write_bytes(b" " * (64 * 1024 * 1024 + 1))
    ran = fab("report", str(tmp_path))
    assert (ran.code, ran.out.strip()) == (
        1,
        f"error: {tmp_path / 'experiment.json'}: is larger than 67108864 bytes; it cannot be "
        "what is expected here",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["experiment.json"]


# --- addresses that cannot be a node's ---------------------------------------------------


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("0.0.0.0", "is the unspecified address, which no node has"),
        ("255.255.255.255", "is the broadcast address, which no node has"),
        ("224.0.0.1", "is a multicast address, which no node has"),
    ],
)
@pytest.mark.parametrize("variable", ["GOURMETOPS_FLOATING_IP", "GOURMETOPS_NODE1_PUBLIC_ADDRESS"])
def test_an_address_no_node_has_is_refused_where_it_is_read(tmp_path, address, why, variable):
    """Loopback stays allowed (these tests stand 127.0.0.10 in for the floating IP)."""
    before = _snapshot(STATE_DIR / "chameleon")
    ran = fab("render", "--target", "chameleon", "--out", str(tmp_path / "o"),
              env={**CHAMELEON, variable: address})  # fmt: skip
    assert (ran.code, ran.out.strip()) == (
        1,
        f"error: environment variable {variable}={address!r} {why}",
    )
    config = _write(tmp_path / "chameleon.local.yaml", f"floating_ip: {address}\n")
    env = {**CHAMELEON, "GOURMETOPS_FLOATING_IP": None, "GOURMETOPS_CHAMELEON_CONFIG": str(config)}
    ran = fab("render", "--target", "chameleon", "--out", str(tmp_path / "o"), env=env)
    assert (ran.code, ran.out.strip()) == (1, f"error: {config}: floating_ip: {address!r} {why}")
    assert not (tmp_path / "o").exists() and _snapshot(STATE_DIR / "chameleon") == before


def test_node1s_public_address_equal_to_the_floating_ip_is_refused(tmp_path):
    """The Service's externalIP must be an address node1 has; the floating IP is NAT'd."""
    before = _snapshot(STATE_DIR / "chameleon")
    env = {**CHAMELEON, "GOURMETOPS_NODE1_PUBLIC_ADDRESS": CHAMELEON["GOURMETOPS_FLOATING_IP"]}
    ran = fab("render", "--target", "chameleon", "--out", str(tmp_path / "o"), env=env)
    assert ran.code == 1 and ran.out.count("\n") == 1, ran.out
    assert ran.out.startswith(
        "error: node1's public address 127.0.0.10 is its floating IP: give node1's own address "
        "on sharednet1 instead (GOURMETOPS_NODE1_PUBLIC_ADDRESS or 'node1_public_address' in "
    )
    assert not (tmp_path / "o").exists() and _snapshot(STATE_DIR / "chameleon") == before


# --- read-only tasks fetch nothing -------------------------------------------------------

NO_NETWORK = {"https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}


def test_read_only_tasks_fetch_nothing_and_say_what_a_real_run_would(project_copy, tmp_path):
    """`fab check` with no kubespray clone on the controller, and `fab render --target lab`
    with the offline mirror missing (an empty GOURMETOPS_FIXTURES): one line saying what a
    real run would fetch, no clone made. A proxy on a closed loopback port makes any attempt
    fail at once, without leaving the machine."""
    shutil.rmtree(project_copy / ".state", ignore_errors=True)
    upstream = "https://github.com/kubernetes-sigs/kubespray"
    ran = _in_copy(project_copy, "fab", "check", "--target", "chameleon",
                   env={**CHAMELEON, **NO_NETWORK})  # fmt: skip
    assert (ran.returncode, ran.stderr.strip()) == (
        1,
        f"error: fab check fetches nothing, and kubespray release-2.26 of {upstream} is not on "
        "the controller: a real run (`fab kubespray` or `fab up`) clones it first",
    ), ran.stdout + ran.stderr
    out = tmp_path / "out"
    no_mirror = {"GOURMETOPS_FIXTURES": str(tmp_path / "no-mirror"), **NO_NETWORK}
    ran = _in_copy(
        project_copy, "fab", "render", "--target", "lab", "--out", str(out), env=no_mirror
    )
    assert (ran.returncode, ran.stderr.strip()) == (
        1,
        f"error: fab render fetches nothing, and kubespray release-2.26 of {upstream} is not "
        "on the controller: a real run (`fab kubespray` or `fab up`) clones it first; or give "
        "--kubespray-source a local mirror or bundle of release-2.26",
    ), ran.stdout + ran.stderr
    assert not out.exists() and not (project_copy / ".state" / "kubespray").exists()
    shutil.rmtree(project_copy / ".state", ignore_errors=True)


def test_an_htpasswd_that_is_a_device_stops_render_before_anything(tmp_path):
    """Checked when the settings are read (render, dry runs, the inventories), not after
    pyinfra connected to node1."""
    ran = fab("render", "--out", str(tmp_path / "o"),
              env={"GOURMETOPS_REGISTRY_HTPASSWD": "/dev/zero"})  # fmt: skip
    assert (ran.code, ran.out.strip()) == (
        1,
        "error: group_data/all.py: registry_htpasswd: '/dev/zero' is not a regular file; "
        "give the htpasswd file itself",
    )
    assert not (tmp_path / "o").exists()
