"""The stored flow record: one Arrow schema shared by flow ingest and detection.

Only "mechanical information" about communications is represented (addresses, ports, protocol, times,
sizes, TCP-flag summaries), plus the few profile-dependent fields a channel may be allowed to keep and
the provenance every stored record carries. Byte counts are IP-layer bytes (what NetFlow/IPFIX
``octetDeltaCount`` counts; for Zeek ``orig_ip_bytes``/``resp_ip_bytes``, falling back to the payload
counts ``orig_bytes``/``resp_bytes`` when the IP-layer counts are absent).

Layout on disk: ``<data_dir>/flows/channel=<channel>/hour=<YYYY-MM-DDTHH>/<batch_id>-<n>.parquet``
(Hive partitioning; ``channel`` and ``hour`` are path keys and are also kept as the ``channel`` column).
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

#: Columns every parser produces (before minimisation and provenance).
OBSERVATION_FIELDS: Final[tuple[pa.Field, ...]] = (
    pa.field("start_ts", pa.float64(), nullable=False),
    pa.field("duration", pa.float64(), nullable=False),
    pa.field("src_ip", pa.string(), nullable=False),
    pa.field("dst_ip", pa.string(), nullable=False),
    pa.field("src_ip_num", pa.int64()),
    pa.field("dst_ip_num", pa.int64()),
    pa.field("src_port", pa.int32()),
    pa.field("dst_port", pa.int32()),
    pa.field("proto", pa.int16()),
    pa.field("bytes_out", pa.int64()),
    pa.field("bytes_in", pa.int64()),
    pa.field("pkts_out", pa.int64()),
    pa.field("pkts_in", pa.int64()),
    pa.field("tcp_flags", pa.int16()),
    pa.field("conn_state", pa.string()),
)

#: Columns kept only when the channel's profile allows them; null otherwise.
PROFILE_FIELDS: Final[tuple[pa.Field, ...]] = (
    pa.field("dns_query", pa.string()),
    pa.field("dns_rcode", pa.int16()),
    pa.field("tls_sni", pa.string()),
    pa.field("http_host", pa.string()),
)

#: Provenance added to every stored record.
PROVENANCE_FIELDS: Final[tuple[pa.Field, ...]] = (
    pa.field("channel", pa.string(), nullable=False),
    pa.field("approval_id", pa.string()),
    pa.field("sensor", pa.string(), nullable=False),
    pa.field("batch_id", pa.string(), nullable=False),
    pa.field("acquired_at", pa.float64(), nullable=False),
    pa.field("expires_at", pa.float64(), nullable=False),
    pa.field("src_domestic", pa.bool_(), nullable=False),
    pa.field("dst_domestic", pa.bool_(), nullable=False),
)

#: The schema of every stored flow record.
FLOW_SCHEMA: Final[pa.Schema] = pa.schema([*OBSERVATION_FIELDS, *PROFILE_FIELDS, *PROVENANCE_FIELDS])

#: The schema parsers produce: observation columns and profile columns (parsers may add source columns
#: beyond these; minimisation drops anything not named here).
OBSERVATION_SCHEMA: Final[pa.Schema] = pa.schema([*OBSERVATION_FIELDS, *PROFILE_FIELDS])

#: Fields that every channel profile keeps (the strict default profile).
MECHANICAL_COLUMNS: Final[frozenset[str]] = frozenset(f.name for f in OBSERVATION_FIELDS)

#: Fields a profile may add on top of the mechanical ones.
OPTIONAL_COLUMNS: Final[frozenset[str]] = frozenset(f.name for f in PROFILE_FIELDS)

#: Plausible range of a flow's start time and duration (epoch seconds): 1970-01-01 to 9999-12-31.
MIN_TS: Final = 0.0
MAX_TS: Final = 253402300799.0

PROTO_ICMP: Final = 1
PROTO_TCP: Final = 6
PROTO_UDP: Final = 17
PROTO_ICMPV6: Final = 58

#: Zeek ``proto`` names to IANA protocol numbers.
PROTO_NUMBERS: Final[dict[str, int]] = {"icmp": PROTO_ICMP, "tcp": PROTO_TCP, "udp": PROTO_UDP}


def empty_observations() -> pa.Table:
    """An empty table in the parser output schema."""
    return OBSERVATION_SCHEMA.empty_table()
