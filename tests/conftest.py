"""Fixtures for tests that run against the local three-node lab (real sshd, real systemd).

The lab needs root; tests that use it fail (not skip) without it, so a run that could
not exercise the real nodes never looks green.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from gourmetops import lab as labmod
from gourmetops.targets import lab_target
from tests.labtools import Lab


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.fail("the lab tests need root (network namespaces, overlayfs, systemd-nspawn)")
    target = lab_target()
    labmod.up(target)
    yield Lab(target)
    if not os.environ.get("GOURMETOPS_KEEP_LAB"):
        labmod.down(target)


@pytest.fixture(scope="module")
def fresh_lab(lab: Lab) -> Lab:
    """Pristine nodes for this module: fresh upper dirs and host keys."""
    labmod.reset(lab.target)
    return lab
