"""What the API server does to an object before storing it: quantity canonicalisation and the
defaults it fills in for the fields gourmetops (and kubectl) read."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from kubernetes.utils.quantity import parse_quantity

from tests.kube_standin.fieldvalidation import go_quote

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


# apimachinery pkg/util/validation/validation.go: the name formats and their messages.
_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = _LABEL + "(\\." + _LABEL + ")*"
_DNS1035 = "[a-z]([-a-z0-9]*[a-z0-9])?"
_NAMES = {
    # kind -> (regex, max length, message, examples): ValidateDeploymentName,
    # ValidateHorizontalPodAutoscalerName and ValidateSecretName are NameIsDNSSubdomain,
    # ValidateServiceName is NameIsDNS1035Label, ValidateNamespaceName NameIsDNSLabel.
    "subdomain": (
        _SUBDOMAIN,
        253,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
        "'-' or '.', and must start and end with an alphanumeric character",
        ["example.com"],
    ),
    "label": (
        _LABEL,
        63,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
        "'-', and must start and end with an alphanumeric character",
        ["my-name", "123-abc"],
    ),
    "dns1035": (
        _DNS1035,
        63,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
        "with an alphabetic character, and end with an alphanumeric character",
        ["my-name", "abc-123"],
    ),
}
_NAME_FORMAT = {"namespaces": "label", "services": "dns1035"}  # the others: subdomain
PORT_RANGE = "must be between 1 and 65535, inclusive"  # validation.InclusiveRangeError(1, 65535)


def _regex_error(message: str, regex: str, examples: list[str]) -> str:
    """validation.RegexError."""
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{regex}')"


def name_errors(res: str, name: Any) -> list[tuple[str, str]]:
    """metadata.name against the kind's format (apimachinery ValidateObjectMeta with the
    kind's name function: a message each, too long then not matching)."""
    if not isinstance(name, str) or not name:
        return [("metadata.name", "Required value: name or generateName is required")]
    regex, longest, message, examples = _NAMES[_NAME_FORMAT.get(res, "subdomain")]
    found = []
    if len(name) > longest:
        found.append(f"must be no more than {longest} characters")
    if not re.fullmatch(regex, name):
        found.append(_regex_error(message, regex, examples))
    return [("metadata.name", f"Invalid value: {go_quote(name)}: {m}") for m in found]


def _port(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def container_port_errors(pod: dict[str, Any], prefix: str) -> list[tuple[str, str]]:
    """core/validation validateContainerPorts: containerPort required (0 is unset) and in
    range, hostPort in range when set."""
    errors: list[tuple[str, str]] = []
    for c, container in enumerate(pod.get("containers") or []):
        for p, port in enumerate((container or {}).get("ports") or []):
            where = f"{prefix}.containers[{c}].ports[{p}]"
            number = _port((port or {}).get("containerPort", 0))
            if number == 0:
                errors.append((f"{where}.containerPort", "Required value"))
            elif number is not None and not 1 <= number <= 65535:
                errors.append((f"{where}.containerPort", f"Invalid value: {number}: {PORT_RANGE}"))
            host = _port((port or {}).get("hostPort", 0))
            if host and not 1 <= host <= 65535:
                errors.append((f"{where}.hostPort", f"Invalid value: {host}: {PORT_RANGE}"))
    return errors


def service_port_errors(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """core/validation validateServicePort: port in range, and targetPort (defaulted to the
    port) a number in range or a port name."""
    errors: list[tuple[str, str]] = []
    for i, port in enumerate(spec.get("ports") or []):
        number = _port((port or {}).get("port", 0))
        if number is not None and not 1 <= number <= 65535:
            errors.append((f"spec.ports[{i}].port", f"Invalid value: {number}: {PORT_RANGE}"))
        target = _port((port or {}).get("targetPort", number))
        if target is not None and not 1 <= target <= 65535:
            errors.append((f"spec.ports[{i}].targetPort", f"Invalid value: {target}: {PORT_RANGE}"))
    return errors


def invalid(res: str, obj: dict[str, Any]) -> list[tuple[str, str]]:
    """Field errors the API server's validation returns for the kinds the tutorial writes,
    metadata first (apimachinery ValidateObjectMeta), then the spec's
    (pkg/apis/apps/validation ValidateDeploymentSpec, pkg/apis/core/validation
    ValidateService's ports, pkg/apis/autoscaling/validation
    validateHorizontalPodAutoscalerSpec, apimachinery ValidateNonnegativeField)."""
    spec = obj.get("spec") or {}
    errors = name_errors(res, (obj.get("metadata") or {}).get("name"))
    if res == "services":
        errors += service_port_errors(spec)
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
        template = (spec.get("template") or {}).get("spec") or {}
        errors += container_port_errors(template, "spec.template.spec")
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
