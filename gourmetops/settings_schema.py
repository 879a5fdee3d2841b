"""The schema of a target's settings (group_data/all.py, group_data/<target>.py, and
pyinfra's `--data`): every setting typed and range-checked, unknown names refused with
"did you mean". Values are checked, never converted: `kube_version: 1.30` stays refused
rather than becoming "1.3".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from gourmetops.bounded import MAX_CONFIG_BYTES
from gourmetops.check_names import POST_CHECKS, PRE_CHECKS
from gourmetops.quantity import parse_quantity
from gourmetops.validation import (
    HOSTNAME,
    KUBE_VERSION,
    DebPackage,
    GitRef,
    HostPort,
    ImageRef,
    RelativePath,
    Source,
    StrOnly,
    whole,
)

INT32_MAX = 2**31 - 1  # replicas and the HPA's bounds are int32 in the Kubernetes API

# Names pyinfra itself reads from host data (connector settings, global arguments): allowed
# in group_data beside ours, left to pyinfra to check.
PYINFRA_PREFIXES = ("ssh_", "_")

# kubespray_group_vars: a file of the sample inventory's group_vars, and a variable name.
_GROUP_VARS_FILE = re.compile(r"group_vars/[a-z0-9_]+(/[a-z0-9_.-]+)*\.ya?ml", re.ASCII)
_VARIABLE = re.compile(r"[a-z_][a-z0-9_]*", re.ASCII)


def _quantity(value: str) -> str:
    try:
        parse_quantity(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a Kubernetes quantity (e.g. '0.5', '500m', '300Mi')"
        ) from None
    return value


Quantity = Annotated[str, StrOnly, AfterValidator(_quantity)]


def _regular_file(value: str) -> str:
    """A file on the controller the stages copy to a node: checked when settings are read,
    not after connecting (a device, a directory or a missing file is refused here)."""
    path = Path(value)
    if not path.exists():
        raise ValueError(f"{value!r} does not exist on the controller")
    if not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file"
        raise ValueError(f"{value!r} is {kind}; give the htpasswd file itself")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ValueError(f"{value!r} is larger than {MAX_CONFIG_BYTES} bytes; not an htpasswd")
    return value


class Resources(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu: Quantity
    memory: Quantity


def _group_vars(value: Any) -> Any:
    """{file: {variable: value}}: paths stay inside the inventory, names are identifiers,
    and a `*_version` is a string (YAML reads 1.30 as the number 1.3)."""
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping of file -> {{variable: value}}, not {value!r}")
    for path, values in value.items():
        if not isinstance(path, str) or not whole(_GROUP_VARS_FILE, path) or ".." in path:
            raise ValueError(
                f"{path!r} is not a group_vars file of the inventory "
                "(e.g. 'group_vars/k8s_cluster/k8s-cluster.yml'; no '..', no leading '/')"
            )
        if not isinstance(values, dict):
            raise ValueError(f"[{path!r}] must be a mapping of variable -> value")
        for key, item in values.items():
            if not isinstance(key, str) or not whole(_VARIABLE, key):
                raise ValueError(f"[{path!r}]: {key!r} is not a variable name")
            if key.endswith("_version") and not isinstance(item, str):
                raise ValueError(
                    f"[{path!r}][{key!r}] must be a string like 'v1.30.4', not {item!r}"
                )
            if key == "kube_version" and not whole(KUBE_VERSION, item):
                raise ValueError(
                    f"[{path!r}]['kube_version'] must look like 'v1.30.4', not {item!r}"
                )
    return value


class Settings(BaseModel):
    """Every setting of group_data/all.py, typed; group_data/<target>.py may override any."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cluster_key_path: RelativePath
    cluster_key_bits: StrictInt = Field(ge=2048, le=16384)
    docker_packages: list[DebPackage]
    docker_apt_source: Annotated[str, StrOnly]
    apt_update_offline_ok: StrictBool

    kubespray_source: Source
    kubespray_ref: GitRef
    kubespray_dir: RelativePath
    kubespray_venv: RelativePath
    kubespray_offline: StrictBool
    kubespray_group_vars: Annotated[dict[str, dict[str, Any]], BeforeValidator(_group_vars)]
    cluster_playbook: RelativePath
    cluster_retries: StrictInt = Field(ge=0, le=10)
    cluster_installs_kubernetes: StrictBool
    container_engine: Literal["kubespray", "lab"]
    docker_daemon_settings: dict[str, Any]

    registry: HostPort
    registry_port: StrictInt = Field(ge=1, le=65535)
    registry_runtime: Literal["docker", "package"]
    registry_image: ImageRef
    registry_bind: Literal["private", "all"]
    registry_htpasswd: Annotated[str, StrOnly, AfterValidator(_regular_file)] | None
    registry_user: Annotated[str, StrOnly] | None

    container_tool: Literal["docker", "podman"]
    app_source: Source
    app_ref: GitRef
    app_image: ImageRef
    image_build_args: list[Annotated[str, StrOnly]]
    app_base_image_from_rootfs: ImageRef | None

    app_namespace: Annotated[str, StrOnly]
    app_replicas: StrictInt = Field(ge=1, le=INT32_MAX)
    app_limits: Resources
    app_requests: Resources
    hpa_min: StrictInt = Field(ge=1, le=INT32_MAX)
    hpa_max: StrictInt = Field(ge=1, le=INT32_MAX)
    hpa_cpu: StrictInt = Field(ge=1, le=100)

    check_skip: dict[str, Annotated[str, StrOnly]]

    @field_validator("check_skip")
    @classmethod
    def _known_checks(cls, value: dict[str, str]) -> dict[str, str]:
        known = dict.fromkeys(PRE_CHECKS + POST_CHECKS)
        for name, reason in value.items():
            if name not in known:
                raise ValueError(f"{name!r} is not a check (one of {', '.join(known)})")
            if not reason.strip():
                raise ValueError(f"check_skip[{name!r}] needs the reason the check is skipped")
        return value

    @field_validator("docker_apt_source")
    @classmethod
    def _apt_source(cls, value: str) -> str:
        if not (value.startswith("/etc/apt/sources.list.d/") and ".." not in value):
            raise ValueError(f"{value!r} must be a file under /etc/apt/sources.list.d/")
        return value

    @field_validator("docker_daemon_settings")
    @classmethod
    def _not_the_registry(cls, value: dict[str, Any]) -> dict[str, Any]:
        if "insecure-registries" in value:
            raise ValueError("'insecure-registries' is the registry stage's (from `registry`)")
        return value

    @field_validator("app_namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not whole(HOSTNAME, value):
            raise ValueError(f"{value!r} is not a Kubernetes namespace name (RFC 1123 label)")
        return value

    @field_validator("registry_user")
    @classmethod
    def _htpasswd_user(cls, value: str | None) -> str | None:
        if value is not None and not whole(HOSTNAME, value.lower().replace("_", "-")):
            raise ValueError(f"{value!r} is not a registry user name (letters, digits, - and _)")
        return value

    @field_validator("image_build_args")
    @classmethod
    def _one_line(cls, args: list[str]) -> list[str]:
        bad = [a for a in args if any(c in a for c in "\n\r\0")]
        if bad:
            raise ValueError(f"{bad[0]!r}: a build argument cannot span lines")
        return args

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.hpa_min > self.hpa_max:
            raise ValueError(f"hpa_min ({self.hpa_min}) is above hpa_max ({self.hpa_max})")
        for resource in ("cpu", "memory"):
            request = getattr(self.app_requests, resource)
            limit = getattr(self.app_limits, resource)
            if parse_quantity(request) > parse_quantity(limit):
                raise ValueError(
                    f"app_requests.{resource} ({request}) is above app_limits.{resource} ({limit})"
                )
        if self.registry.rsplit(":", 1)[1] != str(self.registry_port):
            raise ValueError(
                f"registry {self.registry!r} and registry_port {self.registry_port} disagree"
            )
        return self


class HostSettings(Settings):
    """What a deploy or task reads for one node: the target's checked settings, and what the
    inventory adds for the node from cluster.yaml (targets.Target.inventory_data)."""

    target: str
    cluster_user: str
    private_address: str
    kube_roles: list[str]
    ssh_config_file: str
    ssh_connect_retries: int | None = None  # pyinfra's, set for the nodes behind the jump host
