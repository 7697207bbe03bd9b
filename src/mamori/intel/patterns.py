"""Observable values in STIX 2.1 patterns: parse, extract for indexing, and build patterns for values.

Implements the STIX Patterning grammar of STIX 2.1 (OASIS CS, section 9) with a small recursive-descent
parser: observation expressions joined by AND / OR / FOLLOWEDBY, qualifiers (START/STOP, WITHIN,
REPEATS), comparison expressions joined by AND / OR with NOT, every comparison operator and every
literal form (string, integer, float, boolean, ``t''``, ``h''``, ``b''``, sets for IN). It is what the
store and the fast path of :mod:`mamori.intel.validate` use, because the reference ANTLR parser
(``stix2patterns``) costs about half a millisecond per pattern; the tests check that both agree.

Extraction returns the values that an equality (``=``, ``IN``) or a subnet test (``ISSUBSET``) pins
down on a known observable path, normalised so that lookups are exact:

=============  ===========================================================  ===========================
kind           STIX object path(s)                                          normal form
=============  ===========================================================  ===========================
ipv4 / ipv6    ``ipv4-addr:value``, ``ipv6-addr:value``, ``*_ref.value``    RFC 5952 text
ipv4-cidr /    the same paths with a prefix length, or ``ISSUBSET``         network address/prefix
ipv6-cidr                                                                   (a /32 or /128 is an ip)
domain         ``domain-name:value``                                        lowercase A-label, no
                                                                            trailing dot
url            ``url:value``                                                scheme and host lowercase
email          ``email-addr:value``, ``email-message:*_ref(s).value``       domain part lowercase
md5 … sha512   ``file:hashes.<MD5 | 'SHA-1' | 'SHA-256' | 'SHA-512'>``      lowercase hex
port           ``network-traffic:dst_port``                                 decimal
asn            ``autonomous-system:number``                                 decimal
=============  ===========================================================  ===========================

Negated comparisons (``NOT =``, ``!=``) pin nothing down and are not extracted; a value that does not
fit its kind (``ipv4-addr:value = 'x'``) is skipped, since the pattern is still valid STIX.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, NamedTuple, get_args
from urllib.parse import urlsplit, urlunsplit

from mamori.errors import InvalidInput
from mamori.kernel.ids import stable_uuid
from mamori.kernel.timefmt import format_stix

ObservableKind = Literal[
    "ipv4",
    "ipv6",
    "ipv4-cidr",
    "ipv6-cidr",
    "domain",
    "url",
    "email",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "port",
    "asn",
]

OBSERVABLE_KINDS: Final[frozenset[str]] = frozenset(get_args(ObservableKind))

HASH_KINDS: Final[frozenset[str]] = frozenset({"md5", "sha1", "sha256", "sha512"})


class Observable(NamedTuple):
    """One indexable value: ``(kind, value)`` with ``value`` in the normal form of its kind."""

    kind: str
    value: str


# --------------------------------------------------------------------------------------------------
# Normalisation of single values
# --------------------------------------------------------------------------------------------------

_HASH_LENGTHS: Final[dict[str, int]] = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _bad(kind: str, value: object, reason: str, where: str | None) -> InvalidInput:
    return InvalidInput(f"not a valid {kind} value {value!r}: {reason}", where=where)


def _normalise_domain(value: str, where: str | None) -> str:
    text = value.strip().rstrip(".").lower()
    if not text:
        raise _bad("domain", value, "empty", where)
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError as e:
            raise _bad("domain", value, "not encodable as IDNA", where) from e
    if len(text) > 253:
        raise _bad("domain", value, "longer than 253 characters", where)
    for label in text.split("."):
        if not _LABEL.match(label):
            raise _bad("domain", value, f"bad label {label!r}", where)
    if text.rsplit(".", 1)[-1].isdigit():
        raise _bad("domain", value, "the top-level label is numeric (RFC 3696 section 2)", where)
    return text


def _normalise_url(value: str, where: str | None) -> str:
    text = value.strip()
    if _CONTROL.search(text):
        raise _bad("url", value, "contains whitespace or control characters", where)
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
        port = parts.port
    except ValueError as e:
        raise _bad("url", value, str(e), where) from e
    if not parts.scheme or not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*$", parts.scheme):
        raise _bad("url", value, "no scheme", where)
    if not parts.netloc or not hostname:
        raise _bad("url", value, "no host", where)
    userinfo, _, _ = parts.netloc.rpartition("@")
    host = hostname
    if ":" in host:
        host = f"[{ipaddress.ip_address(host).compressed}]" if _is_ip(host) else f"[{host}]"
    netloc = (userinfo + "@" if userinfo else "") + host + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _normalise_email(value: str, where: str | None) -> str:
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not _EMAIL_LOCAL.match(local) or local.startswith(".") or ".." in local:
        raise _bad("email", value, "bad local part", where)
    try:
        domain = _normalise_domain(domain, where)
    except InvalidInput as e:
        raise _bad("email", value, "bad domain part", where) from e
    if "." not in domain:
        raise _bad("email", value, "domain part has no dot", where)
    return f"{local}@{domain}"


_DOTTED_QUAD = re.compile(r"^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$")


def _ipv4_int(text: str) -> int:
    a, b, c, d = text.split(".")
    return (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)


def _normalise_ip(kind: str, value: str, where: str | None) -> str:
    text = value.strip()
    if kind == "ipv4" and _DOTTED_QUAD.match(text):
        return text  # already canonical: no leading zeros, four decimal octets in range
    try:
        address = ipaddress.IPv4Address(text) if kind == "ipv4" else ipaddress.IPv6Address(text)
    except ValueError as e:
        raise _bad(kind, value, str(e), where) from e
    return address.compressed


def _normalise_cidr(kind: str, value: str, where: str | None) -> str:
    text = value.strip()
    if "/" not in text:
        raise _bad(kind, value, "no prefix length", where)
    try:
        network = (
            ipaddress.IPv4Network(text, strict=False)
            if kind == "ipv4-cidr"
            else ipaddress.IPv6Network(text, strict=False)
        )
    except ValueError as e:
        raise _bad(kind, value, str(e), where) from e
    return network.with_prefixlen


def _normalise_number(kind: str, value: str, upper: int, where: str | None) -> str:
    text = value.strip()
    if kind == "asn" and text[:2].upper() == "AS":
        text = text[2:]
    if not text.isdigit() or not text.isascii():
        raise _bad(kind, value, "not a decimal number", where)
    number = int(text)
    if number > upper:
        raise _bad(kind, value, f"larger than {upper}", where)
    return str(number)


def normalise(kind: str, value: str, *, where: str | None = None) -> str:
    """The normal form of ``value`` as a ``kind`` observable; :class:`InvalidInput` when it is not one."""
    if not isinstance(value, str):
        raise _bad(kind, value, "not a string", where)
    if kind in ("ipv4", "ipv6"):
        return _normalise_ip(kind, value, where)
    if kind in ("ipv4-cidr", "ipv6-cidr"):
        return _normalise_cidr(kind, value, where)
    if kind == "domain":
        return _normalise_domain(value, where)
    if kind == "url":
        return _normalise_url(value, where)
    if kind == "email":
        return _normalise_email(value, where)
    if kind in _HASH_LENGTHS:
        text = value.strip()
        if len(text) != _HASH_LENGTHS[kind] or not _HEX.match(text):
            raise _bad(kind, value, f"expected {_HASH_LENGTHS[kind]} hexadecimal digits", where)
        return text.lower()
    if kind == "port":
        return _normalise_number(kind, value, 65535, where)
    if kind == "asn":
        return _normalise_number(kind, value, 4294967295, where)
    raise InvalidInput(f"unknown observable kind {kind!r}", where=where)


def observable(kind: str, value: str, *, where: str | None = None) -> Observable:
    """A normalised observable; an IP network of full prefix length becomes the single address."""
    text = normalise(kind, value, where=where)
    if kind in ("ipv4-cidr", "ipv6-cidr"):
        address, _, prefix = text.partition("/")
        if int(prefix) == (32 if kind == "ipv4-cidr" else 128):
            return Observable(kind[:4], address)
    return Observable(kind, text)


_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_SHA512 = re.compile(r"^[0-9a-fA-F]{128}$")
_DOMAINISH = re.compile(r"^[^\s/@:]+\.[^\s/@:.]+\.?$")


def detect_kind(value: str) -> str | None:
    """Guess the kind of a bare value (IP, CIDR, URL, e-mail, hash, domain); None when it is none."""
    text = value.strip()
    if not text:
        return None
    for kind, regex in (("md5", _MD5), ("sha1", _SHA1), ("sha256", _SHA256), ("sha512", _SHA512)):
        if regex.match(text):
            return kind
    candidates: list[str] = []
    if "/" in text and "://" not in text:
        candidates = ["ipv4-cidr", "ipv6-cidr"]
    elif "://" in text:
        candidates = ["url"]
    elif "@" in text:
        candidates = ["email"]
    elif ":" in text:
        candidates = ["ipv6"]
    elif _DOMAINISH.match(text):
        candidates = ["ipv4", "domain"] if text.replace(".", "").isdigit() else ["domain"]
    for kind in candidates:
        try:
            normalise(kind, text)
        except InvalidInput:
            continue
        return kind
    return None


def ip_bounds(kind: str, value: str) -> tuple[int, int] | None:
    """First and last IPv4 address of an ``ipv4`` / ``ipv4-cidr`` value as integers; None for other kinds."""
    if kind == "ipv4":
        text = value.strip()
        number = _ipv4_int(text) if _DOTTED_QUAD.match(text) else int(ipaddress.IPv4Address(text))
        return number, number
    if kind == "ipv4-cidr":
        network = ipaddress.IPv4Network(value.strip(), strict=False)
        return int(network.network_address), int(network.broadcast_address)
    return None


# --------------------------------------------------------------------------------------------------
# Building patterns
# --------------------------------------------------------------------------------------------------


def quote(text: str) -> str:
    """A STIX pattern string literal: single quotes, with ``\\`` and ``'`` escaped (STIX 2.1 §9.5)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_HASH_PATHS: Final[dict[str, str]] = {
    "md5": "file:hashes.MD5",
    "sha1": "file:hashes.'SHA-1'",
    "sha256": "file:hashes.'SHA-256'",
    "sha512": "file:hashes.'SHA-512'",
}


