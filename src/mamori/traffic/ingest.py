"""The ingest use case: parse, check the approval, minimise, store; nothing is stored on refusal.

Order matters for lawfulness: the approval of the channel is checked before a batch is looked at by
anything but the parser, minimisation runs before storage, and a batch that fails any check (bad
input, missing or insufficient approval) leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import pyarrow as pa

from mamori.errors import InvalidInput, PermissionDenied
from mamori.kernel.ids import IdFactory, RandomIds
from mamori.traffic.approvals import assert_batch_covered
from mamori.traffic.minimise import minimise
from mamori.traffic.model import COMMISSION_CHANNELS, Channel, IngestReport, PurgeReport, TrafficPolicy
from mamori.traffic.netflow import DecodeResult, NetflowDecoder, decode_file
from mamori.traffic.pcap import pcap_to_flows
from mamori.traffic.ports import ApprovalRegistry, FlowStore
from mamori.traffic.schema import OBSERVATION_SCHEMA
from mamori.traffic.zeek import parse_zeek

FORMATS: Final = ("zeek", "netflow", "ipfix", "pcap")


class FlowIngestService:
    """Lawful flow ingest: approval check, minimisation, storage, retention purge."""

    def __init__(
        self,
        *,
        store: FlowStore,
        approvals: ApprovalRegistry,
        policy: TrafficPolicy,
        ids: IdFactory | None = None,
    ) -> None:
        self._store = store
        self._approvals = approvals
        self._policy = policy
        self._ids = ids or RandomIds()

    def ingest_paths(
        self,
        paths: Sequence[Path],
        format: str,
        channel: Channel | str,
        approval_id: str | None,
        sensor: str,
        now: datetime,
    ) -> IngestReport:
        """Ingest files of one format as one batch. Raises on refusal; stores nothing then."""
        chan = Channel.parse(channel) if isinstance(channel, str) else channel
        self._authorise(chan, approval_id, now)
        if format not in FORMATS:
            raise InvalidInput(f"unknown format {format!r} (expected one of {', '.join(FORMATS)})", where="format")
        if not paths:
            raise InvalidInput("no input files", where="paths")
        tables: list[pa.Table] = []
        errors: list[InvalidInput] = []
        for path in paths:
            if not path.is_file():
                raise InvalidInput("no such file", where=str(path))
            if format == "zeek":
                tables.append(parse_zeek(path).table)
            elif format == "pcap":
                tables.append(pcap_to_flows(path))
            else:
                result = decode_file(path, format, NetflowDecoder())
                errors.extend(result.errors)
                tables.append(result.to_table())
        table = _concat(tables)
        return self._store_batch(table, chan, approval_id, sensor, now, errors)

    def ingest_table(
        self,
        table: pa.Table,
        *,
        channel: Channel,
        approval_id: str | None,
        sensor: str,
        now: datetime,
        errors: Sequence[InvalidInput] = (),
    ) -> IngestReport:
        """Ingest an already parsed batch (OBSERVATION_SCHEMA plus any source columns)."""
        self._authorise(channel, approval_id, now)
        return self._store_batch(table, channel, approval_id, sensor, now, list(errors))

    def ingest_decoded(
        self, result: DecodeResult, *, channel: Channel, approval_id: str | None, sensor: str, now: datetime
    ) -> IngestReport:
        """Ingest what a NetFlow/IPFIX decoder produced (the collector's sink)."""
        return self.ingest_table(
            result.to_table(),
            channel=channel,
            approval_id=approval_id,
            sensor=sensor,
            now=now,
            errors=result.errors,
        )

    def purge(self, now: datetime) -> PurgeReport:
        """Remove every stored record whose retention has run out."""
        return self._store.purge(now)

    # ------------------------------------------------------------------

    def _authorise(self, channel: Channel, approval_id: str | None, now: datetime) -> None:
        if now.tzinfo is None:
            raise InvalidInput("now must be timezone-aware", where="now")
        if channel is Channel.AGREEMENT:
            if not approval_id or not approval_id.strip():
                raise PermissionDenied("the agreement channel needs the operator agreement id", where="approval_id")
        elif channel in COMMISSION_CHANNELS:
            if not approval_id:
                raise PermissionDenied(
                    f"channel {channel.value} needs an approval of the oversight commission",
                    where="approval_id",
                )
            self._approvals.check(channel, approval_id, now)

    def _store_batch(
        self,
        table: pa.Table,
        channel: Channel,
        approval_id: str | None,
        sensor: str,
        now: datetime,
        errors: list[InvalidInput],
    ) -> IngestReport:
        if not sensor or not sensor.strip():
            raise InvalidInput("sensor name is empty", where="sensor")
        if channel in COMMISSION_CHANNELS:
            assert approval_id is not None
            approval = self._approvals.check(channel, approval_id, now)
            assert_batch_covered(approval, table)
        batch_id = self._ids.new()
        batch = minimise(
            table,
            policy=self._policy,
            channel=channel,
            approval_id=approval_id,
            sensor=sensor,
            batch_id=batch_id,
            acquired_at=now.astimezone(UTC).timestamp(),
        )
        files = self._store.write(batch.table, batch_id)
        return IngestReport(
            records_in=batch.records_in,
            records_stored=batch.table.num_rows,
            dropped_domestic=batch.dropped_domestic,
            dropped_fields=batch.dropped_fields,
            errors=errors,
            batch_id=batch_id,
            files=files,
        )


def _concat(tables: list[pa.Table]) -> pa.Table:
    if not tables:
        return OBSERVATION_SCHEMA.empty_table()
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Source columns of differing types across files: only their names matter (minimisation
        # drops them), so unify them as strings, or as empty columns where no cast exists.
        unified = []
        for t in tables:
            for i, f in enumerate(t.schema):
                if f.name not in OBSERVATION_SCHEMA.names and f.type != pa.string():
                    try:
                        col = t.column(i).cast(pa.string())
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                        col = pa.nulls(t.num_rows, pa.string())
                    t = t.set_column(i, f.name, col)
            unified.append(t)
        return pa.concat_tables(unified, promote_options="permissive")
