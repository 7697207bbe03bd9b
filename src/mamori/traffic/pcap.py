"""Packet captures (classic pcap and pcapng) reduced to flows; only headers are read, never payload.

Formats: classic libpcap files (microsecond and nanosecond magic, either byte order) and pcapng
(draft-ietf-opsawg-pcapng: Section Header, Interface Description with ``if_tsresol``, Enhanced and
Simple Packet Blocks). Link types: Ethernet (1, with 802.1Q/802.1ad tags), raw IP (101, 228, 229),
BSD loopback (0, 108) and Linux cooked capture (113). Network/transport: IPv4, IPv6 (extension
headers skipped), TCP, UDP, ICMP, ICMPv6.

Packets are aggregated into bidirectional flows by 5-tuple; the originator is the sender of the first
packet. A flow ends after ``idle_timeout`` seconds without packets or once it has lasted
``active_timeout`` seconds (the next packet then starts a new flow), as NetFlow meters do (RFC 3954
section 3.2). Byte counts are IP-layer lengths, as NetFlow and IPFIX count them.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa

from mamori.errors import InvalidInput
from mamori.traffic.schema import MAX_TS, MIN_TS, OBSERVATION_SCHEMA, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP

LINKTYPE_NULL: Final = 0
LINKTYPE_ETHERNET: Final = 1
LINKTYPE_RAW: Final = 101
LINKTYPE_LOOP: Final = 108
LINKTYPE_LINUX_SLL: Final = 113
LINKTYPE_IPV4: Final = 228
LINKTYPE_IPV6: Final = 229

_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_PCAPNG_SHB: Final = 0x0A0D0D0A
_IPV6_EXTENSIONS: Final = frozenset({0, 43, 60, 51})
_IPV6_FRAGMENT: Final = 44


@dataclass(frozen=True)
class _Packet:
    ts: float
    linktype: int
    data: bytes
    index: int
    offset: int


def _read_classic(data: bytes, path: Path) -> Iterator[_Packet]:
    if len(data) < 24:
        raise InvalidInput("pcap global header truncated", where=f"{path}:0")
    endian, resolution = _PCAP_MAGIC[data[:4]]
    linktype = struct.unpack_from(endian + "I", data, 20)[0] & 0x0FFFFFFF
    header = struct.Struct(endian + "IIII")
    offset = 24
    index = 0
    n = len(data)
    while offset < n:
        if n - offset < 16:
            raise InvalidInput(f"packet record header truncated ({n - offset} bytes)", where=f"{path}:{offset}")
        sec, frac, incl, _orig = header.unpack_from(data, offset)
        if offset + 16 + incl > n:
            raise InvalidInput(f"packet {index} captured length {incl} overruns the file", where=f"{path}:{offset}")
        yield _Packet(sec + frac * resolution, linktype, data[offset + 16 : offset + 16 + incl], index, offset)
        offset += 16 + incl
        index += 1


def _read_pcapng(data: bytes, path: Path) -> Iterator[_Packet]:
    n = len(data)
    offset = 0
    endian = "<"
    interfaces: list[tuple[int, float]] = []
    index = 0
    while offset < n:
        if n - offset < 12:
            raise InvalidInput(f"pcapng block header truncated ({n - offset} bytes)", where=f"{path}:{offset}")
        block_type = struct.unpack_from(endian + "I", data, offset)[0]
        if block_type == _PCAPNG_SHB or struct.unpack_from("<I", data, offset)[0] == _PCAPNG_SHB:
            bom = data[offset + 8 : offset + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                endian = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                endian = ">"
            else:
                raise InvalidInput("pcapng byte-order magic not recognised", where=f"{path}:{offset + 8}")
            interfaces = []
            block_type = _PCAPNG_SHB
        length = struct.unpack_from(endian + "I", data, offset + 4)[0]
        if length < 12 or length % 4 or offset + length > n:
            raise InvalidInput(f"pcapng block length {length} invalid or overruns the file", where=f"{path}:{offset}")
        body = offset + 8
        end = offset + length - 4
        if block_type == 1:  # Interface Description Block
            if end - body < 8:
                raise InvalidInput("interface description block truncated", where=f"{path}:{offset}")
            linktype = struct.unpack_from(endian + "H", data, body)[0]
            resolution = 1e-6
            opt = body + 8
            while opt + 4 <= end:
                code, olen = struct.unpack_from(endian + "HH", data, opt)
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    tsresol = data[opt + 4]
                    resolution = 2.0 ** -(tsresol & 0x7F) if tsresol & 0x80 else 10.0**-tsresol
                opt += 4 + olen + ((-olen) % 4)
            interfaces.append((linktype, resolution))
        elif block_type == 6:  # Enhanced Packet Block
            if end - body < 20:
                raise InvalidInput("enhanced packet block truncated", where=f"{path}:{offset}")
            iface, ts_hi, ts_lo, captured, _orig = struct.unpack_from(endian + "IIIII", data, body)
            if iface >= len(interfaces):
                raise InvalidInput(f"packet refers to undeclared interface {iface}", where=f"{path}:{offset}")
            if body + 20 + captured > end:
                raise InvalidInput(f"packet captured length {captured} overruns its block", where=f"{path}:{offset}")
            linktype, resolution = interfaces[iface]
            ts = ((ts_hi << 32) | ts_lo) * resolution
            yield _Packet(ts, linktype, data[body + 20 : body + 20 + captured], index, offset)
            index += 1
        elif block_type == 3:  # Simple Packet Block (no timestamp)
            if not interfaces:
                raise InvalidInput("simple packet block before any interface", where=f"{path}:{offset}")
            orig = struct.unpack_from(endian + "I", data, body)[0]
            captured = min(orig, end - body - 4)
            yield _Packet(0.0, interfaces[0][0], data[body + 4 : body + 4 + captured], index, offset)
            index += 1
        offset += length


def read_packets(path: Path) -> Iterator[_Packet]:
    data = path.read_bytes()
    if data[:4] in _PCAP_MAGIC:
        return _read_classic(data, path)
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return _read_pcapng(data, path)
    raise InvalidInput("not a pcap or pcapng file (unknown magic number)", where=f"{path}:0")


def _network_layer(linktype: int, frame: bytes) -> tuple[int, int] | None:
    """(ethertype-like version, offset of the IP header) or None for non-IP frames."""
    if linktype == LINKTYPE_ETHERNET:
        if len(frame) < 14:
            return None
        off = 12
        ethertype = (frame[off] << 8) | frame[off + 1]
        while ethertype in (0x8100, 0x88A8) and len(frame) >= off + 6:
            off += 4
            ethertype = (frame[off] << 8) | frame[off + 1]
        off += 2
        return {0x0800: (4, off), 0x86DD: (6, off)}.get(ethertype)
    if linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
        if not frame:
            return None
        return (frame[0] >> 4, 0)
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        if len(frame) < 5:
            return None
        return (frame[4] >> 4, 4)
    if linktype == LINKTYPE_LINUX_SLL:
        if len(frame) < 16:
            return None
        proto = (frame[14] << 8) | frame[15]
        return {0x0800: (4, 16), 0x86DD: (6, 16)}.get(proto)
    return None


def _dissect(linktype: int, frame: bytes) -> tuple[int, int, int, int, int, int, int] | None:
    """(version, src, dst, proto, sport, dport, ip_length, tcp flags folded in high bits) or None."""
    found = _network_layer(linktype, frame)
    if found is None:
        return None
    version, off = found
    if version == 4:
        if len(frame) < off + 20:
            return None
        ihl = (frame[off] & 0x0F) * 4
        total = (frame[off + 2] << 8) | frame[off + 3]
        frag = ((frame[off + 6] & 0x1F) << 8) | frame[off + 7]
        proto = frame[off + 9]
        src = int.from_bytes(frame[off + 12 : off + 16], "big")
        dst = int.from_bytes(frame[off + 16 : off + 20], "big")
        l4 = off + ihl
        if frag:
            return (4, src, dst, proto, 0, 0, total)
    elif version == 6:
        if len(frame) < off + 40:
            return None
        total = ((frame[off + 4] << 8) | frame[off + 5]) + 40
        proto = frame[off + 6]
        src = int.from_bytes(frame[off + 8 : off + 24], "big")
        dst = int.from_bytes(frame[off + 24 : off + 40], "big")
        l4 = off + 40
        while proto in _IPV6_EXTENSIONS or proto == _IPV6_FRAGMENT:
            if len(frame) < l4 + 8:
                return (6, src, dst, proto, 0, 0, total)
            nxt = frame[l4]
            if proto == _IPV6_FRAGMENT:
                if ((frame[l4 + 2] << 8) | frame[l4 + 3]) & 0xFFF8:
                    return (6, src, dst, nxt, 0, 0, total)  # non-first fragment: no transport header
                l4 += 8
            elif proto == 51:
                l4 += (frame[l4 + 1] + 2) * 4
            else:
                l4 += (frame[l4 + 1] + 1) * 8
            proto = nxt
    else:
        return None
    sport = dport = flags = 0
    if proto in (PROTO_TCP, PROTO_UDP) and len(frame) >= l4 + 4:
        sport = (frame[l4] << 8) | frame[l4 + 1]
        dport = (frame[l4 + 2] << 8) | frame[l4 + 3]
        if proto == PROTO_TCP and len(frame) >= l4 + 14:
            flags = frame[l4 + 13]
    elif proto in (PROTO_ICMP, PROTO_ICMPV6) and len(frame) >= l4 + 2:
        sport, dport = frame[l4], frame[l4 + 1]
    return (version, src, dst, proto, sport, dport, total | (flags << 32))


def pcap_to_flows(path: Path, *, idle_timeout: float = 60.0, active_timeout: float = 1800.0) -> pa.Table:
    """Reduce a pcap/pcapng file to flows in OBSERVATION_SCHEMA. Non-IP frames are skipped."""
    if idle_timeout <= 0 or active_timeout <= 0:
        raise InvalidInput("timeouts must be positive", where="pcap flow timeouts")
    active: dict[tuple[int, int, int, int, int, int], int] = {}
    first: list[float] = []
    last: list[float] = []
    meta: list[tuple[int, int, int, int, int, int]] = []  # (version, src, dst, proto, sport, dport) of originator
    pkt_flow: list[int] = []
    pkt_out: list[bool] = []
    pkt_len: list[int] = []
    pkt_flags: list[int] = []
    for packet in read_packets(path):
        d = _dissect(packet.linktype, packet.data)
        if d is None:
            continue
        version, src, dst, proto, sport, dport, packed = d
        ts = packet.ts
        if not MIN_TS <= ts <= MAX_TS:
            raise InvalidInput(f"packet {packet.index} timestamp {ts!r} out of range", where=f"{path}:{packet.offset}")
        forward = (src, sport) <= (dst, dport)
        key = (version, proto, src, sport, dst, dport) if forward else (version, proto, dst, dport, src, sport)
        fid = active.get(key)
        if fid is not None and (ts - last[fid] > idle_timeout or ts - first[fid] >= active_timeout):
            fid = None
        if fid is None:
            fid = len(first)
            active[key] = fid
            first.append(ts)
            last.append(ts)
            meta.append((version, src, dst, proto, sport, dport))
        elif ts > last[fid]:
            last[fid] = ts
        m = meta[fid]
        pkt_flow.append(fid)
        pkt_out.append(m[1] == src and m[4] == sport)
        pkt_len.append(packed & 0xFFFFFFFF)
        pkt_flags.append(packed >> 32)
    return _flows_table(first, last, meta, pkt_flow, pkt_out, pkt_len, pkt_flags)


def _flows_table(
    first: list[float],
    last: list[float],
    meta: list[tuple[int, int, int, int, int, int]],
    pkt_flow: list[int],
    pkt_out: list[bool],
    pkt_len: list[int],
    pkt_flags: list[int],
) -> pa.Table:
    nflows = len(first)
    flow = np.asarray(pkt_flow, dtype=np.int64)
    out = np.asarray(pkt_out, dtype=bool)
    length = np.asarray(pkt_len, dtype=np.int64)
    bytes_out = np.bincount(flow[out], weights=length[out], minlength=nflows).astype(np.int64)
    bytes_in = np.bincount(flow[~out], weights=length[~out], minlength=nflows).astype(np.int64)
    pkts_out = np.bincount(flow[out], minlength=nflows).astype(np.int64)
    pkts_in = np.bincount(flow[~out], minlength=nflows).astype(np.int64)
    flags = np.zeros(nflows, dtype=np.int64)
    if len(flow):
        np.bitwise_or.at(flags, flow, np.asarray(pkt_flags, dtype=np.int64))
    protos = np.array([m[3] for m in meta], dtype=np.int16)

    def text(version: int, value: int) -> str:
        return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))

    n = nflows
    start = np.asarray(first, dtype=np.float64)
    columns = {
        "start_ts": start,
        "duration": np.asarray(last, dtype=np.float64) - start,
        "src_ip": pa.array([text(m[0], m[1]) for m in meta], pa.string()),
        "dst_ip": pa.array([text(m[0], m[2]) for m in meta], pa.string()),
        "src_ip_num": pa.array([m[1] if m[0] == 4 else None for m in meta], pa.int64()),
        "dst_ip_num": pa.array([m[2] if m[0] == 4 else None for m in meta], pa.int64()),
        "src_port": np.array([m[4] for m in meta], dtype=np.int32),
        "dst_port": np.array([m[5] for m in meta], dtype=np.int32),
        "proto": protos,
        "bytes_out": bytes_out,
        "bytes_in": bytes_in,
        "pkts_out": pkts_out,
        "pkts_in": pkts_in,
        "tcp_flags": pa.array(flags.astype(np.int16), pa.int16(), mask=protos != PROTO_TCP),
        "conn_state": pa.nulls(n, pa.string()),
        "dns_query": pa.nulls(n, pa.string()),
        "dns_rcode": pa.nulls(n, pa.int16()),
        "tls_sni": pa.nulls(n, pa.string()),
        "http_host": pa.nulls(n, pa.string()),
    }
    return pa.Table.from_pydict(columns, schema=OBSERVATION_SCHEMA)


# ---------------------------------------------------------------- writing (replays, conformance runs)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def build_frame(
    src: str,
    dst: str,
    proto: int,
    sport: int = 0,
    dport: int = 0,
    *,
    payload: bytes = b"",
    tcp_flags: int = 0x10,
    icmp_type: int = 8,
    icmp_code: int = 0,
) -> bytes:
    """An Ethernet frame carrying one IPv4 or IPv6 packet (TCP, UDP or ICMP) with valid checksums."""
    s = ipaddress.ip_address(src)
    d = ipaddress.ip_address(dst)
    if s.version != d.version:
        raise InvalidInput("source and destination address families differ", where=f"{src} -> {dst}")
    if proto == PROTO_TCP:
        l4 = struct.pack(">HHIIBBHHH", sport, dport, 1, 0, 5 << 4, tcp_flags, 65535, 0, 0) + payload
    elif proto == PROTO_UDP:
        l4 = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    elif proto in (PROTO_ICMP, PROTO_ICMPV6):
        l4 = struct.pack(">BBHI", icmp_type, icmp_code, 0, 0) + payload
        if s.version == 6:
            proto = PROTO_ICMPV6
    else:
        l4 = payload
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack(">BBH", 0, proto, len(l4))
    else:
        pseudo = s.packed + d.packed + struct.pack(">IxxxB", len(l4), proto)
    csum_at = {PROTO_TCP: 16, PROTO_UDP: 6, PROTO_ICMP: 2, PROTO_ICMPV6: 2}.get(proto)
    if csum_at is not None:
        body = l4 if proto == PROTO_ICMP else pseudo + l4
        l4 = l4[:csum_at] + struct.pack(">H", _checksum(body)) + l4[csum_at + 2 :]
    if s.version == 4:
        header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0, s.packed, d.packed)
        header = header[:10] + struct.pack(">H", _checksum(header)) + header[12:]
        ethertype = 0x0800
    else:
        header = struct.pack(">IHBB16s16s", 6 << 28, len(l4), proto, 64, s.packed, d.packed)
        ethertype = 0x86DD
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + struct.pack(">H", ethertype) + header + l4


def write_pcap(path: Path, packets: Iterable[tuple[float, bytes]], linktype: int = LINKTYPE_ETHERNET) -> None:
    """Write a classic (microsecond) pcap file of ``(timestamp, frame)`` pairs."""
    with path.open("wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for ts, frame in packets:
            sec = int(ts)
            usec = round((ts - sec) * 1e6)
            if usec >= 1_000_000:
                sec, usec = sec + 1, usec - 1_000_000
            fh.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            fh.write(frame)


def write_pcapng(path: Path, packets: Iterable[tuple[float, bytes]], linktype: int = LINKTYPE_ETHERNET) -> None:
    """Write a pcapng file (one interface, microsecond timestamps) of ``(timestamp, frame)`` pairs."""

    def block(kind: int, body: bytes) -> bytes:
        body += b"\0" * ((-len(body)) % 4)
        length = 12 + len(body)
        return struct.pack("<II", kind, length) + body + struct.pack("<I", length)

    with path.open("wb") as fh:
        fh.write(block(_PCAPNG_SHB, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        fh.write(block(1, struct.pack("<HHI", linktype, 0, 262144)))
        for ts, frame in packets:
            stamp = round(ts * 1e6)
            fh.write(
                block(
                    6,
                    struct.pack("<IIIII", 0, stamp >> 32, stamp & 0xFFFFFFFF, len(frame), len(frame)) + frame,
                )
            )
