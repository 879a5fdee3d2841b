"""What only the user knows about their Chameleon lease: node1's floating IP, node1's own
address on sharednet1 and their SSH key, from the environment or chameleon.local.yaml (not
committed), each checked before a target is built from it."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, ValidationError

from gourmetops import PROJECT_ROOT
from gourmetops.errors import TargetError
from gourmetops.ssh_key import SSH_KEY_ENV, key_path
from gourmetops.validation import NodeIPv4, StrOnly, not_a_node, problems
from gourmetops.yamlio import load_config

FLOATING_IP_ENV = "GOURMETOPS_FLOATING_IP"
SERVICE_ADDRESS_ENV = "GOURMETOPS_NODE1_PUBLIC_ADDRESS"
CHAMELEON_CONFIG_ENV = "GOURMETOPS_CHAMELEON_CONFIG"
CHAMELEON_CONFIG = PROJECT_ROOT / "chameleon.local.yaml"


class _ChameleonFile(BaseModel):
    """chameleon.local.yaml: what only the user knows about their lease."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    floating_ip: NodeIPv4 | None = None
    node1_public_address: NodeIPv4 | None = None
    ssh_key: Annotated[str, StrOnly] | None = None


def _chameleon_file(path: Path) -> _ChameleonFile:
    try:
        raw = load_config(path, TargetError)
    except FileNotFoundError:
        return _ChameleonFile()
    except OSError as exc:
        raise TargetError(f"{path}: cannot be read: {exc.strerror}") from None
    raw = {} if raw is None else raw
    try:
        return _ChameleonFile.model_validate(raw)
    except ValidationError as err:
        known: dict[tuple[str, ...], list[str]] = {(): list(_ChameleonFile.model_fields)}
        raise TargetError("\n".join(problems(err, str(path), raw, known=known))) from None


def _env_address(env: Mapping[str, str], variable: str) -> ipaddress.IPv4Address | None:
    """The address in `variable`, checked; None when it is not set."""
    if not env.get(variable):
        return None
    try:
        address = ipaddress.IPv4Address(env[variable].strip())
    except ValueError:
        raise TargetError(
            f"environment variable {variable}={env[variable]!r} is not an IPv4 address "
            "(expected A.B.C.D)"
        ) from None
    why = not_a_node(address)
    if why:
        raise TargetError(f"environment variable {variable}={env[variable]!r} {why}")
    return address


def floating_ip(env: Mapping[str, str], config_file: Path) -> ipaddress.IPv4Address:
    if not env.get(FLOATING_IP_ENV) and not config_file.exists():
        raise TargetError(
            f"no floating IP for node1: set {FLOATING_IP_ENV}=A.B.C.D "
            f"or write 'floating_ip: A.B.C.D' to {config_file}"
        )
    value = _env_address(env, FLOATING_IP_ENV)
    if value is None:
        value = _chameleon_file(config_file).floating_ip
        if value is None:
            raise TargetError(
                f"{config_file}: floating_ip is missing; set it to node1's floating IP"
            )
    return value


def service_address(env: Mapping[str, str], config_file: Path) -> ipaddress.IPv4Address | None:
    value = _env_address(env, SERVICE_ADDRESS_ENV)
    if value is None:
        value = _chameleon_file(config_file).node1_public_address
    return value


def user_ssh_key(env: Mapping[str, str], config_file: Path | None) -> Path | None:
    """The user's key: GOURMETOPS_SSH_KEY (relative to the current directory), else
    `ssh_key` in chameleon.local.yaml (relative to that file); checked, made absolute."""
    if env.get(SSH_KEY_ENV):
        return key_path(env[SSH_KEY_ENV], f"environment variable {SSH_KEY_ENV}", Path.cwd())
    if config_file is None:
        return None
    value = _chameleon_file(config_file).ssh_key
    if value is None:
        return None
    return key_path(value, f"{config_file}: ssh_key", config_file.parent)
