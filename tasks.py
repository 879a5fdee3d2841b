"""Fabric tasks that orchestrate the GourmetGram-on-Kubernetes stages.

    fab up --target lab         # every stage in order (brings the lab up first)
    fab prepare --target chameleon --dry
    fab render --out plan/      # every generated file, no host contacted
    fab lab.status

Targets: `lab` (the local three-node lab, the default) and `chameleon` (real nodes;
node1's floating IP from GOURMETOPS_FLOATING_IP or chameleon.local.yaml).
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import urllib3
from fabric import task
from invoke import Collection, Context
from invoke.exceptions import Exit
from kubernetes.client.exceptions import ApiException
from ruamel.yaml import YAML

from gourmetops import PROJECT_ROOT, flags
from gourmetops import lab as labmod
from gourmetops import render as rendermod
from gourmetops.app import manifests
from gourmetops.app import stage as app_stage
from gourmetops.app.kube import Kube, KubeError, pod_metrics
from gourmetops.app.kubeconfig import (
    DEFAULT_LOCAL_PORT,
    KubeconfigError,
    copy_for_user_command,
    node_readiness,
    not_ready,
    rewrite_server,
    tunnel_command,
)
from gourmetops.app.tunnel import TunnelError, api_tunnel
from gourmetops.errors import GourmetopsError, InputError
from gourmetops.kubespray.checkout import controller_checkout, dry_run_checkout
from gourmetops.kubespray.overrides import INVENTORY, kube_version
from gourmetops.kubespray.playbook import PlaybookFailed, PlaybookRun, run_with_retries
from gourmetops.load import report as reportmod
from gourmetops.load.experiment import Plan as ExperimentPlan
from gourmetops.load.experiment import describe as experiment_describe
from gourmetops.load.experiment import run as experiment_run
from gourmetops.load.loadtest import (
    SAMPLE_EVERY,
    Interrupted,
    LoadRun,
    duration_seconds,
    ensure_siege,
    stop_command,
)
from gourmetops.load.loadtest import describe as describe_load
from gourmetops.load.loadtest import run as loadtest_run
from gourmetops.pyinfra_run import aborted_because, explain_failures, failed_hosts, pyinfra_command
from gourmetops.registry.image import AppSource, ImageError, ImagePlan, publish
from gourmetops.registry.service import RegistryError, credentials, query
from gourmetops.remote import connect
from gourmetops.settings import host_data
from gourmetops.targets import get_target

TARGET_HELP = {
    "target": "lab (default) or chameleon",
    "dry": "show what would change, change nothing",
}


def clean_errors(body: Callable[..., Any]) -> Callable[..., Any]:
    """Our errors (GourmetopsError) name the file, key or host at fault and the fix: show the
    message and exit code, not a traceback."""

    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except GourmetopsError as exc:
            raise Exit(f"error: {exc}", exc.exit_code) from None

    return wrapper


def _run_pyinfra(c: Context, target: str, deploy: str, dry: bool) -> None:
    get_target(target)  # a bad cluster.yaml or floating IP stops here, before any host
    cmd = pyinfra_command(target, deploy, dry=dry)
    print(f"==> {shlex.join(cmd)}", flush=True)
    with c.cd(str(PROJECT_ROOT)):
        result = c.run(shlex.join(cmd), warn=True, pty=False, in_stream=False)
    # pyinfra exits 0 on Ctrl-C: an interrupted deploy must not pass for a finished one.
    if "\nExiting upon user request!" in "\n" + result.stdout + result.stderr:
        raise Exit(
            f"{deploy} interrupted on target {target}: stopped partway; "
            f"rerun `fab {deploy} --target {target}` to converge",
            130,
        )
    if result.exited != 0:
        hosts = failed_hosts(result.stdout + result.stderr)
        output = result.stdout + result.stderr
        why = explain_failures(hosts, get_target(target)) or aborted_because(output) or "see above"
        raise Exit(f"{deploy} failed on target {target}: {why}", result.exited)


@task(help=TARGET_HELP)
@clean_errors
def prepare(c, target="lab", dry=False):
    """Preliminaries: node1's key everywhere, host keys pinned, firewalld off, old Docker gone."""
    _run_pyinfra(c, target, "prepare", dry)


@task(help=TARGET_HELP)
@clean_errors
def kubespray(c, target="lab", dry=False):
    """Prepare kubespray on node1: checkout, virtualenv, inventory/mycluster (hosts.yaml, edits)."""
    _run_pyinfra(c, target, "kubespray", dry)


