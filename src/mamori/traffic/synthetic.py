"""Seeded synthetic flow days with planted hostile behaviour, for detector conformance tests and benchmarks.

A day holds benign background (domestic hosts in 10.0.0.0/8 talking to a Zipf-popular pool of foreign servers
at Poisson times, with heavy-tailed sizes, a few failed connections and ordinary DNS) plus, when asked, one of
each planted behaviour: timer-driven beacons (by address and by TLS server name), fan-in C2, a horizontal and a
vertical scan, a DGA NXDOMAIN burst, a DNS tunnel and a long connection. Everything derives from the seed, so
the same arguments always give the same table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from mamori.errors import InvalidInput
from mamori.traffic.addresses import ipv4_text
from mamori.traffic.detect.model import FindingKind
from mamori.traffic.schema import FLOW_SCHEMA

DAY = 86400.0
DEFAULT_START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
_DOMESTIC_BASE = 10 << 24  # 10.0.0.0/8
_RESOLVER = (10 << 24) | (255 << 8) | 53  # 10.0.255.53


@dataclass(frozen=True)
class Planted:
    """One planted behaviour and the endpoints a detector should report for it."""

    kind: FindingKind
    src: str | None
    dst: str | None = None
    dst_name: str | None = None
    dst_port: int | None = None


@dataclass(frozen=True)
class SyntheticDay:
    table: pa.Table
    planted: tuple[Planted, ...]
    benign_hosts: frozenset[str]
    start: float
    end: float
    planted_hosts: frozenset[str] = field(default=frozenset())


def _ip(n: int) -> str:
    return f"{(n >> 24) & 255}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


class _Builder:
    """Accumulates column chunks, then assembles one table in FLOW_SCHEMA."""

    def __init__(self) -> None:
        self.parts: list[dict[str, npt.NDArray[np.generic]]] = []

    def add(
        self,
        *,
        ts: npt.ArrayLike,
        src: npt.ArrayLike,
        dst: npt.ArrayLike,
        dst_port: npt.ArrayLike,
        proto: int | npt.ArrayLike = 6,
        duration: npt.ArrayLike = 0.0,
        bytes_out: npt.ArrayLike = 0,
        bytes_in: npt.ArrayLike = 0,
        state: str | npt.ArrayLike = "SF",
        src_port: npt.ArrayLike | None = None,
        dns_query: npt.ArrayLike | None = None,
        dns_rcode: npt.ArrayLike | None = None,
        tls_sni: npt.ArrayLike | None = None,
    ) -> None:
        ts_a = np.atleast_1d(np.asarray(ts, dtype=np.float64))
        n = len(ts_a)

        def col(v: object, dtype: object) -> npt.NDArray[np.generic]:
            return np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).copy()  # type: ignore[call-overload]

        state_a = col(state, object)
        bytes_in_a = col(bytes_in, np.int64)
        failed = np.isin(state_a, ["S0", "REJ", "SH", "SHR", "RSTOS0", "RSTRH"])
        self.parts.append(
            {
                "start_ts": ts_a,
                "duration": col(duration, np.float64),
                "src_num": col(src, np.int64),
                "dst_num": col(dst, np.int64),
                "src_port": col(src_port if src_port is not None else 49152, np.int32),
                "dst_port": col(dst_port, np.int32),
                "proto": col(proto, np.int16),
                "bytes_out": col(bytes_out, np.int64),
                "bytes_in": np.where(failed, 0, bytes_in_a),
                "pkts_out": np.maximum(1, col(bytes_out, np.int64) // 1000),
                "pkts_in": np.where(failed & (state_a != "REJ"), 0, np.maximum(1, bytes_in_a // 1000)),
                "conn_state": state_a,
                "dns_query": col(dns_query, object) if dns_query is not None else np.full(n, None, dtype=object),
                "dns_rcode": col(dns_rcode, np.float64) if dns_rcode is not None else np.full(n, np.nan),
                "tls_sni": col(tls_sni, object) if tls_sni is not None else np.full(n, None, dtype=object),
            }
        )

    def table(self, start: float, sensor: str) -> pa.Table:
        cols = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        order = np.lexsort((cols["dst_port"], cols["dst_num"], cols["src_num"], cols["start_ts"]))
        cols = {k: v[order] for k, v in cols.items()}
        n = len(order)
        src = cols["src_num"].astype(np.uint32)
        dst = cols["dst_num"].astype(np.uint32)
        rcode = cols["dns_rcode"]
        data = {
            "start_ts": cols["start_ts"],
            "duration": cols["duration"],
            "src_ip": ipv4_text(src),
            "dst_ip": ipv4_text(dst),
            "src_ip_num": cols["src_num"],
            "dst_ip_num": cols["dst_num"],
            "src_port": cols["src_port"],
            "dst_port": cols["dst_port"],
            "proto": cols["proto"],
            "bytes_out": cols["bytes_out"],
            "bytes_in": cols["bytes_in"],
            "pkts_out": cols["pkts_out"],
            "pkts_in": cols["pkts_in"],
            "tcp_flags": pa.nulls(n, pa.int16()),
            "conn_state": pa.array(cols["conn_state"], pa.string()),
            "dns_query": pa.array(cols["dns_query"], pa.string()),
            "dns_rcode": pa.array(np.nan_to_num(rcode, nan=0).astype(np.int16), mask=np.isnan(rcode)),
            "tls_sni": pa.array(cols["tls_sni"], pa.string()),
            "http_host": pa.nulls(n, pa.string()),
            "channel": pa.array(np.full(n, "agreement", dtype=object), pa.string()),
            "approval_id": pa.nulls(n, pa.string()),
            "sensor": pa.array(np.full(n, sensor, dtype=object), pa.string()),
            "batch_id": pa.array(np.full(n, f"{sensor}-{int(start)}", dtype=object), pa.string()),
            "acquired_at": np.full(n, start + DAY),
            "expires_at": np.full(n, start + 91 * DAY),
            "src_domestic": (src >> 24) == 10,
            "dst_domestic": (dst >> 24) == 10,
        }
        return pa.table(data, schema=FLOW_SCHEMA)


def _foreign(rng: np.random.Generator, n: int) -> npt.NDArray[np.int64]:
    """Public-looking IPv4 addresses outside private, loopback and multicast space."""
    first = rng.choice(np.array([20, 31, 45, 52, 62, 77, 85, 91, 104, 151, 185, 193, 203]), size=n)
    rest = rng.integers(0, 1 << 24, size=n)
    return (first.astype(np.int64) << 24) | rest


def generate_day(
    *,
    seed: int = 7,
    background_flows: int = 40_000,
    hosts: int = 200,
    servers: int = 2_000,
    start: float = DEFAULT_START,
    plant: bool = True,
    sensor: str = "synthetic",
) -> SyntheticDay:
    """One day of flows; see the module docstring. ``hosts`` domestic hosts share ``background_flows``."""
    if background_flows < 0 or hosts < 1 or servers < 10:
        raise InvalidInput(
            "generate_day needs background_flows >= 0, hosts >= 1 and servers >= 10",
            where="synthetic.generate_day",
            detail={"background_flows": background_flows, "hosts": hosts, "servers": servers},
        )
    rng = np.random.default_rng(seed)
    b = _Builder()
    ts: npt.NDArray[Any]
    host_nums = _DOMESTIC_BASE + (1 << 16) + np.arange(hosts, dtype=np.int64)
    server_nums = np.unique(_foreign(rng, servers))
    server_names = np.array([f"www.site{i}.example" for i in range(len(server_nums))], dtype=object)
    # background TCP: Zipf-popular servers, Poisson times, heavy-tailed sizes
    n_bg = int(background_flows * 0.9)
    n_dns = background_flows - n_bg
    if n_bg:
        ts = start + rng.uniform(0, DAY, n_bg)
        src = host_nums[rng.integers(0, hosts, n_bg)]
        pick = np.minimum(rng.zipf(1.3, n_bg) - 1, len(server_nums) - 1)
        dst = server_nums[pick]
        port = np.where(rng.random(n_bg) < 0.8, 443, 80)
        state = np.where(rng.random(n_bg) < 0.02, "S0", "SF").astype(object)
        b.add(
            ts=ts,
            src=src,
            dst=dst,
            dst_port=port,
            duration=rng.lognormal(0.5, 1.5, n_bg).clip(0, 3000),
            bytes_out=rng.lognormal(7, 1.5, n_bg).astype(np.int64) + 40,
            bytes_in=rng.lognormal(9, 2.0, n_bg).astype(np.int64) + 40,
            state=state,
            tls_sni=np.where(port == 443, server_names[pick], np.array(None, dtype=object)),
        )
    if n_dns:
        ts = start + rng.uniform(0, DAY, n_dns)
        src = host_nums[rng.integers(0, hosts, n_dns)]
        pick = np.minimum(rng.zipf(1.3, n_dns) - 1, len(server_nums) - 1)
        rcode = np.where(rng.random(n_dns) < 0.01, 3, 0)
        names = server_names[pick].copy()
        names[rcode == 3] = np.array(
            [f"typo{k}.site{k % 97}.example" for k in range(int((rcode == 3).sum()))], dtype=object
        )
        b.add(
            ts=ts,
            src=src,
            dst=_RESOLVER,
            dst_port=53,
            proto=17,
            bytes_out=70,
            bytes_in=120,
            dns_query=names,
            dns_rcode=rcode,
        )
    planted: list[Planted] = []
    planted_hosts: set[str] = set()
    if plant:
        base = _DOMESTIC_BASE + (2 << 16)

        def host(k: int) -> int:
            planted_hosts.add(_ip(base + k))
            return base + k

        c2 = [int(x) for x in _foreign(rng, 6)]
        # 1. beacon by address: 5-minute timer with 2 s jitter, constant small payload, all day
        ts = start + 30.0 + np.arange(0, DAY - 60, 300.0) + rng.normal(0, 2.0, len(np.arange(0, DAY - 60, 300.0)))
        b.add(ts=ts, src=host(1), dst=c2[0], dst_port=8443, bytes_out=612, bytes_in=rng.integers(300, 310, len(ts)))
        planted.append(Planted(FindingKind.BEACON, _ip(base + 1), _ip(c2[0])))
        # 2. beacon by TLS name, 10-minute timer, to a name served from rotating addresses
        n2 = len(np.arange(0, DAY - 60, 600.0))
        ts = start + 100.0 + np.arange(0, DAY - 60, 600.0) + rng.normal(0, 3.0, n2)
        rotating = np.array([c2[1], c2[2], c2[3]], dtype=np.int64)[np.arange(n2) % 3]
        b.add(
            ts=ts,
            src=host(2),
            dst=rotating,
            dst_port=443,
            bytes_out=840,
            bytes_in=1210,
            tls_sni="cdn-sync.badupdate.example",
        )
        planted.append(Planted(FindingKind.BEACON, _ip(base + 2), dst_name="cdn-sync.badupdate.example"))
        # 3. fan-in C2: eight hosts poll one server every 15 minutes, each with its own phase
        for k in range(8):
            n3 = len(np.arange(0, DAY - 900, 900.0))
            ts = start + rng.uniform(0, 900) + np.arange(0, DAY - 900, 900.0) + rng.normal(0, 1.5, n3)
            b.add(ts=ts, src=host(10 + k), dst=c2[4], dst_port=80, bytes_out=420, bytes_in=230)
        planted.append(Planted(FindingKind.FAN_IN_C2, None, _ip(c2[4])))
        # 4. horizontal scan: one host probes 300 domestic addresses on 445, mostly unanswered
        targets = _DOMESTIC_BASE + (5 << 16) + np.arange(300, dtype=np.int64)
        ts = start + 3 * 3600.0 + np.arange(300) * 0.05
        state = np.where(rng.random(300) < 0.95, "S0", "SF").astype(object)
        b.add(ts=ts, src=host(30), dst=targets, dst_port=445, bytes_out=60, bytes_in=60, state=state)
        planted.append(Planted(FindingKind.HORIZONTAL_SCAN, _ip(base + 30), dst_port=445))
        planted.append(Planted(FindingKind.SCAN, _ip(base + 30)))
        # 5. vertical scan: a foreign host walks 400 ports of one domestic server, rejected
        victim = int(host_nums[0])
        scanner = int(_foreign(rng, 1)[0])
        ports = np.arange(1, 401)
        ts = start + 5 * 3600.0 + np.arange(400) * 0.02
        b.add(ts=ts, src=scanner, dst=victim, dst_port=ports, bytes_out=44, bytes_in=40, state="REJ")
        planted.append(Planted(FindingKind.VERTICAL_SCAN, _ip(scanner), _ip(victim)))
        planted_hosts.add(_ip(scanner))
        # 6. DGA: 80 random .com names failing within two minutes
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        dga = [("".join(rng.choice(letters, 12))) + ".com" for _ in range(80)]
        ts = start + 7 * 3600.0 + np.sort(rng.uniform(0, 120, 80))
        b.add(
            ts=ts,
            src=host(40),
            dst=_RESOLVER,
            dst_port=53,
            proto=17,
            bytes_out=70,
            bytes_in=130,
            dns_query=np.array(dga, dtype=object),
            dns_rcode=3,
        )
        planted.append(Planted(FindingKind.NXDOMAIN_BURST, _ip(base + 40)))
        # 7. DNS tunnel: 500 unique hex labels under one domain
        labels = [rng.bytes(20).hex() + ".t.exfil-tunnel.example" for _ in range(500)]
        ts = start + 9 * 3600.0 + np.arange(500) * 2.0
        b.add(
            ts=ts,
            src=host(50),
            dst=_RESOLVER,
            dst_port=53,
            proto=17,
            bytes_out=120,
            bytes_in=90,
            dns_query=np.array(labels, dtype=object),
            dns_rcode=0,
        )
        planted.append(Planted(FindingKind.DNS_TUNNEL, _ip(base + 50), dst_name="exfil-tunnel.example"))
        # 8. long connection: a ten-hour session
        b.add(
            ts=start + 3600.0,
            src=host(60),
            dst=c2[5],
            dst_port=22,
            duration=10 * 3600.0,
            bytes_out=2_000_000,
            bytes_in=9_000_000,
        )
        planted.append(Planted(FindingKind.LONG_CONNECTION, _ip(base + 60), _ip(c2[5])))
    table = b.table(start, sensor)
    benign = frozenset(_ip(int(h)) for h in host_nums) - planted_hosts
    return SyntheticDay(table, tuple(planted), benign, start, start + DAY, frozenset(planted_hosts))
