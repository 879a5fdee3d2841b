"""What the image stage runs on node1, and how a source's version is decided (no node)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gourmetops.registry.image import AppSource, ImageError, ImagePlan

APP = Path(__file__).parent / "fixtures" / "app"


def test_commands_build_tag_and_push_both_tags():
    plan = ImagePlan("docker", "gourmetgram-app", "node1:5000", "abc123", "gourmetgram")
    assert plan.commands() == [
        "sudo docker build -t gourmetgram-app:abc123 gourmetgram",
        "sudo docker tag gourmetgram-app:abc123 node1:5000/gourmetgram-app:abc123",
        "sudo docker push node1:5000/gourmetgram-app:abc123",
        "sudo docker tag gourmetgram-app:abc123 node1:5000/gourmetgram-app:latest",
        "sudo docker push node1:5000/gourmetgram-app:latest",
    ]


def test_podman_build_args_are_passed():
    plan = ImagePlan("podman", "app", "node1:5000", "v1", "src", ("--isolation=chroot",))
    assert plan.commands()[0] == "sudo podman build --isolation=chroot -t app:v1 src"


def test_directory_version_follows_content(tmp_path):
    copy = tmp_path / "app"
    shutil.copytree(APP, copy)
    same = AppSource(str(copy)).version()
    assert same == AppSource(str(APP)).version() and same.startswith("dir-")
    (copy / "app.py").write_text((copy / "app.py").read_text() + "\n# changed\n")
    assert AppSource(str(copy)).version() != same


def test_git_version_is_the_commit_of_the_ref(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(APP, repo)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@lab"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "app"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert AppSource(f"file://{repo}", "main").version() == head[:12]
    with pytest.raises(ImageError, match="has no ref 'nope'"):
        AppSource(f"file://{repo}", "nope").version()


def test_an_app_source_that_cannot_be_reached_is_not_blamed_on_the_ref(monkeypatch):
    """Offline (a proxy on a closed loopback port: nothing leaves the machine), git cannot
    ask for the ref at all; that is said, not "has no ref 'main'"."""
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    url = "https://github.com/teaching-on-testbeds/gourmetgram"
    with pytest.raises(ImageError) as refused:
        AppSource(url, "main").version()
    said = str(refused.value)
    assert said.startswith(f"app source {url} cannot be read (fatal: unable to access "), said
    assert said.endswith(
        "); check the network and the URL (app_source), or give --source a local directory "
        "of the app"
    )
    assert "has no ref" not in said
