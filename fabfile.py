"""Fabric looks for a `fabfile`; the tasks live in tasks.py."""

from tasks import ns  # noqa: F401
