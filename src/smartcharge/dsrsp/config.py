"""Settings of ``smartcharge dsrsp serve`` (YAML or JSON); unknown keys are refused.

Example::

    vtn_id: DSRSP-A            # upper case
    cert: vtn.pem              # EC P-256; signs messages and serves TLS
    key: vtn.key
    ca_file: ca.pem            # CEM and operator client certificates chain to this CA
    host: 127.0.0.1
    port: 8443
    poll_interval_s: 1
    storage_url: sqlite:///dsrsp.db
    operator_fingerprints: ["AB:CD:..."]   # who may use the admin endpoint
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from smartcharge.openadr.pki import is_fingerprint
from smartcharge.openadr.settings_file import load_settings_file
from smartcharge.openadr.vtn import VtnConfig


class DsrspSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vtn_id: str = Field(min_length=1, max_length=64)
    cert: Path
    key: Path
    ca_file: Path
    storage_url: str = Field(min_length=1)
    host: str = "127.0.0.1"
    port: int = Field(default=8443, ge=0, le=65_535)
    poll_interval_s: float = Field(default=1.0, ge=0.2, le=86_400)
    operator_fingerprints: list[str] = Field(default_factory=list)

    @field_validator("vtn_id")
    @classmethod
    def _upper(cls, value: str) -> str:
        if value != value.upper():
            raise ValueError("VTN ids are upper case (OpenADR VENs flag lower case)")
        return value

    @field_validator("operator_fingerprints")
    @classmethod
    def _fingerprints(cls, value: list[str]) -> list[str]:
        for item in value:
            if not is_fingerprint(item):
                raise ValueError(f"{item!r} is not an OpenADR fingerprint (10 colon-separated hex bytes)")
        return value

    def vtn_config(self) -> VtnConfig:
        return VtnConfig(
            vtn_id=self.vtn_id,
            cert=self.cert,
            key=self.key,
            ca_file=self.ca_file,
            host=self.host,
            port=self.port,
            poll_interval_s=self.poll_interval_s,
            operator_fingerprints=frozenset(self.operator_fingerprints),
        )


def load_dsrsp_settings(path: Path) -> DsrspSettings:
    """Read and validate the file; relative certificate paths are relative to it."""
    return load_settings_file(path, DsrspSettings, "config")


__all__ = ["DsrspSettings", "load_dsrsp_settings"]
