"""The kubespray deploy's one planning read (gourmetops.facts.KubesprayCheckout) run by the
real shell against a real clone of kubespray (the lab's source: the offline mirror's bundle
when present) and a real virtualenv on this
machine, and the decisions taken from it (gourmetops.in_place): a no-op rerun skips
git.repo, pip.virtualenv and pip.packages only when each would change nothing."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from gourmetops.facts import KubesprayCheckout
from gourmetops.in_place import checkout_in_place, requirements_in_place
from tests.kubespray_source import KUBESPRAY as SOURCE

REF = "release-2.26"
REQUIREMENTS = ["ansible==9.8.0", "jmespath==1.0.1", "ruamel.yaml"]


def read(dest: Path, venv: Path, ref: str = REF):
    fact = KubesprayCheckout()
    command = fact.command(str(dest), str(venv), ref).get_raw_value()
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)
    return fact.process(out.stdout.splitlines())


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """A directory with spaces in its name (every path is quoted), kubespray cloned at its
    branch, and a virtualenv whose site-packages holds the requirements'
    dist-info directories (as pip leaves them)."""
    root = tmp_path_factory.mktemp("node one")
    dest, venv = root / "kube spray", root / "kube venv"
    subprocess.run(["git", "clone", "-q", "--branch", REF, SOURCE, str(dest)], check=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = venv.glob("lib/python3*/site-packages")
    for dist in ("ansible-9.8.0", "jmespath-1.0.1", "ruamel.yaml-0.18.6"):
        (site / f"{dist}.dist-info").mkdir()
    return dest, venv, site


def test_a_converged_checkout_is_in_place(node):
    dest, venv, _ = node
    state = read(dest, venv)
    assert state.git_dir and state.branch == REF and not state.tag
    assert state.origin == SOURCE and len(state.local) == 40
    assert state.local == state.remote  # git ls-remote, as pyinfra's own fact reads it
    assert state.venv and "ansible-9.8.0.dist-info" in state.dists
    assert checkout_in_place(state, SOURCE, REF, None)
    assert checkout_in_place(state, SOURCE, REF, state.local)  # offline: carried commit
    assert requirements_in_place(state, REQUIREMENTS)


def test_each_difference_says_the_step_has_work(node):
    dest, venv, site = node
    state = read(dest, venv)
    assert not checkout_in_place(state, "https://example.invalid/other.git", REF, None)
    assert not checkout_in_place(state, SOURCE, "release-2.27", None)
    assert not checkout_in_place(state, SOURCE, REF, "0" * 40)  # the ref moved
    assert not checkout_in_place(dataclasses.replace(state, remote=""), SOURCE, REF, None)
    assert not checkout_in_place(dataclasses.replace(state, tag=True), SOURCE, REF, None)
    assert not requirements_in_place(state, ["ansible==9.9.0"])  # another pin
    assert not requirements_in_place(state, ["netaddr==1.3.0"])  # not installed
    assert not requirements_in_place(state, ["ansible>=9"])  # a range: pip decides
    assert not requirements_in_place(dataclasses.replace(state, venv=False), ["ansible==9.8.0"])
    assert requirements_in_place(state, ["Ruamel_Yaml", "JMESPath==1.0.1"])  # canonical names


def test_nothing_there_yet_reads_as_absent(tmp_path):
    state = read(tmp_path / "none", tmp_path / "no venv")
    assert (state.git_dir, state.origin, state.local, state.remote) == (False, "", "", "")
    assert (state.venv, state.dists) == (False, ())
    assert not checkout_in_place(state, SOURCE, REF, None)
    assert not requirements_in_place(state, [])
