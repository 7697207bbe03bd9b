"""Interoperability: softflowd exports NetFlow v9 / IPFIX from a pcap replay to mamori's collector and
to nfdump's nfcapd; flow, packet and byte totals must agree, and what mamori stores must agree too."""

from __future__ import annotations

import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from tests.unit.traffic.flow_fixtures import NOW, registry

from mamori.kernel.ids import SequentialIds
from mamori.traffic.collector import FlowCollector
from mamori.traffic.flowstore import ParquetFlowStore
from mamori.traffic.ingest import FlowIngestService
from mamori.traffic.model import Channel, TrafficPolicy
from mamori.traffic.netflow import DecodeResult
from mamori.traffic.pcap import build_frame, write_pcap

SOFTFLOWD = shutil.which("softflowd") or ("/usr/sbin/softflowd" if Path("/usr/sbin/softflowd").exists() else None)
SOFTFLOWCTL = shutil.which("softflowctl") or (
    "/usr/sbin/softflowctl" if Path("/usr/sbin/softflowctl").exists() else None
)
NFCAPD = shutil.which("nfcapd")
NFDUMP = shutil.which("nfdump")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(SOFTFLOWD is None, reason="softflowd is not installed (Debian package softflowd)"),
    pytest.mark.skipif(
        NFCAPD is None or NFDUMP is None, reason="nfcapd/nfdump are not installed (Debian package nfdump)"
    ),
]


def _replay_pcap(path: Path, flows: int = 300) -> int:
    """A pcap of ``flows`` TCP/UDP/ICMP conversations of 1-6 packets; returns the packet count."""
    rnd = random.Random(20261101)
    packets: list[tuple[float, bytes]] = []
    t = 1_760_000_000.0
    for _ in range(flows):
        src = f"192.0.2.{rnd.randint(1, 250)}"
        dst = f"198.51.100.{rnd.randint(1, 250)}"
        proto = rnd.choice([6, 17, 1])
        sport, dport = rnd.randint(1024, 65535), rnd.choice([53, 80, 443, 8080])
        for k in range(rnd.randint(1, 6)):
            t += 0.001
            body = b"x" * rnd.randint(0, 200)
            if proto == 1:
                packets.append((t, build_frame(src, dst, 1, icmp_type=8, payload=body)))
            elif k % 2 == 0:
                packets.append((t, build_frame(src, dst, proto, sport, dport, payload=body)))
            else:
                packets.append((t, build_frame(dst, src, proto, dport, sport, payload=body)))
    write_pcap(path, packets)
    return len(packets)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _softflowd(pcap: Path, version: int, port: int, work: Path) -> None:
    assert SOFTFLOWD is not None
    # softflowd 1.1.0 blocks on its control socket (instead of reading the pcap) when the socket path is
    # 13 characters or longer, so the socket gets a short unique name directly under /tmp.
    ctl = Path(f"/tmp/sf{secrets.token_hex(2)}")
    try:
        _run_softflowd(pcap, version, port, ctl, work / f"softflowd-{port}.pid")
    finally:
        ctl.unlink(missing_ok=True)


def _run_softflowd(pcap: Path, version: int, port: int, ctl: Path, pidfile: Path) -> None:
    assert SOFTFLOWD is not None
    proc = subprocess.Popen(
        [
            SOFTFLOWD,
            "-d",
            "-r",
            str(pcap),
            "-v",
            str(version),
            "-n",
            f"127.0.0.1:{port}",
            "-c",
            str(ctl),
            "-p",
            str(pidfile),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        # Versions that keep running after pcap EOF flush their flows on a control-socket shutdown.
        if SOFTFLOWCTL is not None:
            subprocess.run([SOFTFLOWCTL, "-c", str(ctl), "shutdown"], check=False, capture_output=True, timeout=10)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("softflowd did not finish its pcap replay")
    output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    assert proc.returncode == 0 and "Flows exported" in output, output


def _nfcapd_totals(pcap: Path, version: int, work: Path) -> dict[str, int]:
    assert NFCAPD is not None and NFDUMP is not None
    port = _free_udp_port()
    store = work / f"nfcapd-v{version}"
    store.mkdir()
    pidfile = work / f"nfcapd-v{version}.pid"
    nfcapd = subprocess.Popen(
        [NFCAPD, "-b", "127.0.0.1", "-p", str(port), "-w", str(store), "-t", "3600", "-P", str(pidfile)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        _softflowd(pcap, version, port, work)
        time.sleep(0.5)
    finally:
        nfcapd.send_signal(signal.SIGTERM)
        try:
            nfcapd.wait(timeout=20)
        except subprocess.TimeoutExpired:
            nfcapd.kill()
            nfcapd.wait()
    summary = subprocess.run([NFDUMP, "-R", str(store), "-I"], check=True, capture_output=True, text=True, timeout=60)
    totals = {}
    for key in ("Flows", "Packets", "Bytes"):
        match = re.search(rf"^{key}: (\d+)$", summary.stdout, re.MULTILINE)
        assert match, summary.stdout
        totals[key.lower()] = int(match.group(1))
    return totals


@pytest.mark.parametrize("version", [9, 10], ids=["netflow-v9", "ipfix"])
def test_softflowd_totals_agree_between_mamori_and_nfcapd(tmp_path: Path, version: int) -> None:
    pcap = tmp_path / "replay.pcap"
    packets = _replay_pcap(pcap)

    approvals, _ = registry()
    store = ParquetFlowStore(tmp_path / "flows")
    service = FlowIngestService(
        store=store, approvals=approvals, policy=TrafficPolicy.from_settings([]), ids=SequentialIds()
    )
    decoded: list[DecodeResult] = []

    def sink(result: DecodeResult) -> None:
        decoded.append(result)
        service.ingest_decoded(result, channel=Channel.AGREEMENT, approval_id="AGR-1", sensor="softflowd", now=NOW)

    collector = FlowCollector(sink, "127.0.0.1", 0, flush_interval=0.2)
    with collector:
        _softflowd(pcap, version, collector.address[1], tmp_path)
        deadline = time.monotonic() + 5
        seen = -1
        while time.monotonic() < deadline and collector.stats.datagrams != seen:
            seen = collector.stats.datagrams
            time.sleep(0.5)
    assert collector.sink_failures == 0
    assert [e for r in decoded for e in r.errors] == []
    mamori = {
        "flows": sum(len(r.flows) for r in decoded),
        "packets": int(sum(int(r.flows.pkts_out.sum() + r.flows.pkts_in.sum()) for r in decoded)),
        "bytes": int(sum(int(r.flows.bytes_out.sum() + r.flows.bytes_in.sum()) for r in decoded)),
    }
    stored = store.read(0, 2**40)
    stored_totals = {
        "flows": stored.num_rows,
        "packets": sum(stored.column("pkts_out").to_pylist()) + sum(stored.column("pkts_in").to_pylist()),
        "bytes": sum(stored.column("bytes_out").to_pylist()) + sum(stored.column("bytes_in").to_pylist()),
    }
    nfdump = _nfcapd_totals(pcap, version, tmp_path)

    assert mamori["packets"] == packets  # softflowd accounted every replayed packet
    assert mamori == nfdump
    assert stored_totals == nfdump
    assert set(stored.column("channel").to_pylist()) == {"agreement"}