def pattern_for(kind: str, value: str) -> str:
    """The STIX pattern that matches one observable value (normalised first)."""
    obs = observable(kind, value)
    kind, text = obs.kind, obs.value
    if kind in ("ipv4", "ipv6"):
        return f"[{kind}-addr:value = {quote(text)}]"
    if kind in ("ipv4-cidr", "ipv6-cidr"):
        return f"[{kind[:4]}-addr:value ISSUBSET {quote(text)}]"
    if kind == "domain":
        return f"[domain-name:value = {quote(text)}]"
    if kind == "url":
        return f"[url:value = {quote(text)}]"
    if kind == "email":
        return f"[email-addr:value = {quote(text)}]"
    if kind in _HASH_PATHS:
        return f"[{_HASH_PATHS[kind]} = {quote(text)}]"
    if kind == "port":
        return f"[network-traffic:dst_port = {text}]"
    return f"[autonomous-system:number = {text}]"


def indicator_id_for(kind: str, value: str) -> str:
    """A deterministic indicator id (UUIDv5 over kind and normal value): re-importing gives the same id."""
    obs = observable(kind, value)
    return "indicator--" + stable_uuid("indicator", obs.kind, obs.value)


def indicator_for(
    kind: str,
    value: str,
    *,
    created: datetime,
    name: str | None = None,
    description: str | None = None,
    confidence: int | None = None,
    valid_until: datetime | None = None,
    labels: tuple[str, ...] | list[str] = (),
    created_by_ref: str | None = None,
    object_marking_refs: tuple[str, ...] | list[str] = (),
    indicator_id: str | None = None,
) -> dict[str, Any]:
    """A STIX 2.1 indicator (plain dict) for one value, with a deterministic id unless one is given."""
    obs = observable(kind, value)
    stamp = format_stix(created)
    result: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id or indicator_id_for(obs.kind, obs.value),
        "created": stamp,
        "modified": stamp,
        "name": name or f"{obs.kind}: {obs.value}",
        "pattern": pattern_for(obs.kind, obs.value),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": stamp,
    }
    if description:
        result["description"] = description
    if confidence is not None:
        if not 0 <= confidence <= 100:
            raise InvalidInput(f"confidence must be 0..100, got {confidence}", where="confidence")
        result["confidence"] = confidence
    if valid_until is not None:
        if valid_until <= created:
            raise InvalidInput("valid_until must be after valid_from", where="valid_until")
        result["valid_until"] = format_stix(valid_until)
    if labels:
        result["labels"] = list(labels)
    if created_by_ref:
        result["created_by_ref"] = created_by_ref
    if object_marking_refs:
        result["object_marking_refs"] = list(object_marking_refs)
    return result


