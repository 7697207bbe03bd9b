"""From submitted objects to store rows in one pass: validate each object and build its row from what the
validation learnt (timestamps, the parsed pattern), reporting each invalid one by its index.

This is the CPU-bound half of ingest and a pure function of its input, so that large imports can run it in
worker processes while the calling process writes (see ``mamori.intel.bulk``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from mamori.errors import InvalidInput
from mamori.intel.model import ObjectRow, Problem
from mamori.intel.rows import row_of
from mamori.intel.validate import Checked, validate_object

Prepared = tuple[list[tuple[int, ObjectRow]], list[Problem]]


def prepare_objects(objects: Sequence[Any], *, fallback_version: str, offset: int = 0,
                    extension_types: Collection[str] = (),
                    known_markings: Mapping[str, dict[str, Any]] | None = None) -> Prepared:
    """(index, row) for each valid object and a :class:`Problem` for each invalid one; indexes are positions in
    ``objects`` (problems add ``offset``, the position of ``objects[0]`` in what the caller received).

    ``known_markings``: valid marking definitions from elsewhere in the same input, by id."""
    # Marking definitions of the same batch can carry a TLP level that other objects of the batch refer to.
    checked: dict[int, Checked] = {}
    refused: set[int] = set()
    problems: list[Problem] = []
    markings: dict[str, dict[str, Any]] = dict(known_markings or {})
    for i, obj in enumerate(objects):
        if isinstance(obj, Mapping) and obj.get("type") == "marking-definition":
            try:
                checked[i] = validate_object(obj, extension_types=extension_types)
            except InvalidInput as e:
                problems.append(Problem(index=i + offset, object_id=e.where, reason=e.message))
                refused.add(i)
                continue
            markings[str(obj["id"])] = dict(obj)
    rows: list[tuple[int, ObjectRow]] = []
    for i, obj in enumerate(objects):
        facts = checked.get(i)
        if facts is None:
            if i in refused:
                continue  # an invalid marking definition, already reported
            try:
                facts = validate_object(obj, extension_types=extension_types)
            except InvalidInput as e:
                problems.append(Problem(index=i + offset, object_id=e.where, reason=e.message))
                continue
        try:
            rows.append((i, row_of(obj, fallback_version=fallback_version, where=f"objects[{i + offset}]",
                                   known_markings=markings or None, checked=facts)))
        except InvalidInput as e:
            problems.append(Problem(index=i + offset, object_id=obj.get("id"), reason=e.message))
    problems.sort(key=lambda p: p.index)
    return rows, problems
