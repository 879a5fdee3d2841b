"""Secrets out of every text that goes into a support bundle: the registry password (and
its base64 form, as in a docker config's "auth"), bearer tokens, private key blocks,
"auth"/"password"/"token" values, and passwords in URLs. Applied to each file as a whole,
after the byte cap, so a key block cut by the cap is still removed."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

MARK = "[REDACTED]"
_PATTERNS = (
    # A private key block, or one cut short by the byte cap (no END line).
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
                re.DOTALL), "[REDACTED PRIVATE KEY]"),
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9\-._~+/]+=*"), rf"\1\2{MARK}"),
    # "auth": "...", "identitytoken": "...", password: x, token=x (JSON, YAML, env, flags)
    (re.compile(r"""(?i)(["']?\b(?:auth|identitytoken|registrytoken|password|passwd|secret|"""
                r"""token|client-key-data|private_key)["']?\s*[:=]\s*["']?)[^\s"',}]+"""),
     rf"\1{MARK}"),
    (re.compile(r"(?i)\b(https?://[^\s:/@]+:)[^\s@/]+@"), rf"\1{MARK}@"),
)  # fmt: skip


def literal_secrets(password: str | None, users: Iterable[str | None] = ()) -> list[str]:
    """The password and what it looks like in a docker/podman auth file (base64 user:pw)."""
    if not password:
        return []
    found = [password]
    for user in users:
        if user:
            found.append(base64.b64encode(f"{user}:{password}".encode()).decode())
    return found


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, MARK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