# --------------------------------------------------------------------------------------------------
# Parsing patterns (STIX 2.1 section 9)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """One comparison expression: ``object_type:path op value`` (value already decoded).

    ``path`` holds property names, ``"*"`` for ``[*]`` and ``"[n]"`` for a list index.
    """

    object_type: str
    path: tuple[str, ...]
    operator: str
    negated: bool
    values: tuple[object, ...]


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>'(?:[^'\\]|\\['\\])*')
  | (?P<ts>t'\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])
           T(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?Z')
  | (?P<hex>h'(?:[0-9a-fA-F]{2})*')
  | (?P<bin>b'(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?')
  | (?P<float>[+-]?\d*\.\d+)
  | (?P<int>[+-]?(?:0|[1-9]\d*))
  | (?P<op><=|>=|!=|<>|==|=|<|>)
  | (?P<punct>[\[\]():,])
  | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<star>\*)
  | (?P<dot>\.)
    """,
    re.VERBOSE,
)

_KEYWORDS: Final[frozenset[str]] = frozenset(
    {
        "AND",
        "OR",
        "NOT",
        "FOLLOWEDBY",
        "LIKE",
        "MATCHES",
        "ISSUBSET",
        "ISSUPERSET",
        "IN",
        "EXISTS",
        "START",
        "STOP",
        "WITHIN",
        "SECONDS",
        "REPEATS",
        "TIMES",
        "true",
        "false",
    }
)

