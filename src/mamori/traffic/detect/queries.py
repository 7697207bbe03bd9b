"""Portable aggregate queries (the common subset of DuckDB and Spark SQL) that feed the detectors.

Each query reads the relation ``flows`` (stored flow records, :data:`mamori.traffic.schema.FLOW_SCHEMA`).
Two dialect-specific aggregates are written as placeholders and filled in by :func:`render`:
``@COLLECT(expr)`` (all non-null values, any order) and ``@COLLECT_SET(expr)`` (distinct non-null values).
List order is never relied upon: the shared scoring sorts every list itself. Queries that collect lists first
find the groups that can qualify with a cheap count (an upper bound of the distinct count they finally need), so
lists are only built for those.
"""

from __future__ import annotations

import re
from typing import Literal

Dialect = Literal["duckdb", "spark"]

_PLACEHOLDER = re.compile(r"@(COLLECT_SET|COLLECT|LIST|NDISTINCT)\(")


def _close(text: str, start: int) -> int:
    depth = 1
    i = start
    while depth:
        ch = text[i]
        depth += ch == "("
        depth -= ch == ")"
        i += 1
    return i - 1


def render(template: str, dialect: Dialect) -> str:
    """Replace the list placeholders with the dialect's functions: ``@COLLECT`` / ``@COLLECT_SET`` (non-null
    values), ``@LIST`` (a never-null column, collected without a filter) and ``@NDISTINCT`` (distinct values in
    a list)."""
    out: list[str] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        if m.start() < pos:
            continue
        end = _close(template, m.end())
        arg = render(template[m.end() : end], dialect)
        out.append(template[pos : m.start()])
        kind = m.group(1)
        if kind == "LIST":  # a column that is never null: no filter needed
            out.append(f"list({arg})" if dialect == "duckdb" else f"collect_list({arg})")
        elif kind == "NDISTINCT":  # the number of distinct values in a list
            out.append(f"len(list_distinct({arg}))" if dialect == "duckdb" else f"size(array_distinct({arg}))")
        elif dialect == "duckdb":
            inner = f"DISTINCT {arg}" if kind == "COLLECT_SET" else arg
            out.append(f"list({inner}) FILTER (WHERE ({arg}) IS NOT NULL)")
        else:
            out.append(f"{'collect_set' if kind == 'COLLECT_SET' else 'collect_list'}({arg})")
        pos = end + 1
    out.append(template[pos:])
    return "".join(out)


#: A first contact failed: TCP never established (Zeek conn_state), or, without conn_state, no SYN+ACK
#: among the flags seen, or no reply at all for other protocols.
FAILED = """(CASE
  WHEN conn_state IN ('S0', 'REJ', 'RSTOS0', 'RSTRH', 'SH', 'SHR') THEN 1
  WHEN conn_state IN ('S1', 'S2', 'S3', 'SF', 'RSTO', 'RSTR') THEN 0
  WHEN proto = 6 AND tcp_flags IS NOT NULL
    THEN (CASE WHEN coalesce(pkts_in, 0) = 0 OR (tcp_flags & 18) <> 18 THEN 1 ELSE 0 END)
  WHEN coalesce(pkts_in, 0) = 0 AND coalesce(bytes_in, 0) = 0 THEN 1
  ELSE 0
END)"""

#: Unicast, routable destinations only: multicast (224.0.0.0/4, ff00::/8), limited broadcast and link-local
#: (169.254.0.0/16, fe80::/10) never host command servers, and their chatty service discovery would otherwise
#: dominate the regularity ranking.
ROUTABLE_DST = """(CASE WHEN dst_ip_num IS NOT NULL
  THEN NOT (dst_ip_num BETWEEN 3758096384 AND 4026531839 OR dst_ip_num = 4294967295
            OR dst_ip_num BETWEEN 2851995648 AND 2852061183)
  ELSE NOT (lower(dst_ip) LIKE 'ff%' OR lower(dst_ip) LIKE 'fe8%' OR lower(dst_ip) LIKE 'fe9%'
            OR lower(dst_ip) LIKE 'fea%' OR lower(dst_ip) LIKE 'feb%')
END)"""

SIZE = "(coalesce(bytes_out, 0) + coalesce(bytes_in, 0))"
NAME = "lower(coalesce(tls_sni, http_host))"

WINDOW = """
SELECT min(start_ts) AS window_start, max(start_ts + duration) AS window_end, count(*) AS n_flows,
       count(DISTINCT CASE WHEN src_domestic THEN src_ip END) AS n_domestic_sources,
       count(DISTINCT src_ip) AS n_sources
FROM flows
"""

