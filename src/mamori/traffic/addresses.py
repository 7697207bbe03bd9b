"""IP address columns: numeric <-> canonical text, vectorised, and domestic address space membership.

Canonical text follows RFC 4291 section 2.2 / RFC 5952 (what :mod:`ipaddress` prints). IPv4 addresses
are also kept as their unsigned 32-bit value in an int64 column (null for IPv6) so that prefix tests run
as integer arithmetic.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mamori.errors import InvalidInput

_OCTET_TEXT = np.frombuffer(b"".join(str(i).encode().ljust(3, b"\0") for i in range(256)), dtype=np.uint8).reshape(
    256, 3
)
_OCTET_LEN = np.array([len(str(i)) for i in range(256)], dtype=np.int64)
_DICTIONARY_THRESHOLD = 2048


def _ipv4_text_direct(nums: npt.NDArray[np.uint32]) -> pa.StringArray:
    n = len(nums)
    octets = [((nums >> shift) & 255).astype(np.intp) for shift in (24, 16, 8, 0)]
    lengths = [_OCTET_LEN[o] for o in octets]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths[0] + lengths[1] + lengths[2] + lengths[3] + 3, out=offsets[1:])
    buf = np.full(int(offsets[-1]), ord("."), dtype=np.uint8)
    pos = offsets[:-1].astype(np.int64)
    for octet, length in zip(octets, lengths, strict=True):
        for j in range(3):
            has = length > j
            buf[(pos + j)[has]] = _OCTET_TEXT[octet[has], j]
        pos += length + 1
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))


def ipv4_text(nums: npt.NDArray[np.uint32]) -> pa.StringArray:
    """Dotted-quad text of IPv4 addresses given as unsigned 32-bit values."""
    nums = np.ascontiguousarray(nums, dtype=np.uint32)
    if len(nums) <= _DICTIONARY_THRESHOLD:
        return _ipv4_text_direct(nums)
    encoded = pc.dictionary_encode(pa.array(nums))
    dictionary = encoded.dictionary.to_numpy(zero_copy_only=False).astype(np.uint32)
    if len(dictionary) * 2 > len(nums):
        return _ipv4_text_direct(nums)
    return pc.take(_ipv4_text_direct(dictionary), encoded.indices)


def ipv6_text(raw: npt.NDArray[np.uint8]) -> pa.StringArray:
    """Canonical (RFC 5952) text of IPv6 addresses given as an (n, 16) array of bytes."""
    raw = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1, 16)
    if len(raw) == 0:
        return pa.array([], pa.string())
    keys = raw.view(np.dtype((np.void, 16))).ravel()
    uniq, inverse = np.unique(keys, return_inverse=True)
    texts = pa.array([str(ipaddress.IPv6Address(bytes(u))) for u in uniq], pa.string())
    return pc.take(texts, pa.array(inverse.ravel().astype(np.int64)))


def text_to_numbers(texts: pa.Array, where: str) -> tuple[pa.StringArray, pa.Int64Array]:
    """Canonicalise address text and derive the IPv4 numeric column (null for IPv6).

    Raises InvalidInput naming ``where`` and the row for text that is not an IP address.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    texts = texts.cast(pa.string())
    if texts.null_count:
        row = pc.indices_nonzero(pc.is_null(texts))[0].as_py()
        raise InvalidInput("address is unset", where=f"{where} row {row + 1}")
    encoded = pc.dictionary_encode(texts)
    canonical: list[str | None] = []
    numbers: list[int | None] = []
    for value in encoded.dictionary.to_pylist():
        try:
            addr = ipaddress.ip_address(value.split("%", 1)[0])
        except ValueError as e:
            rows = pc.indices_nonzero(pc.equal(texts, value)).to_pylist()
            raise InvalidInput(
                f"not an IP address: {value!r}",
                where=f"{where} row {rows[0] + 1 if rows else '?'}",
                detail={"value": value},
            ) from e
        canonical.append(str(addr))
        numbers.append(int(addr) if addr.version == 4 else None)
    indices = encoded.indices
    text_out = pc.take(pa.array(canonical, pa.string()), indices)
    num_out = pc.take(pa.array(numbers, pa.int64()), indices)
    return text_out, num_out


@dataclass(frozen=True)
class AddressSpace:
    """A set of IP prefixes (e.g. the domestic address space) with vectorised membership tests."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def from_prefixes(cls, prefixes: Iterable[str], where: str = "address space") -> AddressSpace:
        nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for i, prefix in enumerate(prefixes):
            try:
                nets.append(ipaddress.ip_network(prefix.strip(), strict=False))
            except ValueError as e:
                raise InvalidInput(f"not an IP prefix: {prefix!r}", where=f"{where}[{i}]") from e
        return cls(tuple(nets))

    def contains(self, texts: pa.Array, numbers: pa.Array) -> npt.NDArray[np.bool_]:
        """Membership of each address; IPv4 tested numerically, IPv6 per distinct address."""
        n = len(texts)
        out = np.zeros(n, dtype=bool)
        if n == 0 or not self.networks:
            return out
        is_v4 = np.asarray(pc.is_valid(numbers).to_numpy(zero_copy_only=False), dtype=bool)
        nums = np.asarray(numbers.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
        for net in self.networks:
            if net.version == 4:
                mask = int(net.netmask)
                out |= is_v4 & ((nums & mask) == int(net.network_address))
        v6_nets = [net for net in self.networks if net.version == 6]
        if v6_nets and not is_v4.all():
            v6_rows = np.flatnonzero(~is_v4)
            v6_texts = pc.take(texts, pa.array(v6_rows))
            encoded = pc.dictionary_encode(v6_texts)
            member = np.array(
                [_in_any(ipaddress.IPv6Address(t), v6_nets) for t in encoded.dictionary.to_pylist()],
                dtype=bool,
            )
            out[v6_rows] = member[encoded.indices.to_numpy(zero_copy_only=False)]
        return out

    def covers_any(self, addresses: Sequence[str]) -> bool:
        return any(_in_any(ipaddress.ip_address(a), self.networks) for a in addresses)


def _in_any(
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address,
    nets: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> bool:
    return any(addr.version == net.version and addr in net for net in nets)
