"""The UDP collector decodes NetFlow/IPFIX datagrams, survives bad ones, and stops on request."""

from __future__ import annotations

import socket
import time

import pytest

from mamori.errors import InvalidInput
from mamori.traffic.collector import FlowCollector, parse_listen
from mamori.traffic.flowexport import encode_ipfix, encode_v9, synthetic_columns
from mamori.traffic.netflow import DecodeResult


def _wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_collector_decodes_datagrams_and_skips_bad_ones() -> None:
    results: list[DecodeResult] = []
    cols = synthetic_columns(120, seed=2)
    datagrams = encode_v9(cols, export_secs=1_700_004_000, uptime_ms=10_000_000) + encode_ipfix(
        cols, export_secs=1_700_004_000
    )
    collector = FlowCollector(results.append, "127.0.0.1", 0, flush_interval=0.05)
    with collector:
        host, port = collector.address
        assert port != 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(b"\x00\x09garbage", (host, port))
            for d in datagrams:
                sender.sendto(d, (host, port))
        _wait_for(lambda: sum(len(r.flows) for r in results) >= 240)
    assert sum(len(r.flows) for r in results) == 240
    errors = [e for r in results for e in r.errors]
    assert len(errors) == 1 and isinstance(errors[0], InvalidInput)
    assert collector.stats.datagrams == len(datagrams) + 1


def test_failing_sink_does_not_stop_collection() -> None:
    calls: list[int] = []

    def sink(result: DecodeResult) -> None:
        calls.append(len(result.flows))
        if len(calls) == 1:
            raise RuntimeError("store unavailable")

    cols = synthetic_columns(30, seed=2)
    datagram = encode_ipfix(cols, export_secs=1_700_004_000)[0]
    collector = FlowCollector(sink, "127.0.0.1", 0, flush_interval=0.05)
    with collector, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(datagram, collector.address)
        _wait_for(lambda: len(calls) >= 1)
        sender.sendto(datagram, collector.address)
        _wait_for(lambda: len(calls) >= 2)
    assert calls == [30, 30] and collector.sink_failures == 1


def test_stop_releases_the_port() -> None:
    collector = FlowCollector(lambda r: None, "127.0.0.1", 0)
    host, port = collector.start()
    collector.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind((host, port))


@pytest.mark.parametrize(
    ("listen", "expected"), [("127.0.0.1:2055", ("127.0.0.1", 2055)), ("[::1]:4739", ("::1", 4739))]
)
def test_listen_addresses_parse(listen: str, expected: tuple[str, int]) -> None:
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("listen", ["2055", "host:", "host:99999", ":80"])
def test_bad_listen_addresses_are_refused(listen: str) -> None:
    with pytest.raises(InvalidInput):
        parse_listen(listen)