#: IPv4 pairs are grouped on one integer key (source and destination numbers packed into a BIGINT, shifted so
#: that it never overflows) and selected with a semi-join; IPv6 pairs, whose numbers are null, on their text.
#: The distinct-timestamp rule is applied to the collected lists of the few eligible pairs rather than as a
#: distinct aggregate over every pair. Same answer, about half the time of grouping on text.
PAIR_KEY = "((src_ip_num - 2147483648) * 4294967296 + dst_ip_num)"

_PAIR_AGGREGATES = """min(src_ip) AS src_ip, min(dst_ip) AS dst_ip,
         max(CASE WHEN src_domestic THEN 1 ELSE 0 END) AS src_domestic,
         max(CASE WHEN dst_domestic THEN 1 ELSE 0 END) AS dst_domestic,
         max(CASE WHEN channel = 'transit' THEN 1 ELSE 0 END) AS transit,
         count(*) AS n, @LIST(start_ts) AS ts, @LIST({size}) AS sizes, @COLLECT(duration) AS durations,
         @COLLECT(dst_port) AS dst_ports"""

PAIR_SERIES_BY_ADDRESS = """
WITH keyed AS (
  SELECT *, """ + PAIR_KEY + """ AS pair_key FROM flows WHERE {routable}
), eligible_v4 AS (
  SELECT pair_key AS e_key FROM keyed WHERE pair_key IS NOT NULL
  GROUP BY pair_key HAVING count(*) >= {min_connections}
), eligible_v6 AS (
  SELECT src_ip AS e_src, dst_ip AS e_dst FROM keyed WHERE pair_key IS NULL
  GROUP BY src_ip, dst_ip HAVING count(*) >= {min_connections}
), series AS (
  SELECT """ + _PAIR_AGGREGATES + """
  FROM keyed WHERE pair_key IN (SELECT e_key FROM eligible_v4)
  GROUP BY pair_key
  UNION ALL
  SELECT """ + _PAIR_AGGREGATES + """
  FROM keyed JOIN eligible_v6 ON src_ip = e_src AND dst_ip = e_dst
  WHERE pair_key IS NULL
  GROUP BY src_ip, dst_ip
)
SELECT * FROM series WHERE @NDISTINCT(ts) >= {min_connections}
"""

PAIR_SERIES_BY_NAME = """
WITH named AS (
  SELECT *, {name} AS dst_name FROM flows WHERE coalesce(tls_sni, http_host) IS NOT NULL AND {routable}
), eligible AS (
  SELECT src_ip AS e_src, dst_name AS e_name FROM named GROUP BY src_ip, dst_name
  HAVING count(*) >= {min_connections}
)
SELECT src_ip, dst_name, min(dst_ip) AS dst_ip,
       max(CASE WHEN src_domestic THEN 1 ELSE 0 END) AS src_domestic,
       max(CASE WHEN dst_domestic THEN 1 ELSE 0 END) AS dst_domestic,
       max(CASE WHEN channel = 'transit' THEN 1 ELSE 0 END) AS transit,
       count(*) AS n, @COLLECT(start_ts) AS ts, @COLLECT({size}) AS sizes, @COLLECT(duration) AS durations,
       @COLLECT(dst_port) AS dst_ports
FROM named JOIN eligible ON src_ip = e_src AND dst_name = e_name
GROUP BY src_ip, dst_name
HAVING count(DISTINCT start_ts) >= {min_connections}
"""

PREVALENCE_BY_ADDRESS = """
SELECT dst_ip AS dst_key, count(DISTINCT CASE WHEN src_domestic THEN src_ip END) AS n_domestic_sources,
       count(DISTINCT src_ip) AS n_sources
FROM flows
WHERE {routable}
GROUP BY dst_ip
"""

PREVALENCE_BY_NAME = """
SELECT {name} AS dst_key, count(DISTINCT CASE WHEN src_domestic THEN src_ip END) AS n_domestic_sources,
       count(DISTINCT src_ip) AS n_sources
FROM flows
WHERE coalesce(tls_sni, http_host) IS NOT NULL
GROUP BY {name}
"""

FIRST_CONTACTS = """
SELECT src_ip, dst_ip, min(start_ts) AS first_ts,
       min(CASE WHEN failed = 0 THEN start_ts END) AS first_ok_ts,
       count(*) AS n, sum(failed) AS n_failed
FROM (SELECT src_ip, dst_ip, start_ts, {failed} AS failed FROM flows) AS attempts
GROUP BY src_ip, dst_ip
"""

