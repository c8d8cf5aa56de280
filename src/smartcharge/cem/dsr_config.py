"""Settings of the CEM's VEN (``smartcharge cem serve --ven-config PATH``), YAML or JSON.

Example::

    ven_name: home-cem-1
    vtn_id: DSRSP-A                      # the provider commissioned at install
    vtn_url: https://dsrsp-a.example:8443/OpenADR2/Simple/2.0b
    vtn_fingerprint: "AB:CD:..."         # received out of band
    cert: cem.pem                        # EC P-256, relative to this file
    key: cem.key
    ca_file: ca.pem
    poll_interval_s: 1
    storage_url: sqlite:///cem.db        # consent ledger and per-DSRSP data

The provider named here is granted consent only when the ledger is empty (first commissioning);
after that the ledger decides (switching and revoking are ledger entries, see ``cem consent``).
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smartcharge.cem.dsr_limits import DEFAULT_SIMPLE_LEVEL_W
from smartcharge.openadr.pki import is_fingerprint
from smartcharge.openadr.settings_file import load_settings_file


class VenSettings(BaseModel):
    """Validated VEN settings; unknown keys are refused so a typo is never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ven_name: str = Field(min_length=1, max_length=64)
    cert: Path
    key: Path
    ca_file: Path
    storage_url: str = Field(min_length=1)
    vtn_id: str | None = Field(default=None, max_length=64)
    vtn_url: str | None = None
    vtn_fingerprint: str | None = None
    poll_interval_s: float = Field(default=1.0, ge=0.2, le=3600)
    telemetry_interval_s: float = Field(default=10.0, ge=1, le=86_400)
    reconcile_interval_s: float = Field(default=1.0, ge=0.1, le=600)
    offer_step_s: int = Field(default=900, ge=60, le=3600)
    offer_steps: int = Field(default=96, ge=1, le=672)
    simple_level_w: dict[int, float] = Field(default_factory=lambda: dict(DEFAULT_SIMPLE_LEVEL_W))
    price_ceiling_p_per_kwh: float = math.inf

    @field_validator("vtn_id")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        if value is not None and value != value.upper():
            raise ValueError("VTN ids are upper case (OpenADR VENs flag lower case)")
        return value

    @field_validator("vtn_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("Interface A runs over HTTPS only (SEC-S-8)")
        return value

    @field_validator("vtn_fingerprint")
    @classmethod
    def _fingerprint(cls, value: str | None) -> str | None:
        if value is not None and not is_fingerprint(value):
            raise ValueError("an OpenADR fingerprint is 10 colon-separated upper-case hex bytes")
        return value

    @model_validator(mode="after")
    def _provider_complete(self) -> VenSettings:
        given = [self.vtn_id, self.vtn_url, self.vtn_fingerprint]
        if any(v is not None for v in given) and not all(v is not None for v in given):
            raise ValueError("vtn_id, vtn_url and vtn_fingerprint go together")
        return self


def load_ven_settings(path: Path) -> VenSettings:
    """Read and validate a YAML/JSON file; relative certificate paths are relative to the file."""
    return load_settings_file(path, VenSettings, "ven_config")


__all__ = ["VenSettings", "load_ven_settings"]
