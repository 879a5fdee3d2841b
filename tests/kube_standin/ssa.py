"""Server-side apply's field ownership, after
https://kubernetes.io/docs/reference/using-api/server-side-apply/ (Field management,
Conflicts, Merge strategy): each manager owns the fields it applied; applying a field another
manager owns with a different value is a 409 Conflict unless force=true, which takes it over;
a field a manager stops applying is removed unless another manager still owns it.

Difference from the real one: lists are atomic here (owned whole), while the API server merges
containers and ports by key (`k:{"name":...}` in fieldsV1)."""

from __future__ import annotations

import copy
import json
from typing import Any

Path = tuple[str, ...]
Owner = tuple[str, str, str]  # manager, operation ("Apply" or "Update"), subresource
# Fields of the object that ownership does not cover (identity and server-set metadata).
_SKIP = {("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace")}


def leaves(obj: Any, prefix: Path = ()) -> dict[Path, Any]:
    """Path -> value for every field an applied configuration sets (lists whole)."""
    if isinstance(obj, dict) and obj and prefix[:1] != ("status",):
        out: dict[Path, Any] = {}
        for k, v in obj.items():
            if not k.startswith("$"):  # strategic merge patch directives
                out.update(leaves(v, (*prefix, k)))
        return out
    return {} if prefix in _SKIP or prefix[:1] == ("status",) else {prefix: obj}


def get(obj: Any, path: Path) -> Any:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def put(obj: dict, path: Path, value: Any) -> None:
    for part in path[:-1]:
        obj = obj.setdefault(part, {})
    obj[path[-1]] = copy.deepcopy(value)


def drop(obj: dict, path: Path) -> None:
    parents = []
    for part in path[:-1]:
        if part not in obj:
            return
        parents.append((obj, part))
        obj = obj[part]
    obj.pop(path[-1], None)
    for parent, part in reversed(parents):  # prune maps left empty
        if parent[part] == {}:
            del parent[part]


def covers(live: Any, applied: Any) -> bool:
    """Whether `live` holds what `applied` sets: fields the server defaulted beside it are no
    conflict, nor is a quantity written another way ("0.5" stored as "500m")."""
    if isinstance(applied, dict):
        return isinstance(live, dict) and all(
            k in live and covers(live[k], v) for k, v in applied.items()
        )
    if isinstance(applied, list):
        return (
            isinstance(live, list)
            and len(live) == len(applied)
            and all(covers(lv, av) for lv, av in zip(live, applied, strict=True))
        )
    if live != applied and isinstance(live, str) and isinstance(applied, str | int | float):
        from tests.kube_standin.admission import canonical

        try:
            return canonical(live) == canonical(applied)
        except ValueError:
            return False
    return live == applied


class Conflict(Exception):
    """A 409's message and causes as staging/src/k8s.io/apimachinery/pkg/util/managedfields/
    internal/conflict.go writes them (NewConflictError, getConflictMessage, printManager)."""

    def __init__(self, conflicts: list[tuple[Owner, Path]], api_version: str) -> None:
        self.causes = [
            {
                "reason": "FieldManagerConflict",
                "message": f"conflict with {_manager(o, api_version)}",
                "field": _path(p),
            }
            for o, p in conflicts
        ]
        if len(conflicts) == 1:
            ((owner, path),) = conflicts
            message = (
                f"Apply failed with 1 conflict: conflict with {_manager(owner, api_version)}: "
                f"{_path(path)}"
            )
        else:  # grouped by manager, managers sorted (by their identifier: name first)
            lines = []
            for owner in sorted(dict.fromkeys(o for o, _ in conflicts)):
                lines.append(f"conflicts with {_manager(owner, api_version)}:")
                lines.extend(f"- {_path(p)}" for o, p in conflicts if o == owner)
            message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
        super().__init__(message)


def _manager(owner: Owner, api_version: str) -> str:
    """conflict.go printManager: the name quoted, its subresource, and for an Update its
    apiVersion (the manager identifier carries no time: fieldmanager BuildManagerIdentifier)."""
    name, operation, subresource = owner
    said = json.dumps(name) + (
        f" with subresource {json.dumps(subresource)}" if subresource else ""
    )
    return f"{said} using {api_version}" if operation == "Update" else said


def _path(path: Path) -> str:
    """structured-merge-diff fieldpath.Path.String(): `.a.b` (lists are atomic here)."""
    return "." + ".".join(path)


class Fields:
    """Ownership of one object's fields: manager -> (operation, subresource, paths)."""

    def __init__(self) -> None:
        self.owned: dict[str, tuple[str, str, set[Path]]] = {}

    def owners(self, path: Path) -> list[str]:
        return [m for m, (_, _, paths) in self.owned.items() if path in paths]

    def apply(self, obj: dict, body: dict, manager: str, force: bool, api_version: str) -> None:
        """Merge `body` into `obj` as `manager` applying it (raises Conflict)."""
        new = leaves(body)
        conflicts = [
            ((other, *self.owned[other][:2]), path)
            for path, value in new.items()
            for other in self.owners(path)
            if other != manager and not covers(get(obj, path), value)
        ]
        if conflicts and not force:
            raise Conflict(conflicts, api_version)
        for (other, _, _), path in conflicts:
            self.owned[other][2].discard(path)
        before = self.owned.get(manager, ("Apply", "", set()))[2]
        for path in before - set(new):
            if not [m for m in self.owners(path) if m != manager]:
                drop(obj, path)
        for path, value in new.items():
            put(obj, path, value)
        self.owned[manager] = ("Apply", "", set(new))
        self.owned = {m: v for m, v in self.owned.items() if v[2]}

    def update(self, manager: str, paths: set[Path], subresource: str = "") -> None:
        """An Update (PUT/PATCH, or a subresource write) by `manager`: it takes the fields."""
        for _, _, owned in self.owned.values():
            owned.difference_update(paths)
        mine = self.owned.get(manager, ("Update", subresource, set()))[2] | paths
        self.owned[manager] = ("Update", subresource, mine)
        self.owned = {m: v for m, v in self.owned.items() if v[2]}

    @classmethod
    def from_managed(cls, entries: list[dict[str, Any]]) -> Fields:
        """Back from metadata.managedFields (as kubectl's migration to server-side apply
        rewrites them with a JSON patch)."""
        fields = cls()

        def walk(node: dict, prefix: Path) -> set[Path]:
            keys = [k for k in node if k.startswith("f:")]
            if not keys:
                return {prefix} if prefix else set()
            return set().union(*(walk(node[k], (*prefix, k[2:])) for k in keys))

        for e in entries:
            paths = walk(e.get("fieldsV1", {}), ())
            fields.owned[e["manager"]] = (e["operation"], e.get("subresource", ""), paths)
        return fields

    def managed_fields(self, api_version: str, time: str) -> list[dict[str, Any]]:
        """metadata.managedFields as the API returns them (fieldsType FieldsV1)."""
        out = []
        for manager, (operation, subresource, paths) in self.owned.items():
            tree: dict[str, Any] = {}
            for path in sorted(paths):
                node = tree
                for part in path:
                    node = node.setdefault(f"f:{part}", {})
            entry = {
                "manager": manager,
                "operation": operation,
                "apiVersion": api_version,
                "time": time,
                "fieldsType": "FieldsV1",
                "fieldsV1": json.loads(json.dumps(tree)),
            }
            if subresource:
                entry["subresource"] = subresource
            out.append(entry)
        return out
