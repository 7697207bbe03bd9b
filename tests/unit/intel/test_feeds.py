"""Behaviour of the sensor feed writers: Suricata datasets and IP reputation, Zeek Intel files."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from mamori.errors import InvalidInput
from mamori.intel.feeds import (
    ZEEK_HEADER,
    IpRepCategory,
    iprep_score,
    suricata_dataset_domains,
    suricata_dataset_ipv4,
    suricata_dataset_ipv6,
    suricata_dataset_md5,
    suricata_dataset_sha256,
    suricata_dataset_urls,
    suricata_datasets,
    suricata_files,
    suricata_iprep,
    suricata_iprep_categories,
    zeek_intel,
)
from mamori.intel.tlp import Tlp

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def record(kind: str, value: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": kind,
        "value": value,
        "indicator_id": f"indicator--{kind}",
        "name": f"{kind} {value}",
        "confidence": 80,
        "tlp": None,
        "valid_until": None,
    }
    base.update(extra)
    return base


RECORDS = [
    record("domain", "Evil.Example"),
    record("domain", "b.example", tlp=Tlp.RED),
    record("url", "https://phish.example/login?u=1"),
    record("ipv4", "198.51.100.7", confidence=100),
    record("ipv4", "198.51.100.7", confidence=10),
    record("ipv4-cidr", "203.0.113.0/24", confidence=0),
    record("ipv6", "2001:DB8::1"),
    record("sha256", SHA256.upper()),
    record("md5", MD5),
    record("sha1", "a" * 40),
    record("email", "x@mail.example", name="sender\tof\nphish"),
    record("port", "443"),
    record("domain", "old.example", valid_until="2026-01-01T00:00:00Z"),
]


def decoded(text: str) -> list[str]:
    return [base64.b64decode(line).decode("utf-8") for line in text.splitlines()]


def test_string_datasets_are_base64_lines_sorted_and_deduplicated() -> None:
    assert decoded(suricata_dataset_domains(RECORDS)) == sorted(["evil.example", "b.example", "old.example"])
    assert decoded(suricata_dataset_urls(RECORDS)) == ["phish.example/login?u=1"]


def test_address_and_hash_datasets_are_plain_lines() -> None:
    assert suricata_dataset_ipv4(RECORDS) == "198.51.100.7\n"
    assert suricata_dataset_ipv6(RECORDS) == "2001:db8::1\n"
    assert suricata_dataset_sha256(RECORDS) == SHA256 + "\n"
    assert suricata_dataset_md5(RECORDS) == MD5 + "\n"


def test_expired_and_too_restricted_records_are_left_out() -> None:
    at = datetime(2026, 6, 1, tzinfo=UTC)
    assert decoded(suricata_dataset_domains(RECORDS, at=at, max_tlp=Tlp.AMBER)) == ["evil.example"]


def test_empty_feed_is_an_empty_file() -> None:
    assert suricata_dataset_ipv4([]) == ""


def test_datasets_mapping_has_every_file_and_the_yaml_that_loads_them() -> None:
    files = suricata_datasets(RECORDS)
    assert set(files) == {
        "mamori-domains.lst",
        "mamori-urls.lst",
        "mamori-ipv4.lst",
        "mamori-ipv6.lst",
        "mamori-md5.lst",
        "mamori-sha256.lst",
        "mamori-datasets.yaml",
    }
    yaml = files["mamori-datasets.yaml"]
    assert "  mamori-ipv6:\n    type: ip\n    load: mamori-ipv6.lst\n" in yaml
    assert "  mamori-domains:\n    type: string\n" in yaml


def test_bad_prefix_is_refused() -> None:
    with pytest.raises(InvalidInput):
        suricata_datasets(RECORDS, prefix="../etc/")


@pytest.mark.parametrize(("confidence", "score"), [(None, 64), (0, 1), (1, 2), (50, 64), (100, 127)])
def test_iprep_scores_map_confidence_onto_1_to_127(confidence: int | None, score: int) -> None:
    assert iprep_score(confidence) == score


def test_iprep_file_lists_addresses_and_networks_with_the_best_score() -> None:
    assert suricata_iprep(RECORDS) == "198.51.100.7,1,127\n2001:db8::1,1,102\n203.0.113.0/24,1,1\n"


def test_iprep_categories_file() -> None:
    categories = (IpRepCategory(2, "CnC", "Command and control"), IpRepCategory(1, "Scan", "Scanners"))
    assert suricata_iprep_categories(categories) == "1,Scan,Scanners\n2,CnC,Command and control\n"


@pytest.mark.parametrize(
    ("number", "name", "description"),
    [(0, "a", "b"), (61, "a", "b"), (1, "has space", "b"), (1, "a", "comma, here"), (1, "a", "new\nline")],
)
def test_bad_categories_are_refused(number: int, name: str, description: str) -> None:
    with pytest.raises(InvalidInput):
        IpRepCategory(number, name, description)


def test_duplicate_category_ids_are_refused() -> None:
    with pytest.raises(InvalidInput):
        suricata_iprep_categories((IpRepCategory(1, "a", "b"), IpRepCategory(1, "c", "d")))


def test_suricata_files_include_the_reputation_pair() -> None:
    files = suricata_files(RECORDS)
    assert files["mamori-iprep-categories.txt"] == "1,mamori,Indicators shared through mamori\n"
    assert files["mamori-iprep.list"].startswith("198.51.100.7,1,127\n")
    assert "mamori-sha256.lst" in files


def test_zeek_intel_file_has_the_header_types_and_no_scheme_in_urls() -> None:
    text = zeek_intel(RECORDS, url_template="https://cti.example/i/{indicator_id}")
    lines = text.splitlines()
    assert text.startswith(ZEEK_HEADER)
    assert lines[0] == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
    rows = {tuple(line.split("\t")[:2]) for line in lines[1:]}
    assert rows == {
        ("evil.example", "Intel::DOMAIN"),
        ("b.example", "Intel::DOMAIN"),
        ("old.example", "Intel::DOMAIN"),
        ("phish.example/login?u=1", "Intel::URL"),
        ("198.51.100.7", "Intel::ADDR"),
        ("203.0.113.0/24", "Intel::SUBNET"),
        ("2001:db8::1", "Intel::ADDR"),
        (SHA256, "Intel::FILE_HASH"),
        (MD5, "Intel::FILE_HASH"),
        ("a" * 40, "Intel::FILE_HASH"),
        ("x@mail.example", "Intel::EMAIL"),
    }
    for line in lines[1:]:
        assert len(line.split("\t")) == 5
    email = next(line for line in lines if line.startswith("x@mail.example"))
    assert email.split("\t")[3] == "sender of phish"
    assert email.split("\t")[4] == "https://cti.example/i/indicator--email"


def test_zeek_unset_fields_are_dashes() -> None:
    text = zeek_intel([record("ipv4", "192.0.2.1", name=None)])
    assert text.splitlines()[1] == "192.0.2.1\tIntel::ADDR\tmamori\t-\t-"


@pytest.mark.parametrize("value", ["evil\t.example", "evil.example\n198.51.100.1", "a\x00b"])
def test_values_with_tabs_or_newlines_are_refused_with_the_record_index(value: str) -> None:
    with pytest.raises(InvalidInput) as e:
        zeek_intel([record("ipv4", "192.0.2.1"), record("domain", value)])
    assert e.value.where == "records[1].value"


def test_values_that_do_not_fit_their_kind_are_refused() -> None:
    with pytest.raises(InvalidInput) as e:
        suricata_dataset_ipv4([record("ipv4", "300.1.1.1")])
    assert e.value.where == "records[0].value"


def test_unknown_tlp_in_a_record_is_refused_when_filtering() -> None:
    with pytest.raises(InvalidInput) as e:
        zeek_intel([record("ipv4", "192.0.2.1", tlp="purple")], max_tlp=Tlp.RED)
    assert e.value.where == "records[0].tlp"


def test_tlp_ranks_and_labels_both_filter() -> None:
    records = [record("ipv4", "192.0.2.1", tlp=3), record("ipv4", "192.0.2.2", tlp="TLP:GREEN")]
    assert suricata_dataset_ipv4(records, max_tlp=Tlp.AMBER) == "192.0.2.2\n"
