"""What the API server does to an object before storing it: quantity canonicalisation and the
defaults it fills in for the fields gourmetops (and kubectl) read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kubernetes.utils.quantity import parse_quantity

_DECIMAL = [(18, "E"), (15, "P"), (12, "T"), (9, "G"), (6, "M"), (3, "k"), (0, "")]
_DECIMAL += [(-3, "m"), (-6, "u"), (-9, "n")]
_BINARY = [(60, "Ei"), (50, "Pi"), (40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki")]


def canonical(text: str | int | float) -> str:
    """A quantity as the API server serialises it (apimachinery pkg/api/resource/quantity.go
    CanonicalizeBytes): no fractional digits, the largest suffix that keeps the number whole,
    binary suffixes kept only for whole multiples of 1024 >= 1024, precision capped at n
    (rounded up)."""
    raw = str(text)
    value = parse_quantity(raw)
    if value == 0:
        return "0"
    nanos = (value * Decimal(10) ** 9).to_integral_value(rounding="ROUND_CEILING")
    value = nanos / Decimal(10) ** 9
    binary = raw.endswith("i")
    if binary and abs(value) >= 1024 and value == value.to_integral_value():
        for exp, suffix in _BINARY:
            unit = Decimal(2) ** exp
            if value % unit == 0:
                return f"{int(value / unit)}{suffix}"
    if "e" in raw.lower() and not raw.lower().endswith("e"):  # DecimalExponent keeps its form
        for exp, _ in _DECIMAL:
            if value % (Decimal(10) ** exp) == 0:
                return f"{int(value / Decimal(10) ** exp)}e{exp}" if exp else str(int(value))
    for exp, suffix in _DECIMAL:
        unit = Decimal(10) ** exp
        if value % unit == 0:
            return f"{int(value / unit)}{suffix}"
    raise AssertionError(raw)  # unreachable: nanos are whole


def _resources(container: dict[str, Any]) -> None:
    for kind in ("limits", "requests"):
        values = container.get("resources", {}).get(kind)
        if values:
            container["resources"][kind] = {k: canonical(v) for k, v in values.items()}
    # A limit without a request gets the limit as request (core/v1 defaults.go
    # SetDefaults_Pod: "If limits are specified, but requests are not, default requests
    # to limits").
    limits = container.get("resources", {}).get("limits")
    if limits:
        requests = container["resources"].setdefault("requests", {})
        for k, v in limits.items():
            requests.setdefault(k, v)


def _probe(probe: dict[str, Any] | None) -> None:
    # core/v1 defaults.go SetDefaults_Probe and SetDefaults_HTTPGetAction.
    if not probe:
        return
    for key, value in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        probe.setdefault(key, value)
    if "httpGet" in probe:
        probe["httpGet"].setdefault("scheme", "HTTP")


def pod_spec(spec: dict[str, Any]) -> None:
    """core/v1 defaults.go: SetDefaults_PodSpec, SetDefaults_Container, SetDefaults_Probe."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in spec.get("containers", []):
        tag = c.get("image", "").rsplit("/", 1)[-1]
        latest = ":" not in tag or tag.endswith(":latest")
        c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("resources", {})
        for port in c.get("ports", []):
            port.setdefault("protocol", "TCP")
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            _probe(c.get(probe))
        _resources(c)


def default(res: str, obj: dict[str, Any], name: str) -> None:
    """The API's defaulting for each kind we serve (pkg/apis/*/v1*/defaults.go)."""
    spec = obj.setdefault("spec", {})
    if res == "namespaces":
        # The NamespaceDefaultLabelName feature (GA 1.22) and the "kubernetes" finalizer.
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        spec.setdefault("finalizers", ["kubernetes"])
    elif res == "services":
        # core/v1 defaults.go SetDefaults_Service; IP families from the REST allocator.
        spec.setdefault("type", "ClusterIP")
        # The ClusterIP allocator (a placeholder address in the lab range).
        spec.setdefault("clusterIP", "10.254.233.34")
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        for port in spec.get("ports", []):
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port["port"])
    elif res == "deployments":
        # apps/v1 defaults.go SetDefaults_Deployment.
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy.get("type") == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
        pod_spec(spec.setdefault("template", {}).setdefault("spec", {}))
    elif res == "horizontalpodautoscalers":
        # autoscaling/v2 defaults.go: minReplicas 1, CPU 80% when no metrics, and the
        # behavior defaults (scaleUp 0 s window, 100% or 4 pods per 15 s; scaleDown 100%
        # per 15 s; its 300 s window comes from the controller's flag, not the object).
        spec.setdefault("minReplicas", 1)
        spec.setdefault(
            "metrics",
            [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 80},
                    },
                }
            ],
        )
        behavior = spec.setdefault("behavior", {})
        behavior.setdefault(
            "scaleUp",
            {
                "stabilizationWindowSeconds": 0,
                "selectPolicy": "Max",
                "policies": [
                    {"type": "Pods", "value": 4, "periodSeconds": 15},
                    {"type": "Percent", "value": 100, "periodSeconds": 15},
                ],
            },
        )
        behavior.setdefault(
            "scaleDown",
            {
                "selectPolicy": "Max",
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
            },
        )
    elif res == "secrets":
        obj.pop("spec", None)
        obj.setdefault("type", "Opaque")


QUANTITY = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"


def bad_quantity(obj: dict[str, Any]) -> str | None:
    """The first resource quantity that does not parse, as the decoder (resource.Quantity's
    UnmarshalJSON, apimachinery pkg/api/resource/quantity.go ErrFormatWrong) refuses it."""
    spec = obj.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or spec
    for container in pod.get("containers") or []:
        for kind in ("limits", "requests"):
            for value in ((container.get("resources") or {}).get(kind) or {}).values():
                try:
                    parse_quantity(value)
                except (ValueError, TypeError, ArithmeticError):
                    return str(value)
    return None


def _go_map(labels: dict[str, Any]) -> str:
    """A map[string]string as Go's %#v prints it (keys sorted), as field.Invalid shows it."""
    return "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}"


def invalid(res: str, obj: dict[str, Any]) -> list[tuple[str, str]]:
    """Field errors the API server's validation returns for the kinds the tutorial writes
    (pkg/apis/apps/validation ValidateDeploymentSpec, pkg/apis/autoscaling/validation
    validateHorizontalPodAutoscalerSpec, apimachinery ValidateNonnegativeField)."""
    spec = obj.get("spec") or {}
    errors: list[tuple[str, str]] = []
    if res == "deployments":
        replicas = spec.get("replicas")
        if isinstance(replicas, int) and replicas < 0:
            errors.append(
                ("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0")
            )
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if not selector:
            errors.append(("spec.selector", "Required value"))
        elif any(labels.get(k) != v for k, v in selector.items()):
            errors.append(
                (
                    "spec.template.metadata.labels",
                    f"Invalid value: {_go_map(labels)}: `selector` does not match template "
                    "`labels`",
                )
            )
    elif res == "horizontalpodautoscalers":
        low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
        if isinstance(low, int) and low < 1:
            errors.append(
                ("spec.minReplicas", f"Invalid value: {low}: must be greater than or equal to 1")
            )
        if isinstance(low, int) and isinstance(high, int) and high < low:
            errors.append(
                (
                    "spec.maxReplicas",
                    f"Invalid value: {high}: must be greater than or equal to `minReplicas`",
                )
            )
    return errors
