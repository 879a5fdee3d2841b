"""The Kubernetes objects of the final stage: the tutorial's manifests (manifests/*.yaml,
its default values) with our parameters set, checked before anything is sent."""

from __future__ import annotations

import base64
import copy
import functools
import ipaddress
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML

from gourmetops import PROJECT_ROOT
from gourmetops.errors import GourmetopsError
from gourmetops.quantity import parse_quantity
from gourmetops.registry.service import credentials
from gourmetops.yamlio import dump

if TYPE_CHECKING:
    from gourmetops.settings_schema import HostSettings
    from gourmetops.targets import Target

MANIFESTS_DIR = PROJECT_ROOT / "manifests"
# Apply order: the namespace first, the HPA after the Deployment it scales.
ORDER = ("namespace", "service", "deployment", "hpa")
PULL_SECRET = "gourmetgram-registry-login"


class ManifestError(GourmetopsError, ValueError):
    """A parameter or object Kubernetes would reject; the message names it."""


INT32_MAX = 2**31 - 1  # replicas, minReplicas and maxReplicas are int32 in the API


@dataclass(frozen=True)
class AppParams:
    """Everything that varies; the defaults are the tutorial's."""

    external_ips: tuple[str, ...]
    namespace: str = "kube-gourmetgram"
    image: str = "node1:5000/gourmetgram-app:latest"
    replicas: int = 1
    limits: dict[str, str] = field(default_factory=lambda: {"cpu": "0.5", "memory": "500Mi"})
    requests: dict[str, str] = field(default_factory=lambda: {"cpu": "0.3", "memory": "300Mi"})
    hpa_min: int = 2
    hpa_max: int = 6
    hpa_cpu: int = 50
    pull_secret: str | None = None  # imagePullSecrets name, with registry auth on

    def check(self) -> None:
        # bool is an int to Python, and `replicas: true` is a typo, not one replica.
        if type(self.replicas) is not int or self.replicas < 1:
            raise ManifestError(
                f"replicas (--replicas, or app_replicas in group_data) must be a whole number "
                f">= 1, not {self.replicas!r}"
            )
        if self.replicas > INT32_MAX:
            raise ManifestError(
                f"replicas (--replicas, or app_replicas in group_data) must be at most "
                f"{INT32_MAX} (Kubernetes' int32), not {self.replicas}"
            )
        if type(self.hpa_min) is not int or self.hpa_min < 1:
            raise ManifestError(
                f"HPA min (--min, or hpa_min in group_data) must be a whole number >= 1, "
                f"not {self.hpa_min!r}"
            )
        if type(self.hpa_max) is not int or self.hpa_min > self.hpa_max:
            raise ManifestError(
                f"HPA min ({self.hpa_min}) is above max ({self.hpa_max}) "
                "(--min/--max, or hpa_min/hpa_max in group_data)"
            )
        if self.hpa_max > INT32_MAX:
            raise ManifestError(
                f"HPA max (--max, or hpa_max in group_data) must be at most {INT32_MAX} "
                f"(Kubernetes' int32), not {self.hpa_max}"
            )
        if not (isinstance(self.hpa_cpu, int) and 1 <= self.hpa_cpu <= 100):
            raise ManifestError(f"HPA CPU utilization must be 1..100 (%), not {self.hpa_cpu!r}")
        for kind, values in (("limits", self.limits), ("requests", self.requests)):
            for resource, value in values.items():
                try:
                    parse_quantity(value)
                except ValueError:
                    raise ManifestError(
                        f"{kind}.{resource}: {value!r} is not a Kubernetes quantity"
                    ) from None
        for resource, request in self.requests.items():
            limit = self.limits.get(resource)
            if limit is not None and parse_quantity(request) > parse_quantity(limit):
                raise ManifestError(
                    f"requests.{resource} ({request}) is above limits.{resource} ({limit})"
                )
        for ip in self.external_ips:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                raise ManifestError(f"external IP {ip!r} is not an IP address") from None


