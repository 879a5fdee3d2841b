"""The repository stands alone: the fixture bundle is only an offline mirror, used when
present; without it the lab fetches kubespray from upstream on the controller and carries
it to node1 as a bundle. No internet here, so a file:// repository stands in for upstream
(a tiny git repository with the ref, made in tmp): the same `git clone` as for GitHub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from gourmetops import KUBESPRAY_UPSTREAM, PROJECT_ROOT
from gourmetops.kubespray import checkout

BUNDLE_NAME = "kubespray-release-2.26.bundle"  # the name group_data/lab.py looks for
REF = "release-2.26"


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@lab"}
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@lab")
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


@pytest.fixture
def upstream(tmp_path: Path) -> SimpleNamespace:
    """A bare repository with branch release-2.26 and tag v2.26.0 (a requirements.txt, as
    kubespray's): its file:// URL standing in for GitHub, its path, and the commit."""
    work = tmp_path / "work"
    work.mkdir()
    _git("init", "-q", "-b", REF, cwd=work)
    (work / "requirements.txt").write_text("ansible==9.13.0\n")
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "kubespray stand-in", cwd=work)
    _git("tag", "v2.26.0", cwd=work)
    bare = tmp_path / "upstream.git"
    _git("clone", "-q", "--bare", str(work), str(bare))
    return SimpleNamespace(url=bare.as_uri(), bare=bare, commit=_git("rev-parse", "HEAD", cwd=work))


def _source(target: str, fixtures: Path) -> str:
    """The target's kubespray_source as a fresh process reads it with GOURMETOPS_FIXTURES
    set (the mirror's place is read once, at import)."""
    code = (
        f"from gourmetops.settings import check_target as c; print(c({target!r}).kubespray_source)"
    )
    env = {**os.environ, "GOURMETOPS_FIXTURES": str(fixtures)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _mirror(fixtures: Path, upstream: SimpleNamespace) -> Path:
    bundle = fixtures / BUNDLE_NAME
    _git("-C", str(upstream.bare), "bundle", "create", "-q", str(bundle), REF)
    return bundle


def test_the_lab_fetches_from_upstream_without_a_mirror(tmp_path: Path):
    assert _source("lab", tmp_path) == KUBESPRAY_UPSTREAM


def test_the_lab_fetches_from_the_mirror_when_it_is_there(tmp_path: Path, upstream):
    bundle = _mirror(tmp_path, upstream)
    assert _source("lab", tmp_path) == str(bundle)


def test_chameleon_fetches_from_upstream_even_beside_a_mirror(tmp_path: Path, upstream):
    """Chameleon's node1 has internet and clones upstream itself; the mirror is the lab's."""
    _mirror(tmp_path, upstream)
    assert _source("chameleon", tmp_path) == KUBESPRAY_UPSTREAM


@pytest.mark.parametrize("ref", [REF, "v2.26.0"])
def test_upstream_is_cloned_on_the_controller_and_carried_as_a_bundle(
    tmp_path: Path, upstream, monkeypatch, ref
):
    """The controller clones the upstream URL at a branch or a tag and bundles it; a clone
    of that bundle (what node1 runs, offline) is at the same commit, on the branch."""
    monkeypatch.setattr(checkout, "STATE_DIR", tmp_path / "state")
    local = checkout.controller_checkout(upstream.url, ref)
    assert _git("-C", str(local), "rev-parse", "HEAD") == upstream.commit
    assert checkout.requirements(local) == ["ansible==9.13.0", *checkout.EXTRA_REQUIREMENTS]

    bundle = checkout.carried_bundle(upstream.url, local, ref)
    assert bundle.is_relative_to(tmp_path / "state")
    assert checkout.carried_bundle(upstream.url, local, ref) == bundle  # once per ref, commit
    node1 = tmp_path / "node1-kubespray"
    _git("clone", "-q", "--branch", ref, str(bundle), str(node1))
    assert _git("-C", str(node1), "rev-parse", "HEAD") == upstream.commit
    if ref == REF:
        assert _git("-C", str(node1), "rev-parse", "--abbrev-ref", "HEAD") == REF


def test_a_bundle_source_is_carried_as_it_is(tmp_path: Path, upstream):
    bundle = _mirror(tmp_path, upstream)
    assert checkout.carried_bundle(str(bundle), tmp_path, REF) == bundle
