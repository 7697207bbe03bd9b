"""TAXII 2.1 servers for side-by-side benchmarks: mamori (uvicorn) and the OASIS reference server medallion.

Each server runs in its own process on a free loopback port, so neither shares the benchmark client's
interpreter lock. Run as a script, this module is that server process:

    python bench/taxii_servers.py mamori --data-dir DIR --port N
    python bench/taxii_servers.py medallion --config medallion.json --port N

medallion (https://github.com/oasis-open/cti-taxii-server) is used as a library with its in-memory backend
(``medallion.backends.memory_backend.MemoryBackend``), served by werkzeug's threaded WSGI server.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
MEDALLION_API_ROOT = "partners"


def process_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time a process has used (all its threads), from /proc; None where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A server child process; ``with`` waits until it answers and stops it afterwards."""

    name: str
    argv: list[str]
    port: int
    ready_path: str
    auth: tuple[str, str]
    env: dict[str, str] = field(default_factory=dict)
    start_timeout_s: float = 300.0
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        out = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(self.argv, env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout_s
        with httpx.Client(timeout=5.0) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} server exited with status {self.process.returncode}"
                        f"{f'; see {self.log_path}' if self.log_path else ''}"
                    )
                try:
                    r = client.get(self.url + self.ready_path, auth=self.auth, headers={"Accept": TAXII_MEDIA_TYPE})
                    if r.status_code < 500:
                        return self
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{self.name} server did not answer within {self.start_timeout_s:.0f} s")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


# --- mamori ------------------------------------------------------------------------------------------
def mamori_settings_env(data_dir: Path, secret_key: str) -> dict[str, str]:
    return {
        "MAMORI_DATA_DIR": str(data_dir),
        "MAMORI_ENV": "development",
        "MAMORI_SECRET_KEY": secret_key,
        "MAMORI_DATABASE_URL": f"sqlite:///{data_dir / 'mamori.db'}",
    }


def mamori_server(
    data_dir: Path,
    secret_key: str,
    auth: tuple[str, str],
    *,
    log_path: Path | None = None,
    start_timeout_s: float = 300.0,
) -> ServerProcess:
    port = free_port()
    return ServerProcess(
        name="mamori",
        argv=[sys.executable, __file__, "mamori", "--port", str(port)],
        port=port,
        ready_path="/taxii2/",
        auth=auth,
        env=mamori_settings_env(data_dir, secret_key),
        log_path=log_path,
        start_timeout_s=start_timeout_s,
    )


def serve_mamori(port: int) -> None:
    """One uvicorn worker (uvloop, httptools where installed) on an already-migrated data directory."""
    import uvicorn

    from mamori.api.app import create_app
    from mamori.bootstrap import build_context
    from mamori.config import Settings

    ctx = build_context(Settings(), migrate=False)
    uvicorn.run(create_app(ctx), host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- medallion ---------------------------------------------------------------------------------------
def medallion_collection(
    collection_id: str, title: str, objects: Iterable[Mapping[str, Any]], date_added: str
) -> dict[str, Any]:
    """A memory-backend collection holding ``objects``, with the manifest medallion keeps beside them."""
    objs = [dict(o) for o in objects]
    manifest = [
        {
            "id": o["id"],
            "date_added": date_added,
            "version": o.get("modified", o.get("created", date_added)),
            "media_type": "application/stix+json;version=2.1",
        }
        for o in objs
    ]
    return {
        "id": collection_id,
        "title": title,
        "description": title,
        "can_read": True,
        "can_write": True,
        "media_types": ["application/stix+json;version=2.1"],
        "objects": objs,
        "manifest": manifest,
    }


def medallion_config(
    collections: list[dict[str, Any]], data_file: Path, users: Mapping[str, str], max_page_size: int
) -> dict[str, Any]:
    """medallion's configuration: users, TAXII settings and the memory backend reading ``data_file``."""
    data = {
        "/discovery": {
            "title": "medallion benchmark",
            "description": "OASIS reference TAXII server",
            "contact": "cert@example.org",
            "default": f"/{MEDALLION_API_ROOT}/",
            "api_roots": [f"/{MEDALLION_API_ROOT}/"],
        },
        MEDALLION_API_ROOT: {
            "information": {
                "title": "partners",
                "description": "benchmark API root",
                "versions": [TAXII_MEDIA_TYPE],
                "max_content_length": 1024 * 1024 * 1024,
            },
            "status": [],
            "collections": collections,
        },
    }
    data_file.write_text(json.dumps(data))
    return {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(data_file),
            "session_timeout": 3600,
            "check_interval": 3600,
        },
        "users": dict(users),
        "taxii": {"max_page_size": max_page_size},
    }


def medallion_server(
    config: Mapping[str, Any],
    config_file: Path,
    auth: tuple[str, str],
    *,
    log_path: Path | None = None,
    start_timeout_s: float = 300.0,
) -> ServerProcess:
    config_file.write_text(json.dumps(config))
    port = free_port()
    return ServerProcess(
        name="medallion",
        argv=[sys.executable, __file__, "medallion", "--config", str(config_file), "--port", str(port)],
        port=port,
        ready_path="/taxii2/",
        auth=auth,
        log_path=log_path,
        start_timeout_s=start_timeout_s,
    )


def serve_medallion(config_file: Path, port: int) -> None:
    """medallion's Flask app on werkzeug's threaded WSGI server (its development server, as medallion ships)."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("medallion").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from medallion import load_app

    app = load_app(str(config_file))
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a TAXII 2.1 server for the benchmarks.")
    sub = parser.add_subparsers(dest="server", required=True)
    m = sub.add_parser("mamori")
    m.add_argument("--port", type=int, required=True)
    md = sub.add_parser("medallion")
    md.add_argument("--config", type=Path, required=True)
    md.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    if args.server == "mamori":
        serve_mamori(args.port)
    else:
        serve_medallion(args.config, args.port)


if __name__ == "__main__":
    main()
