"""Shared logic for the GourmetGram-on-Kubernetes deploys and tasks."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = PROJECT_ROOT / ".state"


def _fixtures_dir() -> Path:
    """Read-only inputs shared beside the checkout (the kubespray bundle for the offline
    lab): $GOURMETOPS_FIXTURES, else ../shared/fixtures beside the checkout, else the
    team's shared copy (a clone made elsewhere, as CI's, still finds it)."""
    if "GOURMETOPS_FIXTURES" in os.environ:
        return Path(os.environ["GOURMETOPS_FIXTURES"])
    candidates = [PROJECT_ROOT.parent / "shared" / "fixtures", Path("/work/shared/fixtures")]
    return next((c for c in candidates if c.is_dir()), candidates[0])


FIXTURES_DIR = _fixtures_dir()
