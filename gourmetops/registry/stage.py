"""The image stage (the app built on node1, tagged and pushed to node1:5000) and the
registry's catalog, both asked from node1: the registry listens on its private address."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from gourmetops.context import RunContext
from gourmetops.errors import StageFailed
from gourmetops.output import say
from gourmetops.registry.image import AppSource, ImageError, ImagePlan, publish
from gourmetops.registry.service import RegistryError, credentials, query


def registry_url(ctx: RunContext) -> str:
    return f"http://{ctx.settings.private_address}:{ctx.settings.registry_port}"


@contextmanager
def _failing_as(stage: str, ctx: RunContext) -> Iterator[None]:
    try:
        yield
    except (ImageError, RegistryError) as exc:
        raise StageFailed(f"{stage} failed on target {ctx.name}: {exc}") from None


def image(ctx: RunContext, dry: bool, source: str | None = None, ref: str | None = None) -> None:
    data = ctx.settings
    app = AppSource(str(source or data.app_source), ref or data.app_ref)
    template = ImagePlan(
        tool=data.container_tool,
        name=data.app_image,
        registry=data.registry,
        version="",
        context="",
        build_args=tuple(data.image_build_args),
    )
    with _failing_as("image", ctx):
        creds = credentials(data)  # before any connection: a missing password stops here
        base_image = data.app_base_image_from_rootfs
        done = publish(
            ctx.connect(), app, template, registry_url(ctx), base_image, dry=dry, creds=creds
        )
    say(f"==> image: {done}")


def catalog(ctx: RunContext) -> None:
    """Every repository and its tags, as the registry's API lists them."""
    base = registry_url(ctx)
    with _failing_as("catalog", ctx):
        creds = credentials(ctx.settings)
        conn = ctx.connect()
        status, body = query(conn, base, ["/v2/_catalog"], creds)["/v2/_catalog"]
        if status != 200:
            raise RegistryError(f"registry {base} on {ctx.head} answered {status}: {body}")
        repos = body["repositories"] if isinstance(body, dict) else []
        paths = [f"/v2/{repo}/tags/list" for repo in repos]
        tags = query(conn, base, paths, creds) if paths else {}
    say(f"registry {base}: {len(repos)} repositories")
    for repo, path in zip(repos, paths, strict=True):
        answer = tags[path][1]
        listed = (answer.get("tags") if isinstance(answer, dict) else None) or []
        say(f"  {repo}: {', '.join(sorted(listed)) or '(no tags)'}")