@task(
    help={
        **TARGET_HELP,
        "playbook": "playbook in the kubespray checkout, or an absolute path on node1 "
        "(default: group_data cluster_playbook)",
        "retries": "reruns while hosts fail or are unreachable (default: cluster_retries)",
        "dry": "show the command and where it would run, run nothing",
    }
)
@clean_errors
def cluster(c, target="lab", playbook=None, retries=None, dry=False):
    """Install Kubernetes: kubespray's playbook from node1, progress shown, log kept, retried."""
    data = host_data(target)
    run = PlaybookRun(
        kubespray_dir=data.kubespray_dir,
        venv=data.kubespray_venv,
        inventory=f"{INVENTORY}/hosts.yaml",
        playbook=data.cluster_playbook if playbook is None else _playbook(playbook),
    )
    retries = flags.whole("retries", retries, default=data.cluster_retries, maximum=10)
    tgt = get_target(target)
    head = tgt.cluster.jump.name
    if dry:
        print(f"would run on {head} ({target}), up to {retries + 1} time(s):\n  {run.command()}")
        return
    log_dir = tgt.state_dir / "logs"
    try:
        recap = run_with_retries(connect(tgt, head), run, log_dir, retries=retries)
    except PlaybookFailed as exc:
        raise Exit(f"cluster failed on target {target}: {exc}", 1) from None
    print(
        f"==> {run.playbook}: "
        + ", ".join(f"{h.host} ok={h.ok} changed={h.changed}" for h in recap.values())
    )


@task(
    help={
        **TARGET_HELP,
        "port": f"local end of the SSH tunnel to the API server (default {DEFAULT_LOCAL_PORT})",
        "dry": "say what would be copied and fetched, touch nothing",
    }
)
@clean_errors
def kubeconfig(c, target="lab", port=None, dry=False):
    """Give cc root's kubeconfig on node1, fetch it (server via an SSH tunnel), check Ready."""
    port = flags.port("port", port, DEFAULT_LOCAL_PORT)
    tgt = get_target(target)
    head = tgt.cluster.jump.name
    user = tgt.cluster.user
    local = tgt.state_dir / "kubeconfig"
    if dry:
        print(
            f"would copy /root/.kube to /home/{user}/.kube on {head}, fetch it to {local} "
            f"with its server at https://127.0.0.1:{port}, and check every node is Ready"
        )
        return
    conn = connect(tgt, head)
    if conn.run("sudo test -f /root/.kube/config", warn=True, hide=True).failed:
        raise Exit(f"{head}: no /root/.kube/config; has `fab cluster` installed Kubernetes?", 1)
    conn.run(copy_for_user_command(user), hide=True)
    remote_text = conn.run("cat ~/.kube/config", hide=True).stdout
    try:
        text = rewrite_server(remote_text, port, where=f"{head}:~/.kube/config")
        readiness = node_readiness(conn.run("kubectl get nodes -o json", hide=True).stdout)
    except KubeconfigError as exc:
        raise Exit(str(exc), 1) from None
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_text(text)
    local.chmod(0o600)
    tunnel = shlex.join(tunnel_command(str(tgt.ssh_config_path), port, head))
    print(f"kubeconfig: {local}\n  open the tunnel first: {tunnel}")
    problems = not_ready(readiness, [n.name for n in tgt.cluster.nodes])
    if problems:
        raise Exit(f"nodes not Ready: {', '.join(problems)}", 1)
    print(f"nodes Ready: {', '.join(sorted(readiness))}")


@task(help=TARGET_HELP)
@clean_errors
def registry(c, target="lab", dry=False):
    """Private registry on node1:5000 (private address), trusted by every node's Docker/podman."""
    _run_pyinfra(c, target, "registry", dry)


def _registry_url(target: str) -> str:
    data = host_data(target)
    return f"http://{data.private_address}:{data.registry_port}"


