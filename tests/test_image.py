"""The image stage on the lab: the GourmetGram stand-in in tests/fixtures/app built by
docker on node1 from a base image of python3 out of node1's rootfs (nothing can be pulled
in the lab), pushed to node1:5000, listed by the registry's API and pulled by node2 over the private
network with the trust the registry stage configured. Checked on the nodes the first `fab up`
converged (conftest's `converged_lab`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gourmetops.registry.image import AppSource
from tests.labtools import Lab

APP = Path(__file__).parent / "fixtures" / "app"


@pytest.fixture(scope="module")
def image_lab(converged_lab: Lab, first_up) -> Lab:
    """The nodes after the first `fab up`, whose image stage built and pushed the app."""
    assert "==> image: built" in first_up.stdout
    return converged_lab


def test_image_is_in_the_registry_with_both_tags(image_lab: Lab):
    version = AppSource(str(APP)).version()
    result = image_lab.fab("catalog")
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"gourmetgram-app: {version}, latest" in result.stdout


def test_node2_pulls_it_over_the_private_network(image_lab: Lab):
    pulled = image_lab.ssh("node2", "sudo docker pull -q node1:5000/gourmetgram-app:latest")
    assert pulled.returncode == 0
    cmd = image_lab.out(
        "node2",
        "sudo docker image inspect node1:5000/gourmetgram-app:latest --format '{{.Config.Cmd}}'",
    )
    assert cmd == "[python3 /app/app.py]"


def test_unchanged_source_builds_nothing(image_lab: Lab):
    result = image_lab.fab("image")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "is in the registry already: nothing to build" in result.stdout
    assert "docker build" not in result.stdout


def test_dry_run_with_a_changed_source_builds_nothing(image_lab: Lab, tmp_path):
    changed = tmp_path / "app"
    shutil.copytree(APP, changed)
    (changed / "VERSION").write_text("changed\n")
    version = AppSource(str(changed)).version()
    result = image_lab.fab("image", "--source", str(changed), "--dry")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "would run on node1" in result.stdout and f"gourmetgram-app:{version}" in result.stdout
    catalog = image_lab.fab("catalog").stdout
    assert version not in catalog

    # One plan: the real run then does exactly the steps the dry run listed, in order.
    planned = result.stdout.split("would run on node1:\n", 1)[1].splitlines()
    planned = [line.removeprefix("  ") for line in planned if line.startswith("  ")]
    built = image_lab.fab("image", "--source", str(changed))
    assert built.returncode == 0, built.stdout[-3000:]
    done = [line.removeprefix("==> ") for line in built.stdout.splitlines()]
    done = [line for line in done if line in planned]
    assert done == planned and len(planned) >= 4  # copy, base image, build, tag/push...
    assert version in image_lab.fab("catalog").stdout
