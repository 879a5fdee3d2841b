"""The final stage's objects: the tutorial's, field for field, for the default parameters;
strictly valid for the Kubernetes version kubespray release-2.26 installs; bad parameters
refused by name before anything is sent."""

from __future__ import annotations

import copy

import pytest

from gourmetops.app.manifests import AppParams, ManifestError, params_for, render, validate
from gourmetops.settings import host_settings
from gourmetops.targets import lab_target

# Transcribed from the tutorial (deploy-on-kubernetes.md, the GourmetGram series), with
# 10.56.X.Y (node1's address facing the internet) -> a lab-range placeholder, 10.254.0.2.
TUTORIAL = {
    "namespace": {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "kube-gourmetgram"},
    },
    "service": {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "gourmetgram-kube-svc", "namespace": "kube-gourmetgram"},
        "spec": {
            "selector": {"app": "gourmetgram-kube-app"},
            "ports": [{"protocol": "TCP", "port": 80, "targetPort": 8000}],
            "externalIPs": ["10.254.0.2"],
            "type": "ClusterIP",
        },
    },
    "deployment": {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "gourmetgram-kube-app", "namespace": "kube-gourmetgram"},
        "spec": {
            "selector": {"matchLabels": {"app": "gourmetgram-kube-app"}},
            "replicas": 1,
            "template": {
                "metadata": {"labels": {"app": "gourmetgram-kube-app"}},
                "spec": {
                    "containers": [
                        {
                            "name": "gourmetgram-kube-app",
                            "image": "node1:5000/gourmetgram-app:latest",
                            "imagePullPolicy": "Always",
                            "ports": [{"containerPort": 8000}],
                            "readinessProbe": {
                                "httpGet": {"path": "/test", "port": 8000},
                                "periodSeconds": 5,
                                "initialDelaySeconds": 5,
                                "successThreshold": 3,
                            },
                            "resources": {
                                "limits": {"cpu": "0.5", "memory": "500Mi"},
                                "requests": {"cpu": "0.3", "memory": "300Mi"},
                            },
                        }
                    ]
                },
            },
        },
    },
    "hpa": {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "gourmetgram-kube-hpa", "namespace": "kube-gourmetgram"},
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "gourmetgram-kube-app",
            },
            "minReplicas": 2,
            "maxReplicas": 6,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 50},
                    },
                }
            ],
        },
    },
}


def test_defaults_are_the_tutorials_objects():
    assert render(AppParams(external_ips=("10.254.0.2",))) == TUTORIAL


def test_group_data_and_cluster_model_give_the_defaults():
    """The lab's parameters differ from the tutorial only in the Service's external IP."""
    target = lab_target()
    objects = render(params_for(target, host_settings(target)))
    assert objects["service"]["spec"]["externalIPs"] == ["10.254.0.2"]
    objects["service"]["spec"]["externalIPs"] = ["10.254.0.2"]
    assert objects == TUTORIAL


def test_parameters_land_where_they_belong():
    objects = render(
        AppParams(
            external_ips=("10.254.0.9",),
            namespace="ns",
            replicas=6,
            hpa_min=1,
            hpa_max=3,
            hpa_cpu=80,
            image="reg:5000/app:v2",
        )
    )
    assert {o["metadata"].get("namespace", o["metadata"]["name"]) for o in objects.values()} == {
        "ns"
    }
    assert objects["deployment"]["spec"]["replicas"] == 6
    assert objects["deployment"]["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "reg:5000/app:v2"
    )
    assert objects["hpa"]["spec"]["minReplicas"] == 1 and objects["hpa"]["spec"]["maxReplicas"] == 3
    assert objects["hpa"]["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80


@pytest.mark.parametrize("version", ["1.30", "v1.30.4"])
def test_valid_for_the_installed_kubernetes(version):
    validate(render(AppParams(external_ips=("10.254.0.2",))), version)


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda o: o["deployment"]["spec"].update(replicas="six"), r"spec\.replicas"),
        (lambda o: o["hpa"]["spec"].update(maxReplica=6), "'maxReplica' was unexpected"),
        (
            lambda o: o["service"]["spec"]["ports"][0].update(port="eighty"),
            r"Service gourmetgram-kube-svc .*spec\.ports\.0\.port",
        ),
        (lambda o: o["deployment"].pop("apiVersion"), "apiVersion"),
    ],
)
def test_broken_objects_fail_validation(break_it, message):
    objects = copy.deepcopy(render(AppParams(external_ips=("10.254.0.2",))))
    break_it(objects)
    with pytest.raises(ManifestError, match=message):
        validate(objects, "1.30")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"replicas": -1},
            r"^replicas \(--replicas, or app_replicas in group_data\) must be a whole number "
            r">= 1, not -1$",
        ),
        ({"replicas": 0}, r"must be a whole number >= 1, not 0$"),
        ({"replicas": "6"}, r"must be a whole number >= 1, not '6'$"),
        ({"replicas": True}, r"must be a whole number >= 1, not True$"),
        (
            {"hpa_min": 5, "hpa_max": 2},
            r"^HPA min \(5\) is above max \(2\) \(--min/--max, or hpa_min/hpa_max in group_data\)$",
        ),
        ({"hpa_min": 0}, r"^HPA min \(--min, or hpa_min in group_data\) must be a whole number"),
        ({"hpa_cpu": 0}, "must be 1..100"),
        ({"hpa_cpu": 150}, "must be 1..100"),
        ({"limits": {"cpu": "half", "memory": "500Mi"}}, "limits.cpu: 'half' is not a Kubernetes"),
        ({"requests": {"cpu": "0.3", "memory": "300Mb"}}, "requests.memory: '300Mb'"),
        ({"requests": {"cpu": "2", "memory": "300Mi"}}, r"requests.cpu \(2\) is above limits"),
        ({"external_ips": ("node1",)}, "'node1' is not an IP address"),
    ],
)
def test_bad_parameters_are_refused_by_name(changes, message):
    params = {"external_ips": ("10.254.0.2",), **changes}
    with pytest.raises(ManifestError, match=message):
        render(AppParams(**params))
