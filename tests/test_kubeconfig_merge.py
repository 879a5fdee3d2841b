"""`fab kubeconfig --merge`, checked with the real kubectl (a fixed build, v1.30): the user's
kubeconfig is made by `kubectl config set-*` in a temp directory, merged with a kubeconfig
as `fab kubeconfig` fetches it (kubespray's admin.conf, server rewritten for the tunnel),
and read back by `kubectl config`. `kubectl config` works offline; the last test reaches the
API stand-in (tests/kube_standin) through the merged context.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gourmetops.app.kubeconfig import KubeconfigError, rewrite_server
from gourmetops.app.kubeconfig_merge import merge
from gourmetops.app.kubeconfig_user import destination, merge_and_say, merge_into
from gourmetops.safe_write import UnsafePath
from tests.cli import fab as run_fab
from tests.kube_standin import serve
from tests.kube_standin.certs import admin_kubeconfig, certificates

KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.30"
ADMIN_CONF = Path(__file__).parent / "fixtures" / "kubernetes" / "admin.conf"
FETCHED = rewrite_server(ADMIN_CONF.read_text(), 16443)  # as `fab kubeconfig` leaves it
pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason=f"no {KUBECTL}")


def kubectl(kubeconfig: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "KUBECONFIG": kubeconfig}
    return subprocess.run(
        [KUBECTL, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def users_kubeconfig(path: Path) -> Path:
    """Two contexts of the user's own, made by kubectl; `prod` current."""
    k = str(path)
    for args in (
        ["set-cluster", "prod", "--server=https://prod.example.invalid:6443"],
        ["set-credentials", "me", "--token=prod-token"],
        ["set-context", "prod", "--cluster=prod", "--user=me", "--namespace=shop"],
        ["set-cluster", "staging", "--server=https://staging.example.invalid:6443"],
        ["set-credentials", "ci", "--username=ci", "--password=s3cret"],
        ["set-context", "staging", "--cluster=staging", "--user=ci"],
        ["use-context", "prod"],
    ):
        ok(kubectl(k, "config", *args, home=path.parent))
    return path


def view(path: Path) -> dict:
    return json.loads(
        ok(kubectl(str(path), "config", "view", "--raw", "-o", "json", home=path.parent))
    )


def others(config: dict) -> dict[str, list]:
    """Every cluster, user and context entry but gourmetops-lab's."""
    return {
        key: [e for e in config[key] if e["name"] != "gourmetops-lab"]
        for key in ("clusters", "users", "contexts")
    }


def test_merge_adds_one_context_keeps_the_others_and_replaces_on_a_rerun(tmp_path, capsys):
    config = users_kubeconfig(tmp_path / "config")
    before = view(config)
    merge_and_say(config, FETCHED, "lab", 16443)
    assert capsys.readouterr().out == (
        f"{config}: context gourmetops-lab added (cluster and user gourmetops-lab, server "
        "https://127.0.0.1:16443)\n"
        "  current-context kept (prod); next: kubectl config use-context gourmetops-lab\n"
    )
    k = str(config)
    names = ok(kubectl(k, "config", "get-contexts", "-o", "name", home=tmp_path))
    assert names.split() == ["gourmetops-lab", "prod", "staging"]
    server = "{.clusters[0].cluster.server}"
    minify = ["config", "view", "--minify", "--context", "gourmetops-lab", "-o"]
    assert ok(kubectl(k, *minify, f"jsonpath={server}", home=tmp_path)) == "https://127.0.0.1:16443"
    after = view(config)
    assert others(after) == others(before)
    assert after["current-context"] == "prod"
    lab = {e["name"]: e for e in after["users"]}["gourmetops-lab"]["user"]
    assert lab["client-key-data"] == "UExBQ0VIT0xERVItS0VZ"  # the fetched credentials
    assert oct(config.stat().st_mode & 0o777) == "0o600"

    merge_and_say(config, rewrite_server(FETCHED, 17443), "lab", 17443)
    assert capsys.readouterr().out.splitlines()[0] == (
        f"{config}: context gourmetops-lab replaced (cluster and user gourmetops-lab, server "
        "https://127.0.0.1:17443)"
    )
    again = view(config)
    assert ok(kubectl(k, "config", "get-contexts", "-o", "name", home=tmp_path)).split() == [
        "gourmetops-lab",
        "prod",
        "staging",
    ]
    assert config.read_text().count("name: gourmetops-lab") == 3  # cluster, user, context
    assert ok(kubectl(k, *minify, f"jsonpath={server}", home=tmp_path)) == "https://127.0.0.1:17443"
    assert others(again) == others(before) and again["current-context"] == "prod"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config"]  # no temp or lock left


