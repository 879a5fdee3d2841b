"""/etc/docker/daemon.json trusting the private registry, merged into what is there.

The one mechanism for the insecure registry (kubespray's docker_insecure_registries is
refused, see kubespray.overrides.FORBIDDEN_VARS): dockerd will not start when a setting is given
both in daemon.json and as a flag.
"""

from __future__ import annotations

import json

from gourmetops.errors import GourmetopsError

KEY = "insecure-registries"


class DaemonJsonError(GourmetopsError, ValueError):
    """The existing file cannot be merged into; it is left as it is."""


def merge(existing: str | None, registry: str, where: str = "daemon.json") -> str | None:
    """The new file text, or None when `existing` already trusts `registry` (left as is,
    formatting included). Every other key is kept."""
    config: dict = {}
    if existing is not None and existing.strip():
        try:
            config = json.loads(existing)
        except ValueError as exc:
            raise DaemonJsonError(f"{where} is not valid JSON ({exc}); left untouched") from exc
        if not isinstance(config, dict):
            raise DaemonJsonError(f"{where} is not a JSON object; left untouched")
    registries = config.get(KEY, [])
    if not isinstance(registries, list):
        raise DaemonJsonError(f"{where}: {KEY} is not a list; left untouched")
    if registry in registries and existing is not None:
        return None
    config[KEY] = [*registries, registry] if registry not in registries else registries
    return json.dumps(config, indent=4) + "\n"
