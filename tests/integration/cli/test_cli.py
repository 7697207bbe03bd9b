"""The command line: help everywhere, one-line reasons and non-zero exits on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.stixgen import indicator, malware
from typer.testing import CliRunner

from mamori.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAMORI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MAMORI_LOCALE", "en")
    monkeypatch.delenv("MAMORI_DATABASE_URL", raising=False)
    return tmp_path


def _commands(typer_app: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    import typer.main

    group = typer.main.get_command(typer_app)  # type: ignore[arg-type]
    out: list[tuple[str, ...]] = []

    def walk(cmd: object, path: tuple[str, ...]) -> None:
        out.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, (*path, name))

    walk(group, prefix)
    return out


def test_every_command_has_help(env: Path) -> None:
    commands = _commands(app)
    assert ("user", "create") in commands and ("intel", "import") in commands
    for path in commands:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage" in result.output


def test_user_and_token_creation(env: Path) -> None:
    r = runner.invoke(app, ["user", "create", "--username", "admin", "--role", "admin"])
    assert r.exit_code == 0 and "password:" in r.output
    r = runner.invoke(app, ["token", "create", "--username", "admin"])
    assert r.exit_code == 0 and r.output.strip().startswith("mamori_")


def test_disabling_and_enabling_a_user(env: Path) -> None:
    assert runner.invoke(app, ["user", "create", "--username", "bob", "--role", "analyst"]).exit_code == 0
    r = runner.invoke(app, ["user", "disable", "--username", "bob"])
    assert r.exit_code == 0 and "disabled bob" in r.output
    listed = runner.invoke(app, ["user", "list"]).output
    assert any(line.startswith("bob") and line.endswith("disabled") for line in listed.splitlines())
    r = runner.invoke(app, ["user", "enable", "--username", "bob"])
    assert r.exit_code == 0 and "enabled bob" in r.output
    listed = runner.invoke(app, ["user", "list"]).output
    assert any(line.startswith("bob") and line.endswith("active") for line in listed.splitlines())
    r = runner.invoke(app, ["user", "disable", "--username", "ghost"])
    assert r.exit_code == 1 and "no user 'ghost'" in r.output


def test_failures_give_one_line_reason_and_non_zero_exit(env: Path) -> None:
    r = runner.invoke(app, ["user", "create", "--username", "x y", "--role", "analyst"])
    assert r.exit_code == 1
    assert "error:" in r.output and len(r.output.strip().splitlines()) == 1
    r = runner.invoke(app, ["token", "create", "--username", "ghost"])
    assert r.exit_code == 1 and "no user 'ghost'" in r.output


def test_import_reports_invalid_objects_and_stores_valid_ones(env: Path) -> None:
    bundle = env / "b.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--0f3b6c1e-7e1c-4b2a-9d0a-5b0c6f1e2d3a",
                                  "objects": [indicator(1), {"type": "malware", "id": "bad"}, malware(2)]}))
    r = runner.invoke(app, ["intel", "import", str(bundle)])
    assert r.exit_code == 3
    assert "2 added" in r.output and "1 invalid" in r.output and "[1]" in r.output
    r = runner.invoke(app, ["intel", "import", str(bundle)])
    assert "0 added, 2 already present" in r.output


def test_import_of_plain_list_and_lookup_and_feed_export(env: Path) -> None:
    iocs = env / "iocs.txt"
    iocs.write_text("# campaign X\n198.51.100.9\nevil.example\nnot a value!!\n")
    r = runner.invoke(app, ["intel", "import", str(iocs), "--tlp", "TLP:GREEN"])
    assert "2 added" in r.output and "invalid" in r.output
    r = runner.invoke(app, ["intel", "lookup", "198.51.100.9"])
    assert r.exit_code == 0 and "198.51.100.9" in r.output
    out = env / "feeds"
    r = runner.invoke(app, ["intel", "export", "--format", "suricata", "-o", str(out)])
    assert r.exit_code == 0 and any(out.iterdir())


def test_import_of_malformed_file_fails_cleanly(env: Path) -> None:
    bad = env / "bad.json"
    bad.write_text("{oops")
    r = runner.invoke(app, ["intel", "import", str(bad)])
    assert r.exit_code == 1 and "malformed JSON" in r.output
    r = runner.invoke(app, ["intel", "import", str(env / "missing.json")])
    assert r.exit_code == 1 and "cannot read" in r.output


def test_reimporting_a_plain_list_adds_nothing(env: Path) -> None:
    iocs = env / "iocs.csv"
    iocs.write_text("value,description\n198.51.100.9,staging\nbad.example,c2\n")
    assert "2 added" in runner.invoke(app, ["intel", "import", str(iocs)]).output
    r = runner.invoke(app, ["intel", "import", str(iocs)])
    assert "0 added, 2 already present" in r.output


def test_messages_follow_the_users_language(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_LOCALE", "ja")
    r = runner.invoke(app, ["user", "create", "--username", "admin", "--role", "admin"])
    assert "ユーザー admin（admin）を作成しました" in r.output and "パスワード:" in r.output
    r = runner.invoke(app, ["token", "create", "--username", "ghost"])
    assert r.exit_code == 1 and r.output.startswith("エラー:")
