"""/etc/docker/daemon.json trusting the private registry, merged into what is there.

The one mechanism for the insecure registry (kubespray's docker_insecure_registries is
refused, see kubespray.overrides.FORBIDDEN_VARS): dockerd will not start when a setting is given
both in daemon.json and as a flag.
"""

from __future__ import annotations

import json
import shlex

from gourmetops.errors import GourmetopsError

KEY = "insecure-registries"


class DaemonJsonError(GourmetopsError, ValueError):
    """The existing file cannot be merged into; it is left as it is."""


def _load(existing: str | None, where: str) -> dict:
    if existing is None or not existing.strip():
        return {}
    try:
        config = json.loads(existing)
    except ValueError as exc:
        raise DaemonJsonError(f"{where} is not valid JSON ({exc}); left untouched") from exc
    if not isinstance(config, dict):
        raise DaemonJsonError(f"{where} is not a JSON object; left untouched")
    return config


def merge(
    existing: str | None,
    registry: str | None = None,
    where: str = "daemon.json",
    settings: dict | None = None,
) -> str | None:
    """The new file text, or None when `existing` already trusts `registry` and has every
    key of `settings` as given (left as is, formatting included). Every other key is kept."""
    config = _load(existing, where)
    changed = existing is None
    for key, value in (settings or {}).items():
        if config.get(key) != value:
            config[key], changed = value, True
    if registry is not None:
        registries = config.get(KEY, [])
        if not isinstance(registries, list):
            raise DaemonJsonError(f"{where}: {KEY} is not a list; left untouched")
        if registry not in registries:
            config[KEY], changed = [*registries, registry], True
    return json.dumps(config, indent=4) + "\n" if changed else None


def backup_path(path: str) -> str:
    """Where the daemon.json a change replaced is kept, until dockerd took the new one."""
    return f"{path}.gourmetops-previous"


def restart_or_restore_command(path: str) -> str:
    """Restart dockerd for a new daemon.json; if it will not start, say dockerd's own
    reason, put the previous file back (or none, if there was none) and start it again,
    then fail: nothing is lost, and the node runs as it did before the change."""
    p, prev = shlex.quote(path), shlex.quote(backup_path(path))
    return f"""
systemctl reset-failed docker.service 2>/dev/null  # earlier failures: not this file's
if systemctl restart docker.service; then rm -f {prev}; exit 0; fi
why=$(journalctl -u docker.service -n 40 -o cat --no-pager \
      | grep -iE 'unable to configure|failed to start daemon|invalid|conflict' | tail -n 1)
if [ -e {prev} ]; then mv {prev} {p}; else rm -f {p}; fi
systemctl reset-failed docker.service
if systemctl restart docker.service; then again="dockerd runs again with it"
else again="dockerd still does not start"; fi
echo "gourmetops: dockerd did not restart with the new {path}: \
${{why:-see journalctl -u docker}}; the previous {path} is back and $again" >&2
exit 1
""".strip()
