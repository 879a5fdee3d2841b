"""Fabric looks for a `fabfile`; the tasks live in tasks/ (one module per namespace)."""

from tasks import ns  # noqa: F401