@functools.lru_cache(maxsize=16)
def _parsed(text: str) -> dict[str, Any]:
    return YAML(typ="safe", pure=True).load(text)


def _load(name: str) -> dict[str, Any]:
    """A manifest as parsed (shared: copy before changing it); read each time, parsed once."""
    return _parsed((MANIFESTS_DIR / f"{name}.yaml").read_text())


def render(params: AppParams) -> dict[str, dict[str, Any]]:
    """name -> object, in apply order."""
    params.check()
    objects = {name: copy.deepcopy(_load(name)) for name in ORDER}
    for obj in objects.values():
        if obj["kind"] == "Namespace":
            obj["metadata"]["name"] = params.namespace
        else:
            obj["metadata"]["namespace"] = params.namespace
    objects["service"]["spec"]["externalIPs"] = list(params.external_ips)
    deployment = objects["deployment"]["spec"]
    deployment["replicas"] = params.replicas
    container = deployment["template"]["spec"]["containers"][0]
    container["image"] = params.image
    container["resources"] = {"limits": dict(params.limits), "requests": dict(params.requests)}
    if params.pull_secret:
        deployment["template"]["spec"]["imagePullSecrets"] = [{"name": params.pull_secret}]
    hpa = objects["hpa"]["spec"]
    hpa["minReplicas"], hpa["maxReplicas"] = params.hpa_min, params.hpa_max
    hpa["metrics"][0]["resource"]["target"]["averageUtilization"] = params.hpa_cpu
    return objects


def validate(objects: dict[str, dict[str, Any]], kube_version: str) -> None:
    """Strict OpenAPI validation for the cluster's Kubernetes version (unknown fields fail)."""
    import kubernetes_validate

    version = ".".join(kube_version.lstrip("v").split(".")[:2])
    for name, obj in objects.items():
        missing = [key for key in ("apiVersion", "kind") if not obj.get(key)]
        if missing:
            raise ManifestError(f"{name}: no {' or '.join(missing)}")
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path) or "(top level)"
            raise ManifestError(
                f"{obj.get('kind')} {obj.get('metadata', {}).get('name')} ({name}) is invalid "
                f"for Kubernetes {version} at {path}: {exc.message}"
            ) from None
        except kubernetes_validate.SchemaNotFoundError as exc:
            raise ManifestError(f"no schema for Kubernetes {version}: {exc}") from None


def to_yaml(obj: dict[str, Any]) -> str:
    return dump(obj, plain=True)


def pull_secret(namespace: str, registry: str, creds: Any) -> dict[str, Any]:
    """The kubernetes.io/dockerconfigjson Secret the kubelet logs in to the registry with
    (https://kubernetes.io/docs/tasks/configure-pod-container/pull-image-private-registry/).
    It holds the password: applied to the API only, never rendered, echoed or written."""
    login = base64.b64encode(f"{creds.user}:{creds.password}".encode()).decode()
    config = {"auths": {registry: {"username": creds.user, "auth": login}}}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": PULL_SECRET, "namespace": namespace},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()},
    }


def pull_secret_for(data: HostSettings) -> dict[str, Any] | None:
    """The pull Secret for a target's settings when its registry has auth on (password
    from the environment), else None."""
    creds = credentials(data)
    return pull_secret(data.app_namespace, data.registry, creds) if creds else None


def params_for(target: Target, data: HostSettings, **overrides: Any) -> AppParams:
    """The parameters the target's settings (`data`) and cluster model give, task flags
    (`overrides`, None keeps the setting) on top."""
    auth = bool(data.registry_user or data.registry_htpasswd)
    values: dict[str, Any] = {
        "external_ips": (target.external_ip(),),
        "namespace": data.app_namespace,
        "image": f"{data.registry}/{data.app_image}:latest",
        "replicas": data.app_replicas,
        "limits": dict(data.app_limits),
        "requests": dict(data.app_requests),
        "hpa_min": data.hpa_min,
        "hpa_max": data.hpa_max,
        "hpa_cpu": data.hpa_cpu,
        "pull_secret": PULL_SECRET if auth and credentials(data) else None,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return AppParams(**values)
