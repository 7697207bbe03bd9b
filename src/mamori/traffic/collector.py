"""UDP collector of NetFlow v5/v9 and IPFIX export datagrams (RFC 3954, RFC 7011 section 10.3).

A background thread receives datagrams, and every ``flush_interval`` seconds (or ``max_datagrams``
datagrams) decodes what arrived in one vectorised pass and hands the result to a sink (normally
:meth:`FlowIngestService.ingest_decoded`). Malformed datagrams are reported through the result's
errors and never stop the collector; a failing sink is logged and the collector carries on.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

import structlog

from mamori.errors import InvalidInput, MamoriError
from mamori.traffic.netflow import DecodeResult, DecoderStats, NetflowDecoder

Sink = Callable[[DecodeResult], None]

_log = structlog.get_logger("mamori.traffic.collector")


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) to a (host, port) pair."""
    host, sep, port_text = listen.rpartition(":")
    if not sep or not port_text.isdigit() or not host:
        raise InvalidInput(f"listen address {listen!r} is not HOST:PORT", where="listen")
    port = int(port_text)
    if port > 65535:
        raise InvalidInput(f"port {port} out of range", where="listen")
    return host.strip("[]"), port


class FlowCollector:
    """A stoppable UDP flow collector. Use as a context manager or call start()/stop()."""

    def __init__(
        self,
        sink: Sink,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        flush_interval: float = 1.0,
        max_datagrams: int = 50_000,
        receive_buffer: int = 8 * 1024 * 1024,
    ) -> None:
        self._sink = sink
        self._host = host
        self._port = port
        self._flush_interval = flush_interval
        self._max_datagrams = max_datagrams
        self._receive_buffer = receive_buffer
        self._decoder = NetflowDecoder()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self.datagrams_received = 0
        self.sink_failures = 0

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); the port is the real one when 0 was asked for."""
        if self._sock is None:
            raise MamoriError("collector is not started", where="collector")
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    @property
    def stats(self) -> DecoderStats:
        return self._decoder.stats

    def start(self) -> tuple[str, int]:
        if self._thread is not None:
            raise MamoriError("collector already started", where="collector")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._receive_buffer)
        try:
            sock.bind((self._host, self._port))
        except OSError as e:
            sock.close()
            raise InvalidInput(f"cannot listen on {self._host}:{self._port}: {e.strerror}", where="listen") from e
        sock.settimeout(0.05)
        self._sock = sock
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mamori-flow-collector", daemon=True)
        self._thread.start()
        _log.info("flow collector listening", host=self.address[0], port=self.address[1])
        return self.address

    def stop(self, timeout: float = 10.0) -> None:
        """Stop receiving, decode and hand over what is buffered, release the socket."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def serve_forever(self) -> None:
        """Block until :meth:`stop` is called from elsewhere (or KeyboardInterrupt)."""
        if self._thread is None:
            self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            self.stop()

    def __enter__(self) -> FlowCollector:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        assert self._sock is not None
        sock = self._sock
        buffer: list[tuple[bytes, str]] = []
        last_flush = time.monotonic()
        while True:
            stopping = self._stop.is_set()
            try:
                data, peer = sock.recvfrom(65535)
                buffer.append((data, f"{peer[0]}:{peer[1]}"))
                sock.setblocking(False)
                while len(buffer) < self._max_datagrams:
                    data, peer = sock.recvfrom(65535)
                    buffer.append((data, f"{peer[0]}:{peer[1]}"))
            except (TimeoutError, BlockingIOError):
                pass
            except OSError as e:
                _log.warning("flow collector receive failed", error=str(e))
            self.datagrams_received = self._decoder.stats.datagrams + len(buffer)
            sock.settimeout(0.05)
            now = time.monotonic()
            if buffer and (stopping or len(buffer) >= self._max_datagrams or now - last_flush >= self._flush_interval):
                self._flush(buffer)
                buffer = []
                last_flush = now
            if stopping:
                return

    def _flush(self, buffer: list[tuple[bytes, str]]) -> None:
        try:
            result = self._decoder.decode(buffer)
        except MamoriError as e:  # the decoder reports bad datagrams in the result; this is a safety net
            _log.error("flow decode failed", error=str(e))
            return
        for err in result.errors[:10]:
            _log.warning("bad flow datagram", error=str(err))
        try:
            self._sink(result)
        except Exception as e:  # noqa: BLE001 - a failing sink must not stop collection
            self.sink_failures += 1
            _log.error("flow sink failed", error=repr(e), records=len(result.flows))
