"""``mamori traffic``: flow ingest and collection, detection, findings, early-warning reports, measures.

Thin: every command calls :class:`mamori.traffic.service.TrafficService`; the API offers the same operations.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

import typer
from babel.messages.pofile import read_po
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mamori.cli.common import console, context, fail, out
from mamori.errors import InvalidInput
from mamori.i18n import cli_locale, translations
from mamori.kernel.timefmt import format_timestamp, parse_timestamp
from mamori.traffic.findings_store import FindingFilter, StoredFinding, parse_kinds, parse_severity
from mamori.traffic.service import traffic_service

app = typer.Typer(help="Active cyber defence: flows, detection, findings, early warning.", no_args_is_help=True)
approval_app = typer.Typer(help="Approvals of the oversight commission for flow collection.", no_args_is_help=True)
measure_app = typer.Typer(help="Measures proposed from findings (never executed here).", no_args_is_help=True)
constituency_app = typer.Typer(help="Operator constituencies (prefixes, ASNs, domains).", no_args_is_help=True)
app.add_typer(approval_app, name="approval")
app.add_typer(measure_app, name="measure")
app.add_typer(constituency_app, name="constituency")

FINDING_COLUMNS = ("id", "kind", "severity", "score", "credibility", "source", "source_name", "destination",
                   "destination_name", "destination_port", "first_seen", "last_seen", "evidence_count", "sub_scores",
                   "fired")


def _(message: str, **values: object) -> str:
    """A message in the CLI's language: this capability's catalog first (shared with its web pages), then
    mamori's; ``{name}`` placeholders filled."""
    locale = cli_locale()
    own = traffic_catalog() if locale == "ja" else {}
    text = own.get(message) or translations(locale).gettext(message)
    return text.format(**values) if values else text


@lru_cache(maxsize=1)
def traffic_catalog() -> dict[str, str]:
    """The Japanese messages of the traffic pages and commands (``web/templates/traffic/traffic.ja.po``)."""
    import mamori.web

    path = Path(mamori.web.__file__).resolve().parent / "templates" / "traffic" / "traffic.ja.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale="ja", abort_invalid=True)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def parse_when(text: str | None, where: str) -> datetime | None:
    """An RFC 3339 time, or a date (``YYYY-MM-DD``, midnight UTC)."""
    if text is None:
        return None
    value = text.strip()
    if len(value) == 10:
        try:
            return datetime.combine(date.fromisoformat(value), time(0, 0), tzinfo=UTC)
        except ValueError as e:
            raise InvalidInput(f"not a date (YYYY-MM-DD): {text!r}", where=where) from e
    return parse_timestamp(value, where=where)


def parse_day(text: str | None, where: str = "--day") -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as e:
        raise InvalidInput(f"not a date (YYYY-MM-DD): {text!r}", where=where) from e


def finding_record(s: StoredFinding) -> dict[str, Any]:
    """One finding as the CLI and the API list it."""
    f = s.finding
    return {
        "id": s.id,
        "kind": f.kind.value,
        "severity": f.severity.value,
        "score": f.score,
        "credibility": int(f.credibility),
        "source": f.src.address,
        "source_name": f.src.name,
        "destination": f.dst.address,
        "destination_name": f.dst.name,
        "destination_port": f.dst.port,
        "first_seen": format_timestamp(f.first_seen),
        "last_seen": format_timestamp(f.last_seen),
        "evidence_count": f.evidence_count,
        "sub_scores": dict(f.sub_scores),
        "fired": list(f.fired),
    }


def _by() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


