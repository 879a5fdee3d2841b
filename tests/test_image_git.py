"""The image stage from a git source: a bare repository made from tests/fixtures/app is the
app's upstream, given as a file:// URL + ref. The lab has no git server, so the bare
repository is at the same path on the controller (where `git ls-remote` decides the
version) and on node1 (where the clone/fetch/checkout in ~/gourmetgram runs for real);
a new commit is pushed to the controller's copy and synced to node1's, as a push to a
shared upstream would be seen by both."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.labtools import Lab

APP = Path(__file__).parent / "fixtures" / "app"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


class Upstream:
    def __init__(self, lab: Lab, root: Path) -> None:
        self.lab = lab
        self.work = root / "work"
        self.bare = root / "app.git"
        shutil.copytree(APP, self.work)
        git(self.work, "init", "-q", "-b", "main")
        self.commit("the app")
        git(root, "clone", "-q", "--bare", str(self.work), str(self.bare))
        git(self.work, "remote", "add", "origin", str(self.bare))
        self.sync()

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def commit(self, message: str) -> str:
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "-m", message)
        return git(self.work, "rev-parse", "HEAD")

    def push(self) -> None:
        git(self.work, "push", "-q", "origin", "main")
        self.sync()

    def sync(self) -> None:
        """node1's copy of the bare repository, at the same path, owned by cc."""
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w:gz") as tar:
            tar.add(self.bare, arcname=".")
        archive = self.bare.parent / "app.git.tar.gz"
        archive.write_bytes(out.getvalue())
        self.lab.put("node1", archive, "/tmp/app.git.tar.gz")
        path = str(self.bare)
        self.lab.ssh(
            "node1",
            f"sudo rm -rf {path} && sudo mkdir -p {path} && sudo chown cc: {path} && "
            f"tar -xzf /tmp/app.git.tar.gz -C {path} && rm /tmp/app.git.tar.gz",
        )


@pytest.fixture(scope="module")
def upstream(docker_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Upstream:
    fresh_lab = docker_lab
    # After the preliminaries, as in the tutorial (firewalld would reject port 5000).
    for stage in ("registry",):
        result = fresh_lab.fab(stage)
        assert result.returncode == 0, result.stdout[-3000:]
    return Upstream(fresh_lab, tmp_path_factory.mktemp("git"))


def fab_image(up: Upstream):
    return up.lab.fab("image", "--source", up.url, "--ref", "main")


def test_git_source_is_cloned_built_and_pushed(upstream: Upstream):
    head = git(upstream.work, "rev-parse", "HEAD")
    result = fab_image(upstream)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "==> image: built" in result.stdout
    assert upstream.lab.out("node1", "git -C gourmetgram rev-parse HEAD") == head
    catalog = upstream.lab.fab("catalog")
    assert f"gourmetgram-app: {head[:12]}, latest" in catalog.stdout, catalog.stdout


def test_same_ref_again_builds_nothing(upstream: Upstream):
    result = fab_image(upstream)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "is in the registry already: nothing to build" in result.stdout
    assert "docker build" not in result.stdout


def test_new_commit_on_the_ref_rebuilds(upstream: Upstream):
    first = git(upstream.work, "rev-parse", "HEAD")
    (upstream.work / "VERSION").write_text("2\n")
    head = upstream.commit("version 2")
    upstream.push()
    upstream.lab.ssh("node1", "touch gourmetgram/.git/kept-by-fetch")
    result = fab_image(upstream)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "==> image: built" in result.stdout and "docker build" in result.stdout
    # The existing clone was fetched and moved to the new commit, not cloned afresh.
    assert upstream.lab.out("node1", "git -C gourmetgram rev-parse HEAD") == head
    upstream.lab.ssh("node1", "test -f gourmetgram/.git/kept-by-fetch")
    assert upstream.lab.out("node1", "cat gourmetgram/VERSION") == "2"
    catalog = upstream.lab.fab("catalog").stdout
    line = next(x for x in catalog.splitlines() if "gourmetgram-app:" in x)
    tags = line.split(":", 1)[1].replace(",", " ").split()
    assert sorted(tags) == sorted([first[:12], head[:12], "latest"]), catalog
