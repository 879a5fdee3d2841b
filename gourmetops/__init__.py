"""Shared logic for the GourmetGram-on-Kubernetes deploys and tasks."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = PROJECT_ROOT / ".state"

# An optional offline mirror of what the stages fetch (the kubespray bundle): used when
# present, so a machine without internet still runs the lab; a clone anywhere else fetches
# from upstream instead. $GOURMETOPS_FIXTURES, else ../shared/fixtures beside the checkout.
FIXTURES_DIR = Path(
    os.environ.get("GOURMETOPS_FIXTURES") or PROJECT_ROOT.parent / "shared" / "fixtures"
)

# Where kubespray comes from when no mirror stands in for it (group_data/all.py's default).
KUBESPRAY_UPSTREAM = "https://github.com/kubernetes-sigs/kubespray"


def mirrored(name: str, upstream: str) -> str:
    """`name` in the offline mirror when it is there, else `upstream`: the mirror is a
    fallback for machines without internet, never a requirement."""
    copy = FIXTURES_DIR / name
    return str(copy) if copy.exists() else upstream
