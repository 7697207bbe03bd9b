"""MISP events (the JSON of MISP's ``/events`` export) converted into STIX 2.1 objects.

The event becomes a STIX ``report`` (section 4.14) or ``grouping`` (4.6) that refers to one
``indicator`` (4.7) per attribute flagged ``to_ids``, whether the attribute sits on the event or inside
a MISP object; the creating organisation (``Orgc``) becomes an ``identity`` (4.11) named as
``created_by_ref``. Attributes without ``to_ids`` are context, not detection material, and are left out.

Identifiers are UUIDv5 values derived from the MISP UUIDs (the event's, each attribute's, the
organisation's), so importing the same event again yields the same ids; an edited attribute keeps its
id and gets a newer ``modified`` (a new STIX version).

TLP tags (``tlp:amber``, ``tlp:amber+strict``, TLP 1.0 ``tlp:white``, …) become ``object_marking_refs``
to the OASIS TLP 2.0 marking definitions. An attribute is marked with the higher of its own and the
event's level (fail closed). Other tags become ``labels``.

An attribute that cannot be converted (unknown type, malformed value) is reported as a
:class:`MispProblem` and skipped; only a document that is not a MISP event at all raises.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, Literal

from mamori.errors import InvalidInput
from mamori.intel.patterns import observable, pattern_for, quote
from mamori.intel.tlp import Tlp
from mamori.kernel.ids import stable_uuid
from mamori.kernel.timefmt import format_stix, parse_timestamp


@dataclass(frozen=True)
class MispProblem:
    """An attribute that was not converted: its running index, MISP type, JSON location and why."""

    index: int
    attribute_type: str
    reason: str
    where: str


def _ip_pattern(value: str, side: str | None = None, port: str | None = None) -> str:
    """Pattern for an IP or network, optionally with the port on the same side of a connection."""
    text = value.strip()
    family = "ipv6" if ":" in text else "ipv4"
    kind = f"{family}-cidr" if "/" in text else family
    found = observable(kind, text)
    if port is None:
        return pattern_for(found.kind, found.value)
    port_value = observable("port", port).value
    ref_type = "ipv6-addr" if found.kind.startswith("ipv6") else "ipv4-addr"
    operator = "ISSUBSET" if found.kind.endswith("cidr") else "="
    return (
        f"[network-traffic:{side}_ref.type = '{ref_type}' AND "
        f"network-traffic:{side}_ref.value {operator} {quote(found.value)} AND "
        f"network-traffic:{side}_port = {port_value}]"
    )


def _split(value: str, attribute_type: str) -> tuple[str, str]:
    left, sep, right = value.partition("|")
    if not sep or not left.strip() or not right.strip():
        raise InvalidInput(f"a {attribute_type} value has two parts separated by '|'")
    return left.strip(), right.strip()


def _hash_pattern(kind: str) -> Callable[[str], str]:
    return lambda value: pattern_for(kind, value)


def _filename_hash_pattern(kind: str) -> Callable[[str], str]:
    def build(value: str) -> str:
        name, digest = _split(value, f"filename|{kind}")
        return pattern_for(kind, digest)[:-1] + f" AND file:name = {quote(name)}]"

    return build


def _ip_port(side: str) -> Callable[[str], str]:
    def build(value: str) -> str:
        address, port = _split(value, f"ip-{side}|port")
        return _ip_pattern(address, side, port)

    return build


def _domain_ip(value: str) -> str:
    domain, address = _split(value, "domain|ip")
    name = observable("domain", domain).value
    ip_text = ipaddress.ip_address(address).compressed if _is_ip(address) else None
    if ip_text is None:
        raise InvalidInput(f"{address!r} is not an IP address")
    return f"[domain-name:value = {quote(name)} AND domain-name:resolves_to_refs[*].value = {quote(ip_text)}]"


def _hostname_port(value: str) -> str:
    host, port = _split(value, "hostname|port")
    name = observable("domain", host).value
    port_value = observable("port", port).value
    return f"[network-traffic:dst_ref.value = {quote(name)} AND network-traffic:dst_port = {port_value}]"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _email_subject(value: str) -> str:
    if not value.strip():
        raise InvalidInput("empty subject")
    return f"[email-message:subject = {quote(value)}]"


def _filename(value: str) -> str:
    if not value.strip():
        raise InvalidInput("empty file name")
    return f"[file:name = {quote(value)}]"


# MISP attribute type → builder of the STIX pattern for its value (raises InvalidInput on bad values).
PATTERN_BUILDERS: Final[dict[str, Callable[[str], str]]] = {
    "ip-src": lambda v: _ip_pattern(v),
    "ip-dst": lambda v: _ip_pattern(v),
    "ip-src|port": _ip_port("src"),
    "ip-dst|port": _ip_port("dst"),
    "domain": lambda v: pattern_for("domain", v),
    "hostname": lambda v: pattern_for("domain", v),
    "domain|ip": _domain_ip,
    "hostname|port": _hostname_port,
    "url": lambda v: pattern_for("url", v),
    "uri": lambda v: pattern_for("url", v),
    "link": lambda v: pattern_for("url", v),
    "email": lambda v: pattern_for("email", v),
    "email-src": lambda v: pattern_for("email", v),
    "email-dst": lambda v: pattern_for("email", v),
    "email-subject": _email_subject,
    "filename": _filename,
    "md5": _hash_pattern("md5"),
    "sha1": _hash_pattern("sha1"),
    "sha256": _hash_pattern("sha256"),
    "sha512": _hash_pattern("sha512"),
    "filename|md5": _filename_hash_pattern("md5"),
    "filename|sha1": _filename_hash_pattern("sha1"),
    "filename|sha256": _filename_hash_pattern("sha256"),
    "filename|sha512": _filename_hash_pattern("sha512"),
    "AS": lambda v: pattern_for("asn", v),
    "port": lambda v: pattern_for("port", v),
}


def _tlp_of_tags(tags: object) -> tuple[Tlp | None, list[str]]:
    """The highest TLP level among MISP tags, and the other tag names (as labels)."""
    level: Tlp | None = None
    labels: list[str] = []
    if not isinstance(tags, list):
        return None, labels
    for tag in tags:
        name = tag.get("name") if isinstance(tag, Mapping) else None
        if not isinstance(name, str) or not name.strip():
            continue
        if name.strip().lower().startswith("tlp:"):
            try:
                found = Tlp.parse(name)
            except InvalidInput:
                # "tlp:unclear", "tlp:ex:chr" name no level: keep them visible as labels
                labels.append(name.strip())
                continue
            level = found if level is None or found > level else level
        else:
            labels.append(name.strip())
    return level, labels


def _epoch(value: object, where: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip().isdigit():
        return datetime.fromtimestamp(int(str(value).strip()), UTC)
    if isinstance(value, str):
        return parse_timestamp(value, where=where)
    raise InvalidInput(f"not a timestamp: {value!r}", where=where)


def _event_of(document: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise InvalidInput("a MISP event must be a JSON object", where="$")
    event = document.get("Event", document)
    if not isinstance(event, Mapping):
        raise InvalidInput("'Event' must be an object", where="$.Event")
    for name in ("uuid", "info"):
        if not isinstance(event.get(name), str) or not event[name].strip():
            raise InvalidInput(f"MISP event has no {name!r}", where=f"$.Event.{name}")
    return event


def _event_times(event: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """(created, modified) of the event: its date at midnight UTC and its last change."""
    day: datetime | None = None
    if isinstance(event.get("date"), str) and event["date"].strip():
        try:
            parsed = date.fromisoformat(event["date"].strip())
        except ValueError as e:
            raise InvalidInput(f"bad event date {event['date']!r}", where="$.Event.date") from e
        day = datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
    changed = _epoch(event.get("timestamp"), "$.Event.timestamp")
    if day is None and changed is None:
        raise InvalidInput("MISP event has neither 'date' nor 'timestamp'", where="$.Event")
    created = min(t for t in (day, changed) if t is not None)
    modified = max(t for t in (day, changed) if t is not None)
    return created, modified


def _attributes(event: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any], str | None]]:
    """``(where, attribute, object name)`` for event attributes, then those of each MISP object."""
    found: list[tuple[str, Mapping[str, Any], str | None]] = []
    attributes = event.get("Attribute") or []
    if not isinstance(attributes, list):
        raise InvalidInput("'Attribute' must be a list", where="$.Event.Attribute")
    found += [(f"$.Event.Attribute[{i}]", a, None) for i, a in enumerate(attributes)]
    objects = event.get("Object") or []
    if not isinstance(objects, list):
        raise InvalidInput("'Object' must be a list", where="$.Event.Object")
    for i, obj in enumerate(objects):
        if not isinstance(obj, Mapping):
            raise InvalidInput("a MISP object must be a JSON object", where=f"$.Event.Object[{i}]")
        inner = obj.get("Attribute") or []
        if not isinstance(inner, list):
            raise InvalidInput("'Attribute' must be a list", where=f"$.Event.Object[{i}].Attribute")
        name = obj.get("name") if isinstance(obj.get("name"), str) else None
        found += [(f"$.Event.Object[{i}].Attribute[{j}]", a, name) for j, a in enumerate(inner)]
    return found


def _truthy(value: object) -> bool:
    return value is True or value in (1, "1", "true", "True")


def misp_event_to_stix(
    document: Mapping[str, Any],
    *,
    container: Literal["report", "grouping"] = "report",
    created_by_ref: str | None = None,
    default_tlp: Tlp | None = None,
) -> tuple[list[dict[str, Any]], list[MispProblem]]:
    """STIX 2.1 objects for one MISP event, and the attributes that were not converted.

    Returns ``[identity?, indicator…, report|grouping]``; with no convertible attribute, no container
    is made (STIX requires a non-empty ``object_refs``) and the objects list holds only the identity.
    ``default_tlp`` marks objects of events that carry no TLP tag.
    """
    event = _event_of(document)
    event_uuid = event["uuid"].strip().lower()
    created, modified = _event_times(event)
    event_tlp, event_labels = _tlp_of_tags(event.get("Tag"))
    event_tlp = event_tlp if event_tlp is not None else default_tlp

    objects: list[dict[str, Any]] = []
    author = created_by_ref
    org = event.get("Orgc")
    if author is None and isinstance(org, Mapping) and isinstance(org.get("name"), str) and org["name"].strip():
        org_key = str(org.get("uuid") or org["name"]).strip().lower()
        author = "identity--" + stable_uuid("misp-organisation", org_key)
        objects.append(
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": author,
                "created": format_stix(created),
                "modified": format_stix(created),
                "name": org["name"].strip(),
                "identity_class": "organization",
            }
        )

    problems: list[MispProblem] = []
    indicators: list[dict[str, Any]] = []
    for index, (where, attribute, object_name) in enumerate(_attributes(event)):
        if not isinstance(attribute, Mapping):
            problems.append(MispProblem(index, "?", "attribute is not a JSON object", where))
            continue
        attribute_type = str(attribute.get("type", ""))
        if not _truthy(attribute.get("to_ids")) or _truthy(attribute.get("deleted")):
            continue
        try:
            indicators.append(
                _indicator(attribute, attribute_type, event_uuid, index, object_name, author, event_tlp, where)
            )
        except InvalidInput as e:
            problems.append(MispProblem(index, attribute_type, e.message, e.where or where))

    objects += indicators
    if indicators:
        objects.append(
            _container(event, event_uuid, container, created, modified, indicators, author, event_tlp, event_labels)
        )
    return objects, problems


def _indicator(
    attribute: Mapping[str, Any],
    attribute_type: str,
    event_uuid: str,
    index: int,
    object_name: str | None,
    author: str | None,
    event_tlp: Tlp | None,
    where: str,
) -> dict[str, Any]:
    builder = PATTERN_BUILDERS.get(attribute_type)
    if builder is None:
        raise InvalidInput(f"attribute type {attribute_type!r} has no STIX pattern mapping", where=where)
    value = attribute.get("value")
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("attribute has no value", where=f"{where}.value")
    try:
        pattern = builder(value.strip())
    except InvalidInput as e:
        raise InvalidInput(f"bad {attribute_type} value {value!r}: {e.message}", where=f"{where}.value") from e
    attribute_uuid = attribute.get("uuid")
    key = (
        str(attribute_uuid).strip().lower()
        if isinstance(attribute_uuid, str) and attribute_uuid.strip()
        else f"{event_uuid}/{attribute_type}/{value.strip()}"
    )
    stamp = _epoch(attribute.get("timestamp"), f"{where}.timestamp")
    if stamp is None:
        raise InvalidInput("attribute has no timestamp", where=f"{where}.timestamp")
    first_seen = _epoch(attribute.get("first_seen"), f"{where}.first_seen")
    last_seen = _epoch(attribute.get("last_seen"), f"{where}.last_seen")
    attribute_tlp, labels = _tlp_of_tags(attribute.get("Tag"))
    level = max((t for t in (event_tlp, attribute_tlp) if t is not None), default=None)
    category = attribute.get("category")
    name = f"{attribute_type}: {value.strip()}"
    if object_name:
        name = f"{object_name} / {name}"
    indicator: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--" + stable_uuid("misp-attribute", key),
        "created": format_stix(stamp),
        "modified": format_stix(stamp),
        "name": name[:256],
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": format_stix(first_seen or stamp),
        "external_references": [{"source_name": "misp", "external_id": key}],
    }
    if last_seen is not None and last_seen > (first_seen or stamp):
        indicator["valid_until"] = format_stix(last_seen)
    comment = attribute.get("comment")
    if isinstance(comment, str) and comment.strip():
        indicator["description"] = comment.strip()
    all_labels = ([f"misp:category={category}"] if isinstance(category, str) and category else []) + labels
    if all_labels:
        indicator["labels"] = all_labels
    if author:
        indicator["created_by_ref"] = author
    if level is not None:
        indicator["object_marking_refs"] = [level.marking_id]
    return indicator


def _container(
    event: Mapping[str, Any],
    event_uuid: str,
    container: str,
    created: datetime,
    modified: datetime,
    members: Sequence[Mapping[str, Any]],
    author: str | None,
    level: Tlp | None,
    labels: list[str],
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "type": container,
        "spec_version": "2.1",
        "id": f"{container}--" + stable_uuid("misp-event", event_uuid),
        "created": format_stix(created),
        "modified": format_stix(max(modified, *(parse_timestamp(m["modified"]) for m in members))),
        "name": event["info"].strip()[:1024],
        "object_refs": [m["id"] for m in members],
        "external_references": [{"source_name": "misp", "external_id": event_uuid}],
    }
    if container == "report":
        published = _epoch(event.get("publish_timestamp"), "$.Event.publish_timestamp")
        result["published"] = format_stix(published if published and published.timestamp() > 0 else created)
        result["report_types"] = ["threat-report"]
    else:
        result["context"] = "suspicious-activity"
    threat_level = event.get("threat_level_id")
    extra = [f"misp:threat-level={threat_level}"] if str(threat_level or "") in ("1", "2", "3", "4") else []
    if labels or extra:
        result["labels"] = extra + labels
    if author:
        result["created_by_ref"] = author
    if level is not None:
        result["object_marking_refs"] = [level.marking_id]
    return result


def _events_of(document: object) -> list[tuple[str, Mapping[str, Any]]]:
    """``(where, event document)`` for one event, ``{"Event": …}``, ``{"response": [...]}`` or a list."""
    if isinstance(document, Mapping) and isinstance(document.get("response"), list):
        return [(f"$.response[{i}]", item) for i, item in enumerate(document["response"])]
    if isinstance(document, list):
        return [(f"$[{i}]", item) for i, item in enumerate(document)]
    if isinstance(document, Mapping):
        return [("$", document)]
    raise InvalidInput("a MISP export must be a JSON object or array", where="$")


def misp_to_stix(
    document: object,
    *,
    container: Literal["report", "grouping"] = "report",
    created_by_ref: str | None = None,
    default_tlp: Tlp | str | None = None,
) -> tuple[list[dict[str, Any]], list[MispProblem]]:
    """Every event of a MISP export (one event, ``{"response": [...]}`` or a list) as STIX 2.1 objects.

    Problems carry a running attribute index across all events; objects shared by events (the same
    organisation identity) appear once.
    """
    level = Tlp.parse(default_tlp) if isinstance(default_tlp, str) else default_tlp
    objects: dict[str, dict[str, Any]] = {}
    problems: list[MispProblem] = []
    offset = 0
    for where, event in _events_of(document):
        if not isinstance(event, Mapping):
            raise InvalidInput("a MISP event must be a JSON object", where=where)
        try:
            found, event_problems = misp_event_to_stix(
                event, container=container, created_by_ref=created_by_ref, default_tlp=level
            )
        except InvalidInput as e:
            located = (e.where or "$").replace("$", where, 1)
            raise InvalidInput(e.message, where=located) from e
        for obj in found:
            objects.setdefault(obj["id"], obj)
        for problem in event_problems:
            problems.append(
                MispProblem(
                    problem.index + offset,
                    problem.attribute_type,
                    problem.reason,
                    problem.where.replace("$", where, 1),
                )
            )
        offset += len(_attributes(_event_of(event)))
    return list(objects.values()), problems
