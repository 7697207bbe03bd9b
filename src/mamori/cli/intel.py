"""``mamori intel``: import, export, look up."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mamori.cli.common import _, console, context, out

app = typer.Typer(help="Threat intelligence: import, export and look up.", no_args_is_help=True)


@app.command("import")
def import_(
    files: list[Path] = typer.Argument(..., help="STIX bundles, MISP event JSON, or indicator lists (.txt/.csv)."),
    fmt: str = typer.Option("auto", "--format", "-f", help="auto, stix, misp, csv or text."),
    collection: list[str] = typer.Option([], "--collection", "-c", help="Also add to this TAXII collection."),
    tlp: str | None = typer.Option(None, "--tlp", help="TLP for plain lists and untagged MISP events."),
) -> None:
    """Import files; invalid objects are reported with their index and reason, valid ones stored."""
    total_problems = 0
    # Refreshed by hand, not by a thread of its own: with no other thread running, a large import may fork its
    # worker processes, which start at once (mamori.intel.bulk).
    with context() as ctx, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                    TimeElapsedColumn(), console=console, transient=True,
                                    auto_refresh=False) as bar:
        task = bar.add_task(_("importing"), total=len(files))
        objects = bar.add_task(_("objects"), total=None)
        for path in files:
            bar.update(task, description=_("importing {name}", name=path.name))
            bar.reset(objects, total=None)
            bar.refresh()
            report = ctx.intel.import_file(
                path, fmt=fmt, collections=collection, default_tlp=tlp,
                progress=lambda done, total: bar.update(objects, completed=done, total=total, refresh=True),
            )
            bar.advance(task)
            bar.refresh()
            out.print(_("{path}: {added} added, {duplicates} already present, {invalid} invalid", path=path,
                        added=report.added, duplicates=report.duplicates, invalid=report.invalid), highlight=False)
            for p in report.problems[:50]:
                out.print(f"  [{p.index}] {p.object_id or ''} {p.reason}", highlight=False)
            if report.invalid > 50:
                out.print(_("  ... and {count} more", count=report.invalid - 50), highlight=False)
            total_problems += report.invalid
    if total_problems:
        raise typer.Exit(3)


@app.command("export")
def export(
    fmt: str = typer.Option("stix", "--format", "-f", help="stix, suricata or zeek."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (or directory for suricata)."),
    type_: list[str] = typer.Option([], "--type", help="Only these STIX types (stix format)."),
) -> None:
    """Export a STIX bundle or sensor feeds of current, unexpired, unrevoked indicators."""
    with context() as ctx:
        if fmt == "stix":
            text = json.dumps(ctx.intel.export_bundle(ctx.intel.full_clearance("export"), types=type_),
                              ensure_ascii=False, indent=1)
            files = {"bundle.json": text}
        else:
            files = ctx.intel.export_feed(fmt)
    if output is None:
        for body in files.values():
            out.print(body, end="", highlight=False, markup=False, soft_wrap=True)
        return
    if len(files) == 1 and not output.is_dir():
        output.write_text(next(iter(files.values())), encoding="utf-8")
        console.print(_("wrote {path}", path=output))
        return
    output.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (output / name).write_text(body, encoding="utf-8")
    console.print(_("wrote {count} files to {path}", count=len(files), path=output))


@app.command("lookup")
def lookup(value: str = typer.Argument(..., help="An IP, domain, URL, hash or e-mail address.")) -> None:
    """Show current indicators matching a value."""
    with context() as ctx:
        hits = ctx.intel.lookup(value, ctx.intel.full_clearance())
    if not hits:
        out.print(_("no current indicator matches"))
        raise typer.Exit(4)
    for h in hits:
        out.print(f"{h.stix_id}\t{h.kind}\t{h.value}\t{h.name or ''}", highlight=False)