_PROPERTY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Token(NamedTuple):
    kind: str
    text: str
    offset: int


def _tokenise(pattern: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(pattern):
        match = _TOKEN.match(pattern, position)
        if match is None or match.lastgroup is None:
            raise InvalidInput(f"unexpected character {pattern[position]!r} in pattern", where=f"pattern:{position}")
        if match.lastgroup != "ws":
            tokens.append(_Token(match.lastgroup, match.group(), position))
        position = match.end()
    return tokens


# Hash algorithm names as the STIX 2.1 hash-algorithm-ov vocabulary writes them, compared without
# hyphens and case, with the number of hexadecimal digits each digest has.
_HASH_DIGITS: Final[dict[str, tuple[int, ...]]] = {
    "MD5": (32,),
    "MD6": (32, 40, 56, 64, 96, 128),
    "RIPEMD160": (40,),
    "SHA1": (40,),
    "SHA224": (56,),
    "SHA256": (64,),
    "SHA384": (96,),
    "SHA512": (128,),
    "SHA3224": (56,),
    "SHA3256": (64,),
    "SHA3384": (96,),
    "SHA3512": (128,),
    "WHIRLPOOL": (128,),
}
_SSDEEP = re.compile(r"^[a-zA-Z0-9/+:.]{1,128}$")


def hash_value_ok(algorithm: str, value: str) -> bool:
    """Whether ``value`` has the form of an ``algorithm`` digest (unknown algorithms: any string)."""
    name = algorithm.upper().replace("-", "")
    if name == "SSDEEP":
        return bool(_SSDEEP.match(value))
    digits = _HASH_DIGITS.get(name)
    if digits is None:
        return True
    return len(value) in digits and bool(_HEX.match(value))


def _check_hash_values(path: tuple[str, ...], values: tuple[object, ...], offset: int) -> None:
    if "hashes" not in path or path[-1] == "*":
        return
    if path[-1].startswith("["):
        raise InvalidInput("'hashes' is a dictionary: select a hash by name, not by index", where=f"pattern:{offset}")
    for value in values:
        if isinstance(value, str) and not hash_value_ok(path[-1], value):
            raise InvalidInput(f"{value!r} is not a valid {path[-1]} hash", where=f"pattern:{offset}")


def _unquote(literal: str) -> str:
    return re.sub(r"\\(['\\])", r"\1", literal[1:-1])


class _Parser:
    """Recursive descent over the token list; every error names the character offset."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.tokens = _tokenise(pattern)
        self.index = 0
        self.comparisons: list[Comparison] = []

    # token access -----------------------------------------------------------------------------
    def _peek(self, ahead: int = 0) -> _Token | None:
        position = self.index + ahead
        return self.tokens[position] if position < len(self.tokens) else None

    def _fail(self, expected: str) -> InvalidInput:
        token = self._peek()
        if token is None:
            return InvalidInput(f"pattern ends early: expected {expected}", where=f"pattern:{len(self.pattern)}")
        return InvalidInput(f"expected {expected}, found {token.text!r}", where=f"pattern:{token.offset}")

    def _is(self, text: str, ahead: int = 0) -> bool:
        token = self._peek(ahead)
        return token is not None and token.text == text and token.kind in ("word", "punct", "op", "star")

    def _take(self, text: str) -> _Token:
        if not self._is(text):
            raise self._fail(repr(text))
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _take_kind(self, kind: str, expected: str) -> _Token:
        token = self._peek()
        if token is None or token.kind != kind:
            raise self._fail(expected)
        self.index += 1
        return token

    # grammar ----------------------------------------------------------------------------------
    def parse(self) -> list[Comparison]:
        if not self.tokens:
            raise InvalidInput("empty pattern", where="pattern:0")
        self._observation_or()
        if self._peek() is not None:
            raise self._fail("AND, OR, FOLLOWEDBY or the end of the pattern")
        return self.comparisons

    def _observation_or(self) -> None:
        self._observation_and()
        while self._is("OR"):
            self.index += 1
            self._observation_and()

    def _observation_and(self) -> None:
        self._observation_sequence()
        while self._is("AND"):
            self.index += 1
            self._observation_sequence()

    def _observation_sequence(self) -> None:
        self._qualified_observation()
        while self._is("FOLLOWEDBY"):
            self.index += 1
            self._qualified_observation()

    def _qualified_observation(self) -> None:
        simple = self._is("[")
        if simple:
            self.index += 1
            self._comparison_or()
            self._take("]")
        elif self._is("("):
            self.index += 1
            self._observation_or()
            self._take(")")
        else:
            raise self._fail("'[' or '('")
        applied: set[str] = set()
        while True:
            token = self._peek()
            if token is not None and token.text in ("START", "WITHIN", "REPEATS") and token.kind == "word":
                if simple and token.text in applied:
                    raise InvalidInput(
                        f"qualifier {token.text} applied twice to one observation",
                        where=f"pattern:{token.offset}",
                    )
                applied.add(token.text)
            if self._is("START"):
                self.index += 1
                self._take_kind("ts", "a t'...' timestamp")
                self._take("STOP")
                self._take_kind("ts", "a t'...' timestamp")
            elif self._is("WITHIN"):
                self.index += 1
                token = self._peek()
                if token is None or token.kind not in ("int", "float") or token.text.startswith("-"):
                    raise self._fail("a number of seconds")
                self.index += 1
                self._take("SECONDS")
            elif self._is("REPEATS"):
                self.index += 1
                token = self._take_kind("int", "a number of repetitions")
                if token.text.startswith("-"):
                    raise InvalidInput("REPEATS needs a non-negative integer", where=f"pattern:{token.offset}")
                self._take("TIMES")
            else:
                return

    def _comparison_or(self) -> None:
        self._comparison_and()
        while self._is("OR"):
            self.index += 1
            self._comparison_and()

    def _comparison_and(self) -> None:
        self._comparison()
        while self._is("AND"):
            self.index += 1
            self._comparison()

    def _comparison(self) -> None:
        if self._is("("):
            self.index += 1
            self._comparison_or()
            self._take(")")
            return
        if self._is("EXISTS"):
            self.index += 1
            self._object_path()
            return
        object_type, path = self._object_path()
        negated = False
        if self._is("NOT"):
            negated = True
            self.index += 1
        token = self._peek()
        if token is None:
            raise self._fail("a comparison operator")
        operator = token.text
        if token.kind == "op":
            operator = "=" if operator == "==" else operator
            self.index += 1
            values: tuple[object, ...] = (self._literal(),)
        elif token.kind == "word" and operator in ("LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"):
            self.index += 1
            values = (_unquote(self._take_kind("str", "a string literal").text),)
        elif token.kind == "word" and operator == "IN":
            self.index += 1
            values = self._set()
        else:
            raise self._fail("a comparison operator")
        _check_hash_values(path, values, token.offset)
        self.comparisons.append(Comparison(object_type, path, operator, negated, values))

    def _object_path(self) -> tuple[str, tuple[str, ...]]:
        first = self._peek()
        if first is None or first.kind != "word" or first.text in _KEYWORDS:
            raise self._fail("an object path such as ipv4-addr:value")
        self.index += 1
        object_type = first.text
        self._take(":")
        path: list[str] = [self._path_component()]
        while True:
            if self._is("["):
                self.index += 1
                token = self._peek()
                if token is not None and token.kind == "star":
                    self.index += 1
                    path.append("*")
                elif token is not None and token.kind == "int" and not token.text.startswith(("+", "-")):
                    self.index += 1
                    path.append(f"[{token.text}]")
                else:
                    raise self._fail("'*' or an index")
                self._take("]")
            elif (following := self._peek()) is not None and following.kind == "dot":
                self.index += 1
                path.append(self._path_component())
            else:
                return object_type, tuple(path)

    def _path_component(self) -> str:
        token = self._peek()
        if token is not None and token.kind == "word" and token.text not in _KEYWORDS and _PROPERTY.match(token.text):
            self.index += 1
            return token.text
        if token is not None and token.kind == "str":
            self.index += 1
            return _unquote(token.text)
        raise self._fail("a property name")

    def _literal(self) -> object:
        token = self._peek()
        if token is None:
            raise self._fail("a literal")
        self.index += 1
        if token.kind == "str":
            return _unquote(token.text)
        if token.kind == "int":
            return int(token.text)
        if token.kind == "float":
            return float(token.text)
        if token.kind in ("ts", "hex", "bin"):
            return token.text
        if token.kind == "word" and token.text in ("true", "false"):
            return token.text == "true"
        self.index -= 1
        raise self._fail("a literal")

    def _set(self) -> tuple[object, ...]:
        self._take("(")
        if self._is(")"):
            self.index += 1
            return ()
        values = [self._literal()]
        while self._is(","):
            self.index += 1
            values.append(self._literal())
        self._take(")")
        return tuple(values)


# The overwhelmingly common shape, ``[type:value = '...']`` or ``[file:hashes.'SHA-256' = '...']``, is
# recognised by one regular expression; everything else goes through the full parser. Tests check both agree.
_SIMPLE = re.compile(
    r"^\[(ipv4-addr|ipv6-addr|domain-name|url|email-addr|mac-addr|file|artifact):"
    r"(value|hashes\.'([A-Za-z0-9-]+)'|hashes\.([A-Za-z_][A-Za-z0-9_]*))"
    r" = '((?:[^'\\]|\\['\\])*)'\]$"
)
_UNESCAPE = re.compile(r"\\(['\\])")


def _parse_simple(pattern: str) -> list[Comparison] | None:
    m = _SIMPLE.match(pattern)
    if m is None:
        return None
    object_type, path_text, quoted_hash, bare_hash, literal = m.groups()
    if path_text == "value":
        if object_type in ("file", "artifact"):
            return None
        path: tuple[str, ...] = ("value",)
    else:
        if object_type not in ("file", "artifact"):
            return None
        path = ("hashes", quoted_hash or bare_hash)
    value = _UNESCAPE.sub(r"\1", literal) if "\\" in literal else literal
    return [Comparison(object_type=object_type, path=path, operator="=", negated=False, values=(value,))]


def parse_pattern(pattern: str) -> list[Comparison]:
    """Every comparison of a STIX 2.1 pattern; :class:`InvalidInput` with the offset of a syntax error."""
    if not isinstance(pattern, str):
        raise InvalidInput("pattern must be a string", where="pattern")
    simple = _parse_simple(pattern)
    if simple is not None:
        _check_hash_values_simple(simple[0])
        return simple
    return _Parser(pattern).parse()


def _check_hash_values_simple(comparison: Comparison) -> None:
    if comparison.path[0] == "hashes":
        _check_hash_values(comparison.path, comparison.values, 0)


def parse_pattern_slow(pattern: str) -> list[Comparison]:
    """The full parser only (tests compare it with the fast path)."""
    return _Parser(pattern).parse()


def check_pattern(pattern: str) -> None:
    """Raise :class:`InvalidInput` unless ``pattern`` is a syntactically valid STIX 2.1 pattern."""
    parse_pattern(pattern)


_EMAIL_PATHS: Final[frozenset[tuple[str, ...]]] = frozenset(
    {
        ("from_ref", "value"),
        ("sender_ref", "value"),
        ("to_refs", "*", "value"),
        ("cc_refs", "*", "value"),
        ("bcc_refs", "*", "value"),
    }
)
_HASH_NAMES: Final[dict[str, str]] = {
    "md5": "md5",
    "sha-1": "sha1",
    "sha1": "sha1",
    "sha-256": "sha256",
    "sha256": "sha256",
    "sha-512": "sha512",
    "sha512": "sha512",
}


def _ip_observable(text: str, hint: str | None) -> Observable | None:
    candidates = [hint] if hint else ["ipv4", "ipv6"]
    for family in candidates:
        kind = f"{family}-cidr" if "/" in text else family
        try:
            return observable(kind, text)
        except InvalidInput:
            continue
    return None


def _observables_of_comparison(comparison: Comparison) -> list[Observable]:
    if comparison.negated or comparison.operator not in ("=", "IN", "ISSUBSET"):
        return []
    object_type, path = comparison.object_type, comparison.path
    found: list[Observable] = []
    for value in comparison.values:
        candidate: Observable | None = None
        try:
            if object_type in ("ipv4-addr", "ipv6-addr") and path == ("value",) and isinstance(value, str):
                candidate = _ip_observable(value, object_type[:4])
            elif comparison.operator == "ISSUBSET":
                candidate = None
            elif path[-1:] == ("value",) and path[0].endswith(("_ref", "_refs")) and isinstance(value, str):
                if object_type == "email-message" and path in _EMAIL_PATHS:
                    candidate = observable("email", value)
                elif object_type in ("network-traffic", "domain-name"):
                    candidate = _ip_observable(value, None)
            elif object_type == "domain-name" and path == ("value",) and isinstance(value, str):
                candidate = observable("domain", value)
            elif object_type == "url" and path == ("value",) and isinstance(value, str):
                candidate = observable("url", value)
            elif object_type == "email-addr" and path == ("value",) and isinstance(value, str):
                candidate = observable("email", value)
            elif (
                object_type in ("file", "artifact")
                and len(path) == 2
                and path[0] == "hashes"
                and path[1].lower() in _HASH_NAMES
                and isinstance(value, str)
            ):
                candidate = observable(_HASH_NAMES[path[1].lower()], value)
            elif object_type == "network-traffic" and path == ("dst_port",) and isinstance(value, int):
                candidate = observable("port", str(value))
            elif object_type == "autonomous-system" and path == ("number",) and isinstance(value, int):
                candidate = observable("asn", str(value))
        except InvalidInput:
            candidate = None  # valid STIX, but the value does not fit its kind: nothing to index
        if candidate is not None:
            found.append(candidate)
    return found


def observables_in_pattern(pattern: str) -> list[Observable]:
    """The distinct indexable observables of a STIX pattern, in order of appearance."""
    return observables_in_comparisons(parse_pattern(pattern))


def observables_in_comparisons(comparisons: Iterable[Comparison]) -> list[Observable]:
    """The distinct indexable observables of a parsed pattern, in order of appearance."""
    seen: dict[Observable, None] = {}
    for comparison in comparisons:
        for found in _observables_of_comparison(comparison):
            seen.setdefault(found, None)
    return list(seen)


def observables_of(indicator: Mapping[str, Any]) -> list[Observable]:
    """The indexable observables of a STIX indicator; empty for pattern languages other than STIX."""
    if indicator.get("pattern_type", "stix") != "stix":
        return []
    pattern = indicator.get("pattern")
    if not isinstance(pattern, str):
        raise InvalidInput("indicator has no pattern", where=f"{indicator.get('id', 'indicator')}.pattern")
    try:
        return observables_in_pattern(pattern)
    except InvalidInput as e:
        where = f"{indicator.get('id', 'indicator')}.{e.where or 'pattern'}"
        raise InvalidInput(e.message, where=where) from e