def test_a_kubeconfig_without_current_context_gets_ours(tmp_path, capsys):
    config = tmp_path / "config"
    ok(kubectl(str(config), "config", "set-context", "other", "--cluster=x", home=tmp_path))
    assert 'current-context: ""' in config.read_text()  # kubectl's own way of saying none
    merge_and_say(config, FETCHED, "chameleon", 16443)
    assert capsys.readouterr().out.splitlines()[1] == (
        f"  current-context set to gourmetops-chameleon ({config} had none)"
    )
    current = ok(kubectl(str(config), "config", "current-context", home=tmp_path))
    assert current == "gourmetops-chameleon\n"


def test_a_missing_kubeconfig_is_made(tmp_path):
    config = tmp_path / ".kube" / "config"
    merged = merge_into(config, FETCHED, "lab", 16443)
    assert merged.current_set and not merged.replaced
    assert ok(kubectl(str(config), "config", "get-contexts", "-o", "name", home=tmp_path)) == (
        "gourmetops-lab\n"
    )


@pytest.mark.parametrize(
    "existing", [("a", "b"), ("b",), ()], ids=["both-exist", "second-exists", "none-exists"]
)
def test_the_file_written_is_the_one_kubectl_writes(tmp_path, existing):
    """With several paths in $KUBECONFIG kubectl adds to the first that exists, else the
    last: asked of kubectl itself, then of destination()."""
    paths = [tmp_path / "a", tmp_path / "b"]
    for name in existing:
        (tmp_path / name).write_text("")
    kubeconfig = os.pathsep.join(map(str, paths))
    ok(kubectl(kubeconfig, "config", "set-context", "probe", "--cluster=x", home=tmp_path))
    written_by_kubectl = [p for p in paths if p.exists() and "probe" in p.read_text()]
    assert destination({"KUBECONFIG": kubeconfig}) == written_by_kubectl[0]
    assert len(written_by_kubectl) == 1


def test_kubeconfig_default_and_first_path(tmp_path):
    assert destination({}, home=tmp_path) == tmp_path / ".kube" / "config"
    assert destination({"KUBECONFIG": ""}, home=tmp_path) == tmp_path / ".kube" / "config"
    (tmp_path / "first").write_text("")
    both = f"{tmp_path}/first{os.pathsep}{tmp_path}/second"
    assert destination({"KUBECONFIG": both}) == tmp_path / "first"


def test_a_symlinked_kubeconfig_is_refused_and_nothing_written(tmp_path):
    real = users_kubeconfig(tmp_path / "real")
    link = tmp_path / "config"
    link.symlink_to(real)
    before = real.read_bytes()
    with pytest.raises(UnsafePath) as refused:
        merge_into(link, FETCHED, "lab", 16443)
    assert str(refused.value) == (
        f"kubeconfig {link}: is a symbolic link; refusing to write through it "
        "(remove the link, or choose another path)"
    )
    assert real.read_bytes() == before and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config", "real"]


def test_a_held_kubectl_lock_is_respected(tmp_path):
    config = users_kubeconfig(tmp_path / "config")
    before = config.read_bytes()
    lock = tmp_path / "config.lock"
    lock.write_text("")
    refused_by_kubectl = kubectl(str(config), "config", "use-context", "staging", home=tmp_path)
    assert refused_by_kubectl.stderr == f"error: open {lock}: file exists\n"
    with pytest.raises(KubeconfigError) as refused:
        merge_into(config, FETCHED, "lab", 16443)
    assert str(refused.value) == (
        f"{lock}: exists: kubectl is changing {config}, or was stopped while it did "
        "(remove the lock when no kubectl runs); not changed"
    )
    assert config.read_bytes() == before and lock.exists()


def fab(*args: str, **env: str):
    """`fab` on the Chameleon target at a loopback floating IP where no sshd listens: the
    refusals tested come before any host is asked."""
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GOURMETOPS_")}
    clean["GOURMETOPS_CHAMELEON_CONFIG"] = "/nonexistent/chameleon.local.yaml"
    clean["GOURMETOPS_FLOATING_IP"] = "127.0.0.10"
    return run_fab(*args, env={**clean, **env})


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (
            "clusters: [\n",
            "not valid YAML (line 2, column 1: expected the node content, but found "
            "'<stream end>'); not changed",
        ),
        ("- a\n- b\n", "not a kubeconfig (no mapping at the top); not changed"),
        ("clusters: {}\n", "'clusters' is not a list; not changed"),
        ("users: prod\n", "'users' is not a list; not changed"),
        ("contexts:\n- context: {}\n", "contexts[0] has no name; not changed"),
    ],
    ids=["invalid-yaml", "a-list", "clusters-mapping", "users-string", "nameless-context"],
)
def test_fab_kubeconfig_merge_refuses_a_kubeconfig_it_cannot_merge_before_any_host(
    tmp_path, text, why
):
    config = tmp_path / "config"
    config.write_text(text)
    ran = fab("kubeconfig", "--merge", "--target", "chameleon", KUBECONFIG=str(config))
    assert (ran.code, ran.out) == (1, f"error: {config}: {why}\n")
    assert config.read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config"]