@task(help={"target": TARGET_HELP["target"]})
@clean_errors
def catalog(c, target="lab"):
    """List the registry's repositories and their tags (asked over its API from node1)."""
    tgt = get_target(target)
    base = _registry_url(target)
    try:
        creds = credentials(host_data(target))
        conn = connect(tgt, tgt.cluster.jump.name)
        answer = query(conn, base, ["/v2/_catalog"], creds)
        status, body = answer["/v2/_catalog"]
        if status != 200:
            raise RegistryError(
                f"registry {base} on {tgt.cluster.jump.name} answered {status}: {body}"
            )
        repos = body["repositories"] if isinstance(body, dict) else []
        paths = [f"/v2/{repo}/tags/list" for repo in repos]
        tags = query(conn, base, paths, creds) if paths else {}
    except RegistryError as exc:
        raise Exit(f"catalog failed on target {target}: {exc}", 1) from None
    print(f"registry {base}: {len(repos)} repositories")
    for repo, path in zip(repos, paths, strict=True):
        listed = (tags[path][1] or {}).get("tags") or []
        print(f"  {repo}: {', '.join(sorted(listed)) or '(no tags)'}")


@task(
    help={
        **TARGET_HELP,
        "source": "git URL or local directory of the app (default: group_data app_source)",
        "ref": "git ref of the app (default: group_data app_ref)",
        "dry": "say what would be built and pushed, build nothing",
    }
)
@clean_errors
def image(c, target="lab", source=None, ref=None, dry=False):
    """Build the GourmetGram image on node1, tag it node1:5000/gourmetgram-app, push it."""
    data = host_data(target)
    tgt = get_target(target)
    source, ref = flags.source("source", source), flags.git_ref("ref", ref)
    app = AppSource(str(source or data.app_source), ref or data.app_ref)
    template = ImagePlan(
        tool=data.container_tool,
        name=data.app_image,
        registry=data.registry,
        version="",
        context="",
        build_args=tuple(data.image_build_args),
    )
    try:
        creds = credentials(data)  # before any connection: a missing password stops here
        done = publish(
            connect(tgt, tgt.cluster.jump.name),
            app,
            template,
            _registry_url(target),
            data.app_base_image_from_rootfs,
            dry=dry,
            creds=creds,
        )
    except (ImageError, RegistryError) as exc:
        raise Exit(f"image failed on target {target}: {exc}", 1) from None
    print(f"==> image: {done}")


KUBE_HELP = {
    **TARGET_HELP,
    "timeout": "seconds to wait for the rollout (default 300)",
    "port": f"local end of the SSH tunnel to the API server (default {DEFAULT_LOCAL_PORT})",
    "dry": "print the objects' diff against the live ones, change nothing",
}


@contextmanager
def _cluster_api(target: str, port: int) -> Iterator[Kube]:
    """The kubernetes client through the tunnel the fetched kubeconfig points at."""
    tgt = get_target(target)
    kubeconfig_path = tgt.state_dir / "kubeconfig"
    if not kubeconfig_path.exists():
        raise Exit(f"no {kubeconfig_path}: run `fab kubeconfig --target {target}` first", 1)
    try:
        with api_tunnel(tgt, port):
            yield Kube.from_kubeconfig(str(kubeconfig_path))
    except (TunnelError, KubeError) as exc:
        raise Exit(f"error: {exc}", 1) from None
    except ApiException as exc:
        raise Exit(f"the API server refused: {exc.status} {exc.reason}: {exc.body}", 1) from None
    except urllib3.exceptions.HTTPError as exc:
        servers = [
            c.get("cluster", {}).get("server")
            for c in (YAML(typ="safe").load(kubeconfig_path.read_text()) or {}).get("clusters", [])
        ]
        raise Exit(
            f"error: no API server answered at {', '.join(map(str, servers))} "
            f"({kubeconfig_path}, through the SSH tunnel to {tgt.cluster.jump.name}:6443): "
            f"{getattr(exc, 'reason', None) or exc}",
            1,
        ) from None


