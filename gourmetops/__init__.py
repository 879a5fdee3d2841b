"""Shared logic for the GourmetGram-on-Kubernetes deploys and tasks."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = PROJECT_ROOT / ".state"
