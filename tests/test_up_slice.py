"""`fab up --from/--to/--redo`: a slice of the stage list in its order, each flag checked
against the list (with a suggestion) before anything runs. The slices themselves run on the
lab in tests/test_up.py."""

from __future__ import annotations

import pytest

from gourmetops.stages import STAGES, select
from tests.cli import fab

NAMES = "prepare, kubespray, cluster, kubeconfig, registry, image, rollout"


def test_a_slice_keeps_the_lists_order():
    assert [s.name for s in select("registry")] == ["registry", "image", "rollout"]
    assert [s.name for s in select(None, "kubespray")] == ["prepare", "kubespray"]
    assert [s.name for s in select("cluster", "cluster")] == ["cluster"]
    assert select() == STAGES


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--from", "registy"), f"error: --from 'registy': not a stage; did you mean 'registry'? "
                                f"(stages: {NAMES})"),
        (("--to", "nowhere"), f"error: --to 'nowhere': not a stage (stages: {NAMES})"),
        (("--from", "image", "--to", "registry"), f"error: --from image comes after --to "
                                                  f"registry: stages run in the order {NAMES}"),
        (("--redo", "image"), "error: --redo 'image': only cluster is skipped when unchanged; "
                              "every other stage runs each time and changes only what differs"),
    ],
    ids=["from-typo", "to-unknown", "from-after-to", "redo-not-skippable"],
)  # fmt: skip
def test_bad_slices_are_refused_before_anything_runs(args, said):
    ran = fab("up", "--target", "lab", "--dry", *args)
    assert ran.code == 1 and ran.last == said, ran.out
    assert "==> stage" not in ran.out and "pre-checks" not in ran.out
