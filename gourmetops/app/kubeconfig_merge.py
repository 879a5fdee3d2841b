"""`fab kubeconfig --merge`: the fetched kubeconfig added to the user's own as one context
named after the target, every other entry and key kept as it was. Text in, text out (no file
touched here), so it is tested without a cluster; kubeconfig_user.py reads and writes.

The context, its cluster and its user are all named `gourmetops-<target>`: kubespray calls
every cluster `cluster.local` and its user `kubernetes-admin`, names that would collide with
another kubespray cluster the user already has.
"""

from __future__ import annotations

import copy
import io
import re
from dataclasses import dataclass
from typing import Any

from gourmetops.app.kubeconfig import KubeconfigError

ENTRY_LISTS = ("clusters", "users", "contexts")
_DOCUMENT_START = re.compile(r"(?:[ \t]*(?:#.*)?\n)*---")
_PAYLOAD = {"clusters": "cluster", "users": "user", "contexts": "context"}
# What `kubectl config set-context` writes to a file that did not exist, in its key order.
_EMPTY = (
    'apiVersion: v1\nclusters: []\ncontexts: []\ncurrent-context: ""\nkind: Config\n'
    "preferences: {}\nusers: []\n"
)


@dataclass(frozen=True)
class Merged:
    """The new text of the user's kubeconfig and what changed in it, for the one-line report."""

    text: str
    replaced: bool  # an entry named `name` was there before (now replaced, not duplicated)
    current_context: str  # after the merge
    current_set: bool  # the file had no current-context, so it is now `name`


def context_name(target: str) -> str:
    return f"gourmetops-{target}"


def parse_user_config(text: str, where: str) -> Any:
    """The user's kubeconfig loaded round-trip, or a refusal naming `where`. Empty text is a
    new file; absent or null lists are empty lists, as kubectl reads them."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError

    from gourmetops.validation import yaml_problem
    from gourmetops.yamlio import roundtrip

    try:
        config = roundtrip().load(text if text.strip() else _EMPTY)
    except YAMLError as exc:
        problem = yaml_problem(exc)
        raise KubeconfigError(f"{where}: not valid YAML ({problem}); not changed") from None
    if not isinstance(config, CommentedMap):
        raise KubeconfigError(f"{where}: not a kubeconfig (no mapping at the top); not changed")
    for key in ENTRY_LISTS:
        if config.get(key) is None:
            config[key] = CommentedSeq()
        elif not isinstance(config[key], list):
            raise KubeconfigError(f"{where}: {key!r} is not a list; not changed")
        for i, entry in enumerate(config[key]):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise KubeconfigError(f"{where}: {key}[{i}] has no name; not changed")
    return config


def fetched_entries(text: str, port: int, where: str) -> dict[str, dict[str, Any]]:
    """The fetched kubeconfig's current context and the cluster and user it names, keyed as
    the lists they go to; the cluster's server set to the tunnel's local end."""
    from gourmetops.yamlio import roundtrip

    config = roundtrip().load(text)
    contexts = {c["name"]: c.get("context") or {} for c in config.get("contexts") or []}
    name = config.get("current-context") or (next(iter(contexts)) if len(contexts) == 1 else "")
    if name not in contexts:
        raise KubeconfigError(f"{where}: no current context to merge")
    context = contexts[name]
    found: dict[str, dict[str, Any]] = {"contexts": dict(context)}
    for key, ref in (("clusters", "cluster"), ("users", "user")):
        named = [e for e in config.get(key) or [] if e.get("name") == context.get(ref)]
        if not named:
            raise KubeconfigError(f"{where}: context {name!r} names no {ref} in {key}")
        found[key] = copy.deepcopy(dict(named[0].get(_PAYLOAD[key]) or {}))
    found["clusters"]["server"] = f"https://127.0.0.1:{port}"
    return found


def _upsert(entries: list[Any], name: str, payload_key: str, payload: dict[str, Any]) -> bool:
    """The entry called `name` set to `payload` where the first one was (later ones of that
    name dropped), or added at the end; True when one was there."""
    from ruamel.yaml.comments import CommentedMap

    entry = CommentedMap([("name", name), (payload_key, CommentedMap(payload))])
    at = [i for i, e in enumerate(entries) if e.get("name") == name]
    for i in reversed(at[1:]):
        del entries[i]
    if at:
        old = entries[at[0]]
        old[payload_key] = entry[payload_key]  # in place: its key order and comments stay
        return True
    entries.append(entry)
    return False


def merge(existing: str, fetched: str, target: str, port: int, where: str) -> Merged:
    """`existing` (the user's kubeconfig text, maybe empty) with the context, cluster and user
    `gourmetops-<target>` taken from `fetched`; current-context kept unless there was none."""
    from ruamel.yaml.scalarstring import PlainScalarString

    name = context_name(target)
    config = parse_user_config(existing, where)
    payloads = fetched_entries(fetched, port, f"the kubeconfig fetched for {target}")
    payloads["contexts"].update(cluster=name, user=name)
    replaced = False
    for key in ENTRY_LISTS:
        replaced |= _upsert(config[key], name, _PAYLOAD[key], payloads[key])
    current = config.get("current-context")
    current_set = not current
    if current_set:
        config["current-context"] = current = PlainScalarString(name)
    return Merged(_dump_like(config, existing), replaced, str(current), current_set)


def _dump_like(config: Any, original: str) -> str:
    """`config` dumped in the indentation (and with the `---` if any) that gives `original`
    back unchanged, so untouched entries keep their bytes; kubectl's own style when no such
    style is found or the file is new."""
    from ruamel.yaml.util import load_yaml_guess_indent

    from gourmetops.yamlio import roundtrip

    kubectl_style = (2, 2, 0, False)
    if not original.strip():
        return _dumped(config, kubectl_style)
    # Comments above a `---` are not kept by ruamel: they are put back as they were.
    start = _DOCUMENT_START.match(original)
    prefix = start.group(0)[:-3] if start else ""
    body = original[len(prefix) :]
    _, indent, offset = load_yaml_guess_indent(body)
    guesses = [(indent, indent, offset or 0), (2, 2, 0), (2, 4, 2), (4, 4, 0), (4, 6, 2)]
    for mapping, sequence, off in guesses:
        style = (mapping, sequence, off, start is not None)
        if _dumped(roundtrip().load(body), style) == body:
            return prefix + _dumped(config, style)
    return prefix + _dumped(config, kubectl_style)


def _dumped(config: Any, style: tuple[int, int, int, bool]) -> str:
    from gourmetops.yamlio import roundtrip

    yaml = roundtrip()
    yaml.width = 1 << 30  # certificates and tokens stay on their line, however long
    yaml.indent(mapping=style[0], sequence=style[1], offset=style[2])
    yaml.explicit_start = style[3]
    out = io.StringIO()
    yaml.dump(config, out)
    return out.getvalue()
