"""The target chosen once: GOURMETOPS_TARGET is every task's default `--target` (checked
with the message `--target` gets) and the notebook's when its TARGET is None; a lab refused
for lack of root says how to drive Chameleon instead. No lab: nothing here connects (the
Chameleon target's floating IP is loopback, and the tasks stop before any connection)."""

from __future__ import annotations

import inspect

import pytest

from gourmetops import notebook
from gourmetops.lab.system import LabError, require_root_and_tools
from gourmetops.pyinfra_run import inventory_path
from gourmetops.targets import TargetError
from tasks import ns
from tests.cli import fab
from tests.kubespray_source import KUBESPRAY

UNKNOWN = "unknown target 'prod'; choose one of lab, chameleon"
# Just enough for each task's required flags: the target is refused before its body runs.
REQUIRED = {"scale": ("--replicas", "1"), "render": ("--out", "/nonexistent/render-out")}
TARGETED = sorted(
    name
    for name, t in ns.tasks.items()
    if "target" in inspect.signature(t.body).parameters  # every task that has --target
)


def test_every_task_with_a_target_flag_is_counted():
    assert len(TARGETED) == 21 and "report" not in TARGETED


@pytest.mark.parametrize("task", TARGETED)
def test_every_task_takes_its_default_target_from_the_environment(task):
    ran = fab(task, *REQUIRED.get(task, ()), env={"GOURMETOPS_TARGET": "prod"})
    assert (ran.code, ran.out.strip()) == (
        1,
        f"error: environment variable GOURMETOPS_TARGET: {UNKNOWN}",
    )


def test_an_explicit_target_is_checked_with_the_same_words():
    ran = fab("prepare", "--dry", "--target", "prod", env={"GOURMETOPS_TARGET": "chameleon"})
    assert (ran.code, ran.out.strip()) == (1, f"error: {UNKNOWN}")


def test_a_mistyped_target_is_answered_with_the_one_meant():
    """A close name (a typo, another case) gets "did you mean" from fab and from the
    inventory path pyinfra's stages take; a far one ('prod', above) gets no guess."""
    ran = fab("prepare", "--dry", "--target", "chamelon")
    assert (ran.code, ran.out.strip()) == (
        1,
        "error: unknown target 'chamelon'; did you mean 'chameleon'? choose one of lab, chameleon",
    )
    ran = fab("check", env={"GOURMETOPS_TARGET": "Lab"})
    assert ran.out.strip() == (
        "error: environment variable GOURMETOPS_TARGET: unknown target 'Lab'; did you mean "
        "'lab'? choose one of lab, chameleon"
    )
    with pytest.raises(TargetError, match=r"^unknown target 'lba'; did you mean 'lab'\? "):
        inventory_path("lba")


def test_gourmetops_target_chameleon_renders_chameleon_and_target_flag_wins(tmp_path):
    env = {
        "GOURMETOPS_TARGET": "chameleon",
        "GOURMETOPS_FLOATING_IP": "127.0.0.10",
        "GOURMETOPS_NODE1_PUBLIC_ADDRESS": "127.0.0.8",
        "GOURMETOPS_CHAMELEON_CONFIG": "/nonexistent/chameleon.local.yaml",
    }
    ran = fab("render", "--out", str(tmp_path / "c"), "--kubespray-source", KUBESPRAY, env=env)
    assert ran.code == 0, ran.out
    assert "target 'chameleon'" in (tmp_path / "c" / "ssh_config").read_text()
    assert "HostName 127.0.0.10" in (tmp_path / "c" / "ssh_config").read_text()
    ran = fab("render", "--out", str(tmp_path / "l"), "--target", "lab",
              "--kubespray-source", KUBESPRAY, env=env)  # fmt: skip
    assert ran.code == 0, ran.out
    assert "target 'lab'" in (tmp_path / "l" / "ssh_config").read_text()


def test_the_notebooks_target_none_follows_the_environment(monkeypatch):
    monkeypatch.delenv("GOURMETOPS_TARGET", raising=False)
    assert notebook.target_of(None) == "chameleon"  # a notebook runs on JupyterHub
    monkeypatch.setenv("GOURMETOPS_TARGET", "lab")
    assert notebook.target_of(None) == "lab"
    assert notebook.target_of("chameleon") == "chameleon"  # a TARGET set in the cell wins
    monkeypatch.setenv("GOURMETOPS_TARGET", "prod")
    with pytest.raises(TargetError) as refused:
        notebook.latest_results(None)
    assert str(refused.value) == f"environment variable GOURMETOPS_TARGET: {UNKNOWN}"


def test_a_lab_refused_for_lack_of_root_suggests_chameleon():
    """The check itself, asked for a non-root effective user id (the tests run as root)."""
    with pytest.raises(LabError) as refused:
        require_root_and_tools(euid=1000)
    assert str(refused.value) == (
        "the lab needs root (network namespaces, overlay mounts, systemd-nspawn); to drive "
        "your Chameleon nodes instead, add --target chameleon, or set it once: "
        "export GOURMETOPS_TARGET=chameleon"
    )
    try:
        require_root_and_tools(euid=0)
    except LabError as exc:  # root passes; only missing host tools may still be named
        assert str(exc).startswith("missing host tools: "), exc
