"""The network definition file (network-config/local.toml), validated."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, model_validator

from node.errors import ConfigError, describe_validation
from node.settings import Role


class NetworkSection(BaseModel):
    model_config = {"extra": "forbid"}

    name: str = "tanlian"
    chain_id: int = Field(default=20_260, gt=0)
    approval_threshold: int = Field(default=1, ge=1)
    #: How often each node anchors its access log on chain (seconds).
    log_anchor_seconds: float = Field(default=30.0, gt=0, le=86400)
    #: Deploy JointQuery in test mode, which allows noiseless joint runs: test networks only.
    joint_test_mode: bool = False


class ChainSection(BaseModel):
    model_config = {"extra": "forbid"}

    port: int = Field(default=8545, gt=0, lt=65536)


class Department(BaseModel):
    model_config = {"extra": "forbid"}

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,31}$")
    title: str
    roles: list[Role] = Field(min_length=1)
    port: int = Field(gt=0, lt=65536)
    genesis: bool = False

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class NetworkConfig(BaseModel):
    model_config = {"extra": "forbid"}

    network: NetworkSection = NetworkSection()
    chain: ChainSection = ChainSection()
    departments: list[Department] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> NetworkConfig:
        names = [d.name for d in self.departments]
        if len(set(names)) != len(names):
            raise ValueError("department names must be unique")
        ports = [d.port for d in self.departments] + [self.chain.port]
        if len(set(ports)) != len(ports):
            raise ValueError("every department and the chain need their own port")
        regulators = [d for d in self.departments if d.genesis and "regulator" in d.roles]
        if len(regulators) < self.network.approval_threshold:
            raise ValueError(
                f"approval_threshold {self.network.approval_threshold} needs at least as many "
                f"genesis regulators (found {len(regulators)})"
            )
        return self

    @property
    def genesis_regulators(self) -> list[Department]:
        return [d for d in self.departments if d.genesis and "regulator" in d.roles]


def load_network_config(path: Path) -> NetworkConfig:
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"no network config at {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    try:
        return NetworkConfig.model_validate(data)
    except ValidationError as exc:
        problems = describe_validation(exc, "config")
        raise ConfigError(f"invalid network config {path}: {problems}") from None
