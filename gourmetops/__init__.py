"""Shared logic for the GourmetGram-on-Kubernetes deploys and tasks."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = PROJECT_ROOT / ".state"

# Offline mirrors of what the stages fetch (the kubespray bundle the lab uses):
# $GOURMETOPS_FIXTURES, else ../shared/fixtures beside the checkout.
FIXTURES_DIR = Path(
    os.environ.get("GOURMETOPS_FIXTURES") or PROJECT_ROOT.parent / "shared" / "fixtures"
)
