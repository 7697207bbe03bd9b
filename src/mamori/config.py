"""One settings tree for mamori: ``MAMORI_*`` environment variables, then an optional TOML file.

Zero configuration gives the embedded defaults: a SQLite file and Parquet/DuckDB analytics under the data
directory. ``MAMORI_CONFIG=/path/mamori.toml`` adds a file; environment variables win over it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development", "mamori"})


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mamori"


class Settings(BaseSettings):
    """Every knob of mamori. Read once in the composition root, then passed down."""

    model_config = SettingsConfigDict(env_prefix="MAMORI_", extra="ignore", env_nested_delimiter="__")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    secret_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = 8470
    base_url: str | None = None

    default_locale: Literal["ja", "en"] = "ja"
    display_timezone: str = "Asia/Tokyo"

    # Threat-intelligence sharing.
    tlp_unmarked_default: str = "TLP:RED"
    taxii_max_content_length: int = 10 * 1024 * 1024
    taxii_default_page_size: int = 100
    taxii_max_page_size: int = 1000
    # Large imports (``mamori intel import``): objects per chunk, and processes that validate and prepare chunks
    # while the importing process writes (None: one per core beyond the writer's; 0: none).
    intel_import_chunk: int = Field(default=2000, ge=1)
    intel_import_workers: int | None = Field(default=None, ge=0)
    session_max_age_s: int = 8 * 3600

    # Active cyber defence (flow analytics).
    domestic_prefixes: list[str] = Field(default_factory=list)
    domestic_asns: list[int] = Field(default_factory=list)
    traffic_findings_tlp: str = "TLP:AMBER"
    # Fields an operator agreement lets the agreement channel keep beyond mechanical information
    # (dns_query, dns_rcode, tls_sni, http_host); empty: the strict default profile.
    traffic_agreement_fields: list[str] = Field(default_factory=list)
    # Retention per channel in days (agreement, transit, specific); empty: the built-in defaults.
    traffic_retention_days: dict[str, float] = Field(default_factory=dict)
    analytics_engine: Literal["duckdb", "spark"] = "duckdb"
    spark_master: str = "local[2]"

    @field_validator("tlp_unmarked_default", "traffic_findings_tlp")
    @classmethod
    def _tlp_label(cls, v: str) -> str:
        allowed = {"TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"}
        if v.upper() not in allowed:
            raise ValueError(f"must be one of {sorted(allowed)}")
        return v.upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("MAMORI_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'mamori.db'}"

    def model_post_init(self, __context: Any) -> None:
        if self.env == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if key.strip().lower() in PLACEHOLDER_SECRETS or len(key) < 32:
                raise ValueError(
                    "MAMORI_SECRET_KEY must be set to a random value of at least 32 characters in production"
                )
