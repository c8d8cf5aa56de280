"""Event -> limit with its source (ARB-5, SCP-SF-5, SCP-RD-4, RD-R3) and the VEN settings file."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from smartcharge.cem.dsr_config import load_ven_settings
from smartcharge.cem.dsr_limits import DsrLimitConfig, is_exempt_from_delay, limit_for
from smartcharge.core.errors import ValidationError
from smartcharge.core.limit import LimitSource
from smartcharge.openadr.model import DsrEvent, EventInterval, Programme, Signal

T0 = 1_795_600_000


def _event(programme: Programme, signal: Signal, value: float, start_after_s: int = 0) -> DsrEvent:
    return DsrEvent("E", programme, signal, (EventInterval(T0, 60, value),), start_after_s=start_after_s)


def test_response_setpoint_is_layer3_and_exempt() -> None:
    """ARB-5, SCP-RD-4: response DSR acts at layer 3 and never waits for the randomised delay."""
    event = _event(Programme.RESPONSE, Signal.LOAD_DISPATCH_SETPOINT, 2500.0)
    limit = limit_for(event, event.intervals[0], DsrLimitConfig())
    assert limit is not None and limit.value_w == 2500.0 and limit.source is LimitSource.RESPONSE_DSR
    assert is_exempt_from_delay(event)


def test_routine_is_layer5_and_delayed_unless_randomised_upstream() -> None:
    """ARB-5, OP-R1, RD-R3: routine DSR is layer 5; only a startafter window spares the device delay."""
    plain = _event(Programme.ROUTINE, Signal.SIMPLE_LEVEL, 1.0)
    limit = limit_for(plain, plain.intervals[0], DsrLimitConfig())
    assert limit is not None and limit.source is LimitSource.ROUTINE_DSR and limit.value_w == 3680.0
    assert not is_exempt_from_delay(plain)
    assert is_exempt_from_delay(_event(Programme.ROUTINE, Signal.SIMPLE_LEVEL, 1.0, start_after_s=600))


def test_simple_level_zero_means_no_limit() -> None:
    """OpenADR SIMPLE level 0 is normal operation: no limit."""
    event = _event(Programme.RESPONSE, Signal.SIMPLE_LEVEL, 0.0)
    assert limit_for(event, event.intervals[0], DsrLimitConfig()) is None


def test_price_above_owner_ceiling_stops_charging() -> None:
    """SCP-SF-2: a price above the owner's ceiling is a 0 W routine limit; below it, none."""
    config = DsrLimitConfig(price_ceiling_p_per_kwh=20.0)
    dear = _event(Programme.ROUTINE, Signal.ELECTRICITY_PRICE, 35.0)
    cheap = _event(Programme.ROUTINE, Signal.ELECTRICITY_PRICE, 7.5)
    limit = limit_for(dear, dear.intervals[0], config)
    assert limit is not None and limit.value_w == 0.0 and limit.source is LimitSource.ROUTINE_DSR
    assert limit_for(cheap, cheap.intervals[0], config) is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"simple_level_w": {1: 1.0, 2: 1.0}}, "simple_level_w"),
        ({"simple_level_w": {1: -1.0, 2: 1.0, 3: 0.0}}, "simple_level_w[1]"),
        ({"simple_level_w": {1: math.inf, 2: 1.0, 3: 0.0}}, "simple_level_w[1]"),
        ({"price_ceiling_p_per_kwh": math.nan}, "price_ceiling_p_per_kwh"),
    ],
)
def test_bad_limit_config_refused(kwargs: dict, field: str) -> None:
    """SEC-D-6: settings are refused, never clamped, and the error names the field."""
    with pytest.raises(ValidationError) as err:
        DsrLimitConfig(**kwargs)
    assert err.value.field == field


BASE = """
ven_name: home-cem
cert: cem.pem
key: cem.key
ca_file: ca.pem
storage_url: sqlite:///cem.db
"""


def test_settings_paths_relative_to_file(tmp_path: Path) -> None:
    """The VEN settings resolve certificate paths next to the file."""
    path = tmp_path / "ven.yaml"
    path.write_text(BASE)
    settings = load_ven_settings(path)
    assert settings.cert == tmp_path / "cem.pem"
    assert settings.poll_interval_s == 1.0


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ("poll_intervall_s: 1\n", "poll_intervall_s"),
        ("poll_interval_s: 0.01\n", "poll_interval_s"),
        ("vtn_url: http://x.invalid/\n", "vtn_url"),
        ("vtn_id: dsrsp-a\n", "vtn_id"),
        ("vtn_fingerprint: nope\n", "vtn_fingerprint"),
        ("vtn_id: DSRSP-A\n", "ven_config"),
    ],
)
def test_bad_settings_refused_naming_field(tmp_path: Path, extra: str, field: str) -> None:
    """SEC-D-6: a typo or a bad value in the VEN settings is refused with the field named."""
    path = tmp_path / "ven.yaml"
    path.write_text(BASE + extra)
    with pytest.raises(ValidationError) as err:
        load_ven_settings(path)
    assert err.value.field == field