def test_fab_kubeconfig_merge_refuses_a_link_before_any_host(tmp_path):
    (tmp_path / "real").write_text("")
    (tmp_path / "config").symlink_to(tmp_path / "real")
    ran = fab("kubeconfig", "--merge", "--target", "chameleon", KUBECONFIG=str(tmp_path / "config"))
    assert ran.code == 1
    assert ran.out == (
        f"error: kubeconfig {tmp_path / 'config'}: is a symbolic link; refusing to write "
        "through it (remove the link, or choose another path)\n"
    )


def test_fab_kubeconfig_merge_dry_says_where(tmp_path):
    config = tmp_path / "config"
    ran = fab("kubeconfig", "--merge", "--dry", "--target", "chameleon", KUBECONFIG=str(config))
    assert ran.code == 0, ran.out
    assert ran.out.splitlines()[-1] == (
        "would add context gourmetops-chameleon (cluster and user gourmetops-chameleon, "
        f"server https://127.0.0.1:16443) to {config}"
    )
    assert not config.exists()


HAND_WRITTEN = """\
# my clusters
---
apiVersion: v1
kind: Config
clusters:
  - name: prod   # the real one
    cluster:
      server: "https://prod.example.invalid:6443"
      certificate-authority-data: QUJD
contexts:
  - name: prod
    context: {cluster: prod, user: me, namespace: 'shop'}
current-context: prod
preferences: {}
users:
  - name: me
    user:
      token: 'abc'   # rotated monthly
extensions: []
"""


def without(text: str, name: str) -> str:
    """`text` without the list entries called `name` (the line and the lines under it)."""
    kept, skipping = [], None
    for line in text.splitlines(keepends=True):
        indent = len(line) - len(line.lstrip())
        if skipping is not None and indent > skipping:
            continue
        skipping = indent if line.strip() == f"- name: {name}" else None
        if skipping is None:
            kept.append(line)
    return "".join(kept)


def test_every_other_byte_of_a_hand_written_kubeconfig_is_kept():
    merged = merge(HAND_WRITTEN, FETCHED, "lab", 16443, "~/.kube/config")
    assert without(merged.text, "gourmetops-lab") == HAND_WRITTEN
    assert merged.text.count("- name: gourmetops-lab") == 3
    assert merge(merged.text, FETCHED, "lab", 16443, "x").text == merged.text  # a rerun: same


def test_kubectl_reads_the_hand_written_kubeconfig_merged(tmp_path):
    config = tmp_path / "config"
    config.write_text(merge(HAND_WRITTEN, FETCHED, "lab", 16443, str(config)).text)
    names = ok(kubectl(str(config), "config", "get-contexts", "-o", "name", home=tmp_path))
    assert names.split() == ["gourmetops-lab", "prod"]


def test_kubectl_reaches_the_api_standin_through_the_merged_context(tmp_path):
    """End to end: the stand-in's port plays the tunnel's local end; kubectl --context
    gourmetops-lab gets there with the fetched CA and token, the user's context untouched."""
    token = "standin-token-merge"
    ca, crt, key = certificates(tmp_path)
    server, cluster = serve(token=token, tls=(str(crt), str(key)))
    try:
        port = server.server_address[1]
        fetched = admin_kubeconfig(ca, "https://10.254.1.11:6443", token)  # node1's own
        config = users_kubeconfig(tmp_path / "config")
        merge_into(config, rewrite_server(fetched, port), "lab", port)
        k = str(config)
        nodes = ok(
            kubectl(
                k,
                "--context",
                "gourmetops-lab",
                "get",
                "nodes",
                "-o",
                "name",
                "--cache-dir",
                str(tmp_path / "cache"),
                home=tmp_path,
            )
        )
        assert nodes.split() == ["node/node1", "node/node2", "node/node3"]
        assert ("GET", "/api/v1/nodes") in cluster.requests
        assert ok(kubectl(k, "config", "current-context", home=tmp_path)) == "prod\n"
    finally:
        server.shutdown()
