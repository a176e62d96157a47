"""The node's one settings class.

Values come, in order of precedence, from explicit arguments, ``TANLIAN_*`` environment
variables (nested with ``__``, e.g. ``TANLIAN_CHAIN__RPC_URL``) and ``node.toml`` in the
node's home. Anything invalid fails at load time with a readable message.
"""

from __future__ import annotations

import contextvars
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from node.errors import ConfigError, describe_validation

CONFIG_FILE = "node.toml"


def check_rpc_url(url: str) -> str:
    """A chain's JSON-RPC URL: http(s) with a host (anvil, Besu, ``tanlian chain serve``)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(
            f"chain RPC URL {url!r} must be an http(s) URL with a host, e.g. http://127.0.0.1:8545"
        )
    return url


_toml_path: contextvars.ContextVar[Path | None] = contextvars.ContextVar("toml", default=None)


class ChainSettings(BaseModel):
    model_config = {"extra": "forbid"}

    backend: Literal["embedded", "rpc"] = "embedded"
    #: rpc backend: the JSON-RPC URL (a chain host, anvil or a Besu validator).
    rpc_url: str | None = None
    gas_price: Literal["auto", "zero", "market"] = "auto"
    #: rpc backend: Besu QBFT / clique extraData handling.
    poa: bool = False
    #: embedded backend: where the chain store lives (default: HOME/chain).
    store: Path | None = None
    #: embedded backend: fsync every block (survives power loss, not only kill -9).
    fsync: bool = False
    #: embedded backend: chain id of a new chain.
    chain_id: int = Field(default=20_260, gt=0)

    @model_validator(mode="after")
    def _rpc_needs_url(self) -> ChainSettings:
        if self.backend == "rpc" and not self.rpc_url:
            raise ValueError("chain.backend = 'rpc' needs chain.rpc_url")
        if self.rpc_url is not None:
            try:
                check_rpc_url(self.rpc_url)
            except ConfigError as exc:
                raise ValueError(exc.message) from None
        return self


Role = Literal["provider", "consumer", "analyst", "regulator"]


class ApiSettings(BaseModel):
    model_config = {"extra": "forbid"}

    host: Literal["127.0.0.1", "localhost", "0.0.0.0"] = "127.0.0.1"
    port: int = Field(default=8600, gt=0, lt=65536)
    #: How far a signed request's timestamp may be from this node's clock.
    max_clock_skew_seconds: int = Field(default=60, gt=0, le=3600)


class StoreSettings(BaseModel):
    model_config = {"extra": "forbid"}

    #: fsync every blob (survives power loss, not only the death of the process).
    fsync: bool = False


class ContractSettings(BaseModel):
    model_config = {"extra": "forbid"}

    registry: str | None = None
    catalog: str | None = None
    access: str | None = None
    audit: str | None = None
    #: ValueCommitments (Pedersen commitments to published values and checked totals)
    commitments: str | None = None
    #: JointQuery (joint statistics computed by the owners' nodes with MPC)
    joint: str | None = None


class AuditSettings(BaseModel):
    model_config = {"extra": "forbid"}

    #: How often the node anchors its access log on chain (and always on shutdown).
    anchor_interval_seconds: float = Field(default=30.0, gt=0, le=86400)


class QualitySettings(BaseModel):
    model_config = {"extra": "forbid"}

    #: How often the node looks for its datasets whose review is due, and re-checks them.
    review_check_seconds: float = Field(default=60.0, gt=0, le=86400)


class CockpitSettings(BaseModel):
    model_config = {"extra": "forbid"}

    #: Where ``tanlian cockpit serve`` listens (loopback unless the deployer says otherwise).
    host: str = "127.0.0.1"
    port: int = Field(default=8700, ge=1, le=65535)
    #: A session ends after this long without a request, and after ``session_max_hours``.
    session_idle_minutes: float = Field(default=30.0, gt=0, le=24 * 60)
    session_max_hours: float = Field(default=12.0, gt=0, le=24 * 7)
    #: Failed logins allowed per user name and per client address in ``login_window_seconds``.
    login_attempts: int = Field(default=5, ge=1, le=1000)
    login_window_seconds: float = Field(default=300.0, gt=0, le=86400)
    #: Set when a TLS proxy serves the cockpit: the session cookie is then sent over https only.
    secure_cookies: bool = False
    #: A GeoJSON FeatureCollection of the 20 units (``properties.adcode``) replacing the
    #: schematic tile grid, and its map review number (审图号), shown as the caption.
    geojson: Path | None = None
    map_review_no: str | None = None

    @model_validator(mode="after")
    def _geojson_needs_review_no(self) -> CockpitSettings:
        if self.geojson is not None and not (self.map_review_no or "").strip():
            raise ValueError("cockpit.geojson needs cockpit.map_review_no (审图号) for its caption")
        return self


class NodeSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TANLIAN_", env_nested_delimiter="__", extra="forbid"
    )

    home: Path
    name: str | None = None
    roles: list[Role] = []
    #: Base URL other departments use to reach this node's API.
    endpoint: str | None = None
    api: ApiSettings = ApiSettings()
    chain: ChainSettings = ChainSettings()
    contracts: ContractSettings = ContractSettings()
    store: StoreSettings = StoreSettings()
    audit: AuditSettings = AuditSettings()
    quality: QualitySettings = QualitySettings()
    cockpit: CockpitSettings = CockpitSettings()
    #: SQLAlchemy URL of the node's index and metadata (default: SQLite in HOME).
    database_url: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _TomlSource(settings_cls)

    @property
    def chain_store(self) -> Path:
        return self.chain.store or self.home / "chain"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'node.db'}"


class _TomlSource(InitSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        path = _toml_path.get()
        data: dict[str, Any] = {}
        if path is not None and path.exists():
            try:
                data = tomllib.loads(path.read_text())
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        super().__init__(settings_cls, data)


def load_settings(home: Path | str, **overrides: Any) -> NodeSettings:
    """Settings of the node whose home is ``home``; raises ConfigError when invalid."""
    home = Path(home).expanduser().resolve()
    if home.exists() and not home.is_dir():
        raise ConfigError(f"--home {home} is a file; give the node's home folder")
    token = _toml_path.set(home / CONFIG_FILE)
    try:
        return NodeSettings(home=home, **overrides)
    except ValidationError as exc:
        problems = describe_validation(exc, "settings")
        raise ConfigError(f"invalid settings for {home}: {problems}") from None
    finally:
        _toml_path.reset(token)