def _interruptible(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Interrupted as exc:
        r = exc.load.result
        raise Exit(
            f"interrupted; siege stopped on the node after {r.transactions} transactions "
            f"({r.elapsed_time}s)",
            130,
        ) from None


def _wait_flags(timeout: Any, port: Any) -> tuple[float, int]:
    """--timeout (seconds, default 300) and --port (the tunnel's local end), checked first."""
    return (
        flags.seconds("timeout", timeout, 300, minimum=1),
        flags.port("port", port, DEFAULT_LOCAL_PORT),
    )


def _whole_number(flag: str, value: Any) -> int | None:
    """A count given on the command line; its range is checked with the manifests."""
    return flags.optional_whole(flag, value, minimum=None)


def _objects(target: str, dry: bool = False, **overrides: Any) -> dict[str, dict[str, Any]]:
    """Rendered and strictly validated for the cluster's Kubernetes version, before any
    request is sent. A dry run reads kubespray's version from the cached checkout only;
    without one it says what a real run would fetch and checks the rest."""
    data = host_data(target)
    objects = manifests.render(manifests.params_for(target, **overrides))
    source, ref = data.kubespray_source, data.kubespray_ref
    checkout = dry_run_checkout(source, ref) if dry else controller_checkout(source, ref)
    if checkout is None:
        print(
            f"dry run: kubespray {ref} of {source} is not on the controller, so the objects "
            "are not checked against its Kubernetes version (a real run clones it first)",
            file=sys.stderr,
        )
        return objects
    manifests.validate(objects, kube_version(checkout, data.kubespray_group_vars))
    return objects


def _playbook(value: str) -> str:
    """--playbook: a playbook in the kubespray checkout, or an absolute path on node1;
    never '..' out of the checkout, an option, or a word break."""
    if not re.match(r"^(?!-)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._/-]+\.ya?ml$", value):
        raise InputError(
            f"--playbook {value!r}: must be a .yml path in the kubespray checkout "
            "(e.g. cluster.yml, playbooks/facts.yml) or an absolute path on node1"
        )
    return value


@task(help={**KUBE_HELP, "replicas": "Deployment replicas (default: group_data app_replicas)"})
@clean_errors
def rollout(c, target="lab", replicas=None, timeout=None, port=None, dry=False):
    """Apply namespace, Service and Deployment (server-side); wait until rolled out."""
    timeout, port = _wait_flags(timeout, port)
    objects = _objects(target, dry, replicas=_whole_number("replicas", replicas))
    with _cluster_api(target, port) as kube:
        app_stage.rollout(kube, objects, timeout, dry, print)


@task(help={**KUBE_HELP, "replicas": "how many pods (the tutorial's second step: 6)"})
@clean_errors
def scale(c, replicas, target="lab", timeout=None, port=None, dry=False):
    """Set the Deployment's replicas and wait (refused while the HPA owns them)."""
    timeout, port = _wait_flags(timeout, port)
    objects = _objects(target, dry, replicas=_whole_number("replicas", replicas))
    with _cluster_api(target, port) as kube:
        app_stage.scale(kube, objects, timeout, dry, print)


@task(
    help={
        **KUBE_HELP,
        "min": "HPA minReplicas (default 2)",
        "max": "HPA maxReplicas (default 6)",
        "cpu": "target average CPU utilization, percent (default 50)",
        "off": "delete the HPA instead (replicas stay where it left them)",
    }
)
@clean_errors
def autoscale(
    c,
    target="lab",
    min=None,
    max=None,
    cpu=None,
    off=False,
    timeout=None,
    port=None,
    dry=False,
):  # noqa: A002 - the flags are --min/--max
    """Apply the HPA, Deployment back to 1 replica, replica count handed over to the HPA."""
    timeout, port = _wait_flags(timeout, port)
    objects = _objects(
        target,
        dry,
        hpa_min=_whole_number("min", min),
        hpa_max=_whole_number("max", max),
        hpa_cpu=_whole_number("cpu", cpu),
    )
    with _cluster_api(target, port) as kube:
        if off:
            app_stage.autoscale_off(kube, objects, dry, print)
        else:
            app_stage.autoscale(kube, objects, timeout, dry, print)


@task(help={"target": TARGET_HELP["target"], "port": KUBE_HELP["port"]})
@clean_errors
def status(c, target="lab", port=None):
    """Service, Deployment, pods (-o wide), HPA current/target CPU and `top pod` numbers."""
    _, port = _wait_flags(None, port)
    objects = _objects(target, dry=True)
    with _cluster_api(target, port) as kube:
        app_stage.status(kube, objects, print)


@task(help={**KUBE_HELP, "timeout": "seconds to wait until the namespace is gone"})
@clean_errors
def teardown(c, target="lab", timeout=None, port=None, dry=False):
    """Delete what rollout/autoscale applied, HPA first, and wait until it is gone."""
    timeout, port = _wait_flags(timeout, port)
    objects = _objects(target, dry)
    with _cluster_api(target, port) as kube:
        app_stage.teardown(kube, objects, timeout, dry, print)


@task(
    help={
        "target": TARGET_HELP["target"],
        "concurrency": "simultaneous users (siege -c; default 10, as the tutorial)",
        "duration": "how long: 30s, 2m ... (siege -t; default 30s)",
        "url": "what to load (default: http://<Service external IP>/test)",
        "port": KUBE_HELP["port"],
        "dry": "print the siege run (node, command, URL, length, users), run and install nothing",
    }
)
@clean_errors
def loadtest(
    c,
    target="lab",
    concurrency=None,
    duration=None,
    url=None,
    port=None,
    dry=False,
):
    """siege from node1 against the service, pod CPU/memory and replicas sampled meanwhile."""
    _, port = _wait_flags(None, port)
    tgt = get_target(target)
    data = host_data(target)
    load = LoadRun(
        url=flags.url("url", url) or f"http://{tgt.external_ip()}/test",
        concurrency=flags.whole("concurrency", concurrency, default=10, minimum=1),
        duration=duration_seconds(duration or "30s"),
    )
    load.command()  # checks the parameters before connecting
    if dry:
        # Before any connection: remote.connect builds its own Fabric config, so only this
        # flag (not `fab --dry`) keeps a dry run from touching node1.
        sampled = None
        if data.cluster_installs_kubernetes:
            sampled = (
                f"replicas and pod CPU/memory every {SAMPLE_EVERY:g}s through the API tunnel "
                f"(port {port})"
            )
        results = tgt.state_dir / "results" / "loadtest-<YYYYmmdd-HHMMSS>.json"
        lines = describe_load(load, tgt.cluster.jump.name, sampled, str(results))
        print("would run " + "\n".join(lines))
        return
    conn = connect(tgt, tgt.cluster.jump.name)
    ensure_siege(conn)
    stop_cmd = stop_command(str(tgt.write_ssh_config()), tgt.cluster.jump.name)

    def stop() -> None:
        subprocess.run(stop_cmd, capture_output=True, timeout=30)

    if data.cluster_installs_kubernetes:
        objects = _objects(target, dry)
        ns = objects["namespace"]["metadata"]["name"]
        with _cluster_api(target, port) as kube:

            def sample() -> dict[str, Any]:
                dep = kube.live(objects["deployment"]) or {}
                return {
                    "replicas": dep.get("status", {}).get("readyReplicas", 0),
                    "pods": pod_metrics(kube, ns),
                }

            _interruptible(loadtest_run, conn, load, sample, stop_remote=stop)
    else:
        print(f"(no Kubernetes on {target}: siege only, no pod samples)")
        _interruptible(loadtest_run, conn, load, stop_remote=stop)
    out = tgt.state_dir / "results" / f"loadtest-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    assert load.result is not None
    out.write_text(
        json.dumps(
            {
                "url": load.url,
                "concurrency": load.concurrency,
                "duration": load.duration,
                "result": load.result.as_dict(),
                "samples": load.samples,
                "siege_stdout": load.stdout,
                "siege_stderr": load.stderr,
            },
            indent=2,
        )
    )
    r = load.result
    print(
        f"transactions {r.transactions} ({r.transaction_rate}/s), mean response "
        f"{r.response_time}s, failed {r.failed_transactions} "
        f"(connection refused {r.connection_refused}), availability {r.availability}%\n"
        f"saved: {out}"
    )


@task(
    help={
        "target": TARGET_HELP["target"],
        "concurrency": "simultaneous users per load test (default 10)",
        "duration": "each load test's length (default 30s)",
        "pause": "seconds between the two autoscaling load tests (default 30)",
        "scale_down_timeout": "longest wait for the HPA to scale back down (default 360)",
        "url": "what to load (default: http://<Service external IP>/test)",
        "port": KUBE_HELP["port"],
        "dry": "print the scenario plan (replicas, HPA, siege runs, waits), run nothing",
    }
)
@clean_errors
def experiment(
    c,
    target="lab",
    concurrency=None,
    duration=None,
    pause=None,
    scale_down_timeout=None,
    url=None,
    port=None,
    dry=False,
):
    """1 replica vs 6 replicas vs autoscaling under siege: results, report and plots."""
    _, port = _wait_flags(None, port)
    tgt = get_target(target)
    no_kubernetes = f"{target} runs no Kubernetes: nothing to experiment on"
    if not dry and not host_data(target).cluster_installs_kubernetes:
        raise Exit(no_kubernetes, 1)
    plan = ExperimentPlan(
        url=flags.url("url", url) or f"http://{tgt.external_ip()}/test",
        concurrency=flags.whole("concurrency", concurrency, default=10, minimum=1),
        duration=duration_seconds(duration or "30s"),
        pause=flags.seconds("pause", pause, 30),
        scale_down_timeout=flags.seconds("scale_down_timeout", scale_down_timeout, 360, 1),
    )
    # The whole plan (every scenario's objects, each siege command) is built and checked
    # here, so a bad parameter stops the run before its first change.
    head = tgt.cluster.jump.name
    steps = experiment_describe(plan, lambda **kw: _objects(target, dry, **kw), head)
    if dry:
        results = tgt.state_dir / "results" / "experiment-<YYYYmmdd-HHMMSS>"
        print("would run, in order:\n  " + "\n  ".join(steps))
        print(f"  results, report.md and plots in {results}")
        if not host_data(target).cluster_installs_kubernetes:
            raise Exit(f"{no_kubernetes} (a real run stops here, before step 1)", 1)
        return
    conn = connect(tgt, tgt.cluster.jump.name)
    ensure_siege(conn)
    out = tgt.state_dir / "results" / f"experiment-{time.strftime('%Y%m%d-%H%M%S')}"
    with _cluster_api(target, port) as kube:
        stop_cmd = stop_command(str(tgt.write_ssh_config()), tgt.cluster.jump.name)
        path = _interruptible(
            experiment_run,
            kube,
            conn,
            lambda **kw: _objects(target, **kw),
            plan,
            out,
            stop_remote=lambda: subprocess.run(stop_cmd, capture_output=True, timeout=30),
        )
    print(f"report: {path}")


@task(help={"results_dir": "a directory with experiment.json (from fab experiment)"})
@clean_errors
def report(c, results_dir):
    """Render report.md with its side-by-side table and PNG plots from saved results."""
    print(reportmod.render(Path(results_dir)))


@task(
    help={
        "out": "directory to write into: new, empty, or written by render before",
        "force": "write into a non-empty directory render did not make",
        "target": TARGET_HELP["target"],
        "kubespray-source": "read kubespray's sample from this repo or bundle (same ref) instead",
    }
)
@clean_errors
def render(c, out, target="lab", kubespray_source=None, force=False):
    """Write every file the stages would put in place, contacting no host (like a plan)."""
    kubespray_source = flags.source("kubespray_source", kubespray_source)
    rendermod.check_out_dir(Path(out), force)  # before kubespray is read or cloned
    written = rendermod.write(Path(out), rendermod.artifacts(target, kubespray_source), force)
    for path in written:
        print(path)


@task(help=TARGET_HELP)
@clean_errors
def up(c, target="lab", dry=False):
    """Every stage in order for the target; for the lab, bring the lab up first."""
    if target == "lab":
        if dry:
            if labmod.status().state != "running":
                print("lab is not running: a real run would start it; dry run stops here")
                return
        else:
            labmod.up()
    prepare(c, target=target, dry=dry)
    kubespray(c, target=target, dry=dry)
    cluster(c, target=target, dry=dry)
    has_kubernetes = host_data(target).cluster_installs_kubernetes
    if has_kubernetes:
        kubeconfig(c, target=target, dry=dry)
    registry(c, target=target, dry=dry)
    image(c, target=target, dry=dry)
    if has_kubernetes:
        rollout(c, target=target, dry=dry)
    else:
        print(f"==> kubeconfig, rollout: skipped, {target}'s cluster stage installs no Kubernetes")


@task(name="up")
@clean_errors
def lab_up(c):
    """Start the local three-node lab (no-op if it runs; a stale lab is cleaned first)."""
    print(labmod.up())


@task(name="down")
@clean_errors
def lab_down(c):
    """Stop the lab and remove its namespaces, mounts and route (only what it made)."""
    labmod.down()
    print(labmod.status())


@task(name="status")
@clean_errors
def lab_status(c):
    """Show whether the lab runs, and each node's nspawn PID."""
    print(labmod.status())


@task(name="reset")
@clean_errors
def lab_reset(c):
    """Pristine nodes in seconds: fresh overlay upper dirs and host keys, same rootfs."""
    print(labmod.reset())


ns = Collection(
    up,
    prepare,
    kubespray,
    cluster,
    kubeconfig,
    registry,
    catalog,
    image,
    rollout,
    scale,
    autoscale,
    status,
    teardown,
    loadtest,
    experiment,
    report,
    render,
)
ns.add_collection(Collection("lab", lab_up, lab_down, lab_status, lab_reset))