@app.command("ingest")
def ingest(
    paths: list[Path] = typer.Argument(..., help="Flow files (Zeek logs, NetFlow/IPFIX captures, pcap)."),
    fmt: str = typer.Option("zeek", "--format", "-f", help="zeek, netflow, ipfix or pcap."),
    channel: str = typer.Option("agreement", "--channel", help="agreement, transit or specific."),
    approval: str | None = typer.Option(None, "--approval", help="Approval (or operator agreement) id."),
    sensor: str = typer.Option("cli", "--sensor", help="Name of the sensor the flows come from."),
) -> None:
    """Ingest flow files as one batch: approval checked, minimised, stored; nothing stored on refusal."""
    with context() as ctx, Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                    console=console, transient=True) as bar:
        bar.add_task(_("ingesting {count} file(s)", count=len(paths)), total=None)
        report = traffic_service(ctx).ingest_paths(paths, format=fmt, channel=channel, approval_id=approval,
                                                   sensor=sensor)
    out.print(_("batch {batch}: {stored} of {total} records stored, {domestic} domestic-only dropped",
                batch=report.batch_id, stored=report.records_stored, total=report.records_in,
                domestic=report.dropped_domestic)
              + (_("; fields dropped: {fields}", fields=", ".join(report.dropped_fields))
                 if report.dropped_fields else ""),
              highlight=False)
    for e in report.errors[:20]:
        out.print(_("  skipped: {reason}", reason=e), highlight=False)


@app.command("collect")
def collect(
    listen: str = typer.Option(..., "--listen", help="HOST:PORT to receive NetFlow/IPFIX datagrams on."),
    channel: str = typer.Option("agreement", "--channel", help="agreement, transit or specific."),
    approval: str | None = typer.Option(None, "--approval", help="Approval (or operator agreement) id."),
    sensor: str = typer.Option("collector", "--sensor", help="Name of the exporting sensor."),
) -> None:
    """Receive NetFlow v5/v9 and IPFIX over UDP until interrupted; each flush is ingested as a batch."""
    with context() as ctx:
        collector = traffic_service(ctx).collector(listen, channel=channel, approval_id=approval, sensor=sensor)
        host, port = collector.start()
        console.print(_("listening on {host}:{port} (Ctrl-C to stop)", host=host, port=port))
        try:
            collector.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            collector.stop()
        console.print(_("stopped after {count} datagrams", count=collector.datagrams_received))


@app.command("detect")
def detect(
    since: str | None = typer.Option(None, "--since", help="From this time (RFC 3339 or YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Before this time (RFC 3339 or YYYY-MM-DD)."),
    engine: str | None = typer.Option(None, "--engine", help="duckdb or spark (default: settings)."),
) -> None:
    """Run the detectors over stored flows and store the findings (and their STIX 2.1 form)."""
    with context() as ctx, Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                    console=console, transient=True) as bar:
        bar.add_task(_("detecting"), total=None)
        r = traffic_service(ctx).detect(since=parse_when(since, "--since"), until=parse_when(until, "--until"),
                                        engine=engine)
    out.print(_("{flows} flows over {days} day(s) on {engine}: {findings} findings ({added} new, {changed} updated, "
                "{unchanged} unchanged); {stix} STIX objects added", flows=r.flows, days=len(r.days), engine=r.engine,
                findings=r.findings, added=r.added, changed=r.changed, unchanged=r.unchanged, stix=r.stix_added),
              highlight=False)
    for p in r.stix_problems[:20]:
        out.print(_("  STIX not stored: {problem}", problem=p), highlight=False)