HORIZONTAL_SPREAD = """
WITH attempts AS (
  SELECT src_ip, proto, dst_port, dst_ip, start_ts, {failed} AS failed FROM flows WHERE proto NOT IN (1, 58)
), eligible AS (
  SELECT src_ip AS e_src, proto AS e_proto, dst_port AS e_port FROM attempts
  GROUP BY src_ip, proto, dst_port HAVING count(*) >= {min_addresses}
)
SELECT src_ip, proto, dst_port, count(DISTINCT dst_ip) AS n_addresses,
       count(DISTINCT CASE WHEN failed = 1 THEN dst_ip END) AS n_failed_addresses,
       min(start_ts) AS first_ts, max(start_ts) AS last_ts, count(*) AS n,
       @COLLECT(dst_ip) AS dst_ips, @COLLECT(start_ts) AS ts
FROM attempts JOIN eligible ON src_ip = e_src AND proto = e_proto AND dst_port = e_port
GROUP BY src_ip, proto, dst_port
HAVING count(DISTINCT dst_ip) >= {min_addresses}
"""

VERTICAL_SPREAD = """
WITH attempts AS (
  SELECT src_ip, dst_ip, dst_port, start_ts, {failed} AS failed FROM flows WHERE proto NOT IN (1, 58)
), eligible AS (
  SELECT src_ip AS e_src, dst_ip AS e_dst FROM attempts GROUP BY src_ip, dst_ip HAVING count(*) >= {min_ports}
)
SELECT src_ip, dst_ip, count(DISTINCT dst_port) AS n_ports,
       count(DISTINCT CASE WHEN failed = 1 THEN dst_port END) AS n_failed_ports,
       min(start_ts) AS first_ts, max(start_ts) AS last_ts, count(*) AS n,
       @COLLECT(dst_port) AS dst_ports, @COLLECT(start_ts) AS ts
FROM attempts JOIN eligible ON src_ip = e_src AND dst_ip = e_dst
GROUP BY src_ip, dst_ip
HAVING count(DISTINCT dst_port) >= {min_ports}
"""

NXDOMAIN_WINDOWS = """
SELECT src_ip, CAST(floor(start_ts / {window_s}) AS BIGINT) AS bucket,
       count(DISTINCT CASE WHEN dns_rcode = 3 THEN lower(dns_query) END) AS nx_names,
       sum(CASE WHEN dns_rcode = 3 THEN 1 ELSE 0 END) AS n_nx, count(*) AS n,
       min(start_ts) AS first_ts, max(start_ts) AS last_ts,
       @COLLECT_SET(CASE WHEN dns_rcode = 3 THEN lower(dns_query) END) AS nx_sample,
       min(dst_ip) AS resolver
FROM flows
WHERE dns_query IS NOT NULL
GROUP BY src_ip, CAST(floor(start_ts / {window_s}) AS BIGINT)
HAVING count(DISTINCT CASE WHEN dns_rcode = 3 THEN lower(dns_query) END) >= {min_names}
"""

DNS_NAMES = """
WITH busy AS (
  SELECT src_ip AS b_src FROM flows WHERE dns_query IS NOT NULL
  GROUP BY src_ip HAVING count(DISTINCT lower(dns_query)) >= {min_names}
)
SELECT src_ip, lower(dns_query) AS name, count(*) AS n, min(start_ts) AS first_ts, max(start_ts) AS last_ts
FROM flows JOIN busy ON src_ip = b_src
WHERE dns_query IS NOT NULL
GROUP BY src_ip, lower(dns_query)
"""

LONG_CONNECTIONS = """
WITH eligible AS (
  SELECT src_ip AS e_src, dst_ip AS e_dst FROM flows GROUP BY src_ip, dst_ip
  HAVING max(duration) >= {single_s} OR sum(duration) >= {total_s}
)
SELECT src_ip, dst_ip, count(*) AS n, sum(duration) AS total_duration, max(duration) AS max_duration,
       min(start_ts) AS first_ts, max(start_ts + duration) AS last_ts,
       sum(CASE WHEN duration >= {single_s} THEN 1 ELSE 0 END) AS n_long,
       @COLLECT(start_ts) AS ts, @COLLECT(duration) AS durations, @COLLECT(dst_port) AS dst_ports,
       @COLLECT({size}) AS sizes
FROM flows JOIN eligible ON src_ip = e_src AND dst_ip = e_dst
GROUP BY src_ip, dst_ip
"""


def fill(template: str, **values: object) -> str:
    """Fill a query template's ``{name}`` slots (numbers and the shared SQL fragments above only)."""
    for key, value in values.items():
        if not isinstance(value, int | float):
            raise TypeError(f"query parameter {key} must be a number, got {type(value).__name__}")
    return template.format(failed=FAILED, size=SIZE, name=NAME, routable=ROUTABLE_DST, **values)
