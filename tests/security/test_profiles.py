"""Password rotation (OCPP 2.0.1 A01) and security profile upgrade (A05) over real TLS
websockets: afterwards the CEM accepts only the new password, and only the new profile
(SEC-S-1, SEC-S-2, SEC-D-2)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from security.conftest import SecurePki
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from interface_b_harness import CemHandle, StationHandle, register, start_station, wait_for
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.server import basic_auth_header
from smartcharge.ocpp.tls import client_context
from smartcharge.station.security import StationSecurity

pytestmark = pytest.mark.integration


@pytest.fixture
async def p2_station(
    secure_cem: CemHandle, secure_pki: SecurePki, tmp_path: Path
) -> AsyncIterator[tuple[StationHandle, StationSecurity, str]]:
    password = register(secure_cem.store, "P2", profile=2)
    station = start_station("P2", f"wss://localhost:{secure_cem.tls_port}/ocpp", password=password)
    security = StationSecurity(station.device, tmp_path / "station-P2")
    security.certificates.provision(secure_pki.ca.cert_pem, *secure_pki.client("P2"))
    security.security_profile = 2  # factory setting: TLS and basic auth
    station.device.security = security
    await wait_for(lambda: station.runner.connected.is_set(), what="P2 connected at profile 2")
    yield station, security, password
    await station.close()


async def _status(cem: CemHandle, pki: SecurePki, password: str | None, with_cert: bool = False) -> int:
    headers = {} if password is None else {"Authorization": basic_auth_header("P2", password)}
    context = client_context(pki.ca_file, *pki.client("P2")) if with_cert else client_context(pki.ca_file)
    try:
        ws = await connect(
            f"wss://localhost:{cem.tls_port}/ocpp/P2",
            subprotocols=["ocpp2.0.1"],
            additional_headers=headers,
            ssl=context,
        )
    except InvalidStatus as refused:
        return int(refused.response.status_code)
    await ws.close()
    return 101


async def test_rotated_password_replaces_the_old_one(
    secure_cem: CemHandle, secure_pki: SecurePki, p2_station: tuple[StationHandle, StationSecurity, str]
) -> None:
    station, security, old = p2_station
    assert await secure_cem.gateway.security.rotate_password("P2") == "Accepted"
    new = security.password(None)
    assert new is not None and new != old and len(new) >= 16
    await wait_for(lambda: station.runner.boots == 2, what="reconnected with the new password")
    assert await _status(secure_cem, secure_pki, old) == 401
    assert await _status(secure_cem, secure_pki, new) == 101
    record = secure_cem.store.stations.get("P2")
    assert (
        record is not None
        and "$argon2" in (record.password_hash or "")
        and new not in (record.password_hash or "")
    )


async def test_profile_upgrade_to_3_and_no_way_back(
    secure_cem: CemHandle, secure_pki: SecurePki, p2_station: tuple[StationHandle, StationSecurity, str]
) -> None:
    """SetNetworkProfile + NetworkConfigurationPriority + Reset: the station comes back over mutual
    TLS; TLS + password (profile 2) is then refused, and the station itself refuses a profile below
    the one it runs."""
    station, security, password = p2_station
    url = f"wss://localhost:{secure_cem.tls_port}/ocpp"
    assert await secure_cem.gateway.security.upgrade_security_profile("P2", url, 3) == "Accepted"
    await wait_for(
        lambda: station.runner.boots == 2 and station.runner.connected.is_set(), what="back at profile 3"
    )
    assert security.security_profile == 3 and security.password(password) is None
    assert await _status(secure_cem, secure_pki, password) == 401
    refused = [e.detail for e in secure_cem.store.security.recent(5) if e.event_type == "StationRefused"]
    assert "station is registered at security profile 3 but connected at profile 2" in refused
    link = secure_cem.gateway.stations["P2"].link
    assert await link.set_network_profile(2, url, 2) == "Rejected"  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="profile"):
        await secure_cem.gateway.security.upgrade_security_profile("P2", url, 2)
    # Last, as it supersedes the station's own link: mutual TLS alone is what P2 needs now.
    assert await _status(secure_cem, secure_pki, None, with_cert=True) == 101