@app.command("findings")
def findings(
    kind: list[str] = typer.Option([], "--kind", "-k", help="Only this kind (repeatable)."),
    since: str | None = typer.Option(None, "--since", help="Last seen at or after (RFC 3339 or YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="First seen before (RFC 3339 or YYYY-MM-DD)."),
    min_severity: str | None = typer.Option(None, "--min-severity", help="info, low, medium, high, critical."),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json or csv."),
    limit: int = typer.Option(200, "--limit", help="At most this many."),
) -> None:
    """List stored findings: kind, source, destination, score and sub-scores, first/last seen, evidence."""
    if fmt not in ("text", "json", "csv"):
        fail(_("{where}: unknown format {value} (text, json, csv)", where="--format", value=repr(fmt)))
    with context() as ctx:
        flt = FindingFilter(kinds=parse_kinds(kind, "--kind"), since=parse_when(since, "--since"),
                            until=parse_when(until, "--until"),
                            min_severity=parse_severity(min_severity, "--min-severity") if min_severity else None,
                            limit=limit)
        items, total = traffic_service(ctx).findings(flt)
    records = [finding_record(s) for s in items]
    if fmt == "json":
        out.print(json.dumps(records, ensure_ascii=False, indent=1), highlight=False, markup=False)
        return
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(FINDING_COLUMNS)
        for r in records:
            writer.writerow(json.dumps(r[c], sort_keys=True) if isinstance(r[c], dict | list) else
                            ("" if r[c] is None else r[c]) for c in FINDING_COLUMNS)
        out.print(buf.getvalue(), end="", highlight=False, markup=False)
        return
    for s in items:
        f = s.finding
        subs = ", ".join(f"{k}={v:g}" for k, v in list(f.sub_scores.items())[:6])
        out.print(f"{s.id}  {f.kind.value:<16} {f.severity.value:<8} score {f.score:.3f}  "
                  f"{f.src.label()} -> {f.dst.label()}  {format_timestamp(f.first_seen)} .. "
                  f"{format_timestamp(f.last_seen)}  evidence {f.evidence_count}  [{subs}]",
                  highlight=False, markup=False)
    console.print(_("{shown} of {total} finding(s)", shown=len(items), total=total))


@app.command("report")
def report(
    organisation: str | None = typer.Option(None, "--organisation", "-o", help="Operator organisation (key or id)."),
    day: str | None = typer.Option(None, "--day", help="UTC day YYYY-MM-DD (default: today; yesterday with --all)."),
    output: Path | None = typer.Option(None, "--output", help="Write the CSV to this file (a folder with --all)."),
    all_operators: bool = typer.Option(False, "--all", help="Every operator's report (the daily run)."),
) -> None:
    """An operator's early-warning report for one day, as CSV (Shadowserver-style columns)."""
    if all_operators == (organisation is not None):
        fail(_("give either --organisation ORG or --all"))
    with context() as ctx:
        svc = traffic_service(ctx)
        if all_operators:
            if output is None:
                fail(_("--all needs --output FOLDER"))
            assert output is not None
            reports = svc.daily_reports(parse_day(day))
            output.mkdir(parents=True, exist_ok=True)
            for rep in reports:
                (output / rep.filename).write_text(rep.to_csv(), encoding="utf-8")
                out.print(_("{organisation}: {rows} row(s) -> {path}", organisation=rep.organisation_key,
                            rows=len(rep.rows), path=output / rep.filename), highlight=False)
            return
        assert organisation is not None
        rep = svc.early_warning(organisation, parse_day(day))
    text = rep.to_csv()
    if output is None:
        out.print(text, end="", highlight=False, markup=False)
        return
    output.write_text(text, encoding="utf-8")
    console.print(_("wrote {rows} row(s) to {path}", rows=len(rep.rows), path=output))


@app.command("purge")
def purge() -> None:
    """Delete every stored flow whose retention has run out."""
    with context() as ctx:
        r = traffic_service(ctx).purge()
    out.print(_("{removed} records removed ({deleted} files deleted, {rewritten} rewritten), {kept} kept",
                removed=r.records_removed, deleted=r.files_deleted, rewritten=r.files_rewritten, kept=r.records_kept),
              highlight=False)


@approval_app.command("add")
def approval_add(
    approval_id: str = typer.Option(..., "--id", help="The commission's approval id."),
    channel: str = typer.Option(..., "--channel", help="agreement, transit or specific."),
    valid_from: str = typer.Option(..., "--valid-from", help="RFC 3339 or YYYY-MM-DD."),
    valid_until: str = typer.Option(..., "--valid-until", help="RFC 3339 or YYYY-MM-DD."),
    granted_by: str = typer.Option(..., "--granted-by", help="Who granted it."),
    scope: list[str] = typer.Option([], "--scope", help="CIDR prefix of suspect servers (repeatable)."),
) -> None:
    """Record an approval decided by the oversight commission."""
    with context() as ctx:
        start = parse_when(valid_from, "--valid-from")
        end = parse_when(valid_until, "--valid-until")
        assert start is not None and end is not None
        a = traffic_service(ctx).add_approval(approval_id=approval_id, channel=channel, scope=scope or None,
                                              valid_from=start, valid_until=end, granted_by=granted_by)
    out.print(_("approval {id} for {channel} recorded", id=a.id, channel=a.channel.value), highlight=False)


@approval_app.command("list")
def approval_list() -> None:
    """List recorded approvals."""
    with context() as ctx:
        items = traffic_service(ctx).list_approvals()
    for a in items:
        state = "revoked" if a.revoked_at else "active"
        out.print(f"{a.id}\t{a.channel.value}\t{a.valid_from.isoformat()}\t{a.valid_until.isoformat()}\t"
                  f"{','.join(a.scope) if a.scope else '*'}\t{a.granted_by}\t{state}", highlight=False)


@measure_app.command("propose")
def measure_propose(
    finding_id: str = typer.Argument(..., help="The finding's id."),
    kind: str = typer.Option(..., "--kind", help="block, sinkhole, takedown-request or neutralisation."),
    reason: str | None = typer.Option(None, "--reason", help="Why."),
    by: str | None = typer.Option(None, "--by", help="Who proposes (default: the OS user)."),
) -> None:
    """Propose a measure with the finding's evidence package; its state stays 'proposed'."""
    with context() as ctx:
        m = traffic_service(ctx).propose_measure(finding_id, kind, proposed_by=by or _by(), reason=reason)
    out.print(_("measure {id}: {kind} of {target} proposed (evidence sha256 {sha})", id=m.id, kind=m.kind.value,
                target=m.target, sha=m.evidence_sha256), highlight=False)


@measure_app.command("list")
def measure_list(finding_id: str | None = typer.Option(None, "--finding", help="Only for this finding.")) -> None:
    """List proposed measures."""
    with context() as ctx:
        items = traffic_service(ctx).measures(finding_id)
    for m in items:
        out.print(f"{m.id}\t{m.kind.value}\t{m.state.value}\t{m.target}\t{m.finding_id}\t"
                  f"{format_timestamp(m.proposed_at)}\t{m.proposed_by}", highlight=False)


@constituency_app.command("add")
def constituency_add(
    organisation: str = typer.Option(..., "--organisation", "-o", help="Operator organisation (key or id)."),
    prefix: list[str] = typer.Option([], "--prefix", help="CIDR prefix (repeatable)."),
    asn: list[str] = typer.Option([], "--asn", help="AS number (repeatable)."),
    domain: list[str] = typer.Option([], "--domain", help="Domain (repeatable)."),
) -> None:
    """Add prefixes, ASNs and domains to an operator's constituency (all or nothing)."""
    with context() as ctx:
        added = traffic_service(ctx).add_constituency(organisation, prefixes=prefix, asns=asn, domains=domain,
                                                      added_by=_by())
    out.print(_("constituency of {organisation}: {count} added", organisation=organisation, count=len(added)),
              highlight=False)


@constituency_app.command("remove")
def constituency_remove(
    organisation: str = typer.Option(..., "--organisation", "-o", help="Operator organisation (key or id)."),
    prefix: list[str] = typer.Option([], "--prefix", help="CIDR prefix (repeatable)."),
    asn: list[str] = typer.Option([], "--asn", help="AS number (repeatable)."),
    domain: list[str] = typer.Option([], "--domain", help="Domain (repeatable)."),
) -> None:
    """Remove entries from an operator's constituency."""
    with context() as ctx:
        n = traffic_service(ctx).remove_constituency(organisation, prefixes=prefix, asns=asn, domains=domain)
    out.print(_("constituency of {organisation}: {count} removed", organisation=organisation, count=n),
              highlight=False)


@constituency_app.command("list")
def constituency_list(
    organisation: str = typer.Option(..., "--organisation", "-o", help="Operator organisation (key or id)."),
) -> None:
    """Show an operator's constituency."""
    with context() as ctx:
        entries = traffic_service(ctx).constituency_entries(organisation)
    for e in entries:
        out.print(f"{e.entry.kind.value}\t{e.entry.value}\t{format_timestamp(e.added_at)}\t{e.added_by}",
                  highlight=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="traffic")


__all__ = ["app", "finding_record", "parse_day", "parse_when", "register"]
