"""OCPP security profiles 1-3 at the CEM's handshake (SEC-S-1..3, SEC-D-2, SEC-D-9).

Certificates are issued at test time (EC P-256) into a temporary directory.
"""

from __future__ import annotations

import ssl
import warnings
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from interface_b_harness import CemHandle, register, start_cem, wait_for
from smartcharge.ocpp.server import basic_auth_header
from smartcharge.ocpp.tls import Pki, client_context, make_pki, server_context

STATIONS = ["P1", "P2", "P3", "OTHER"]


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki", STATIONS)


@pytest.fixture
async def tls_cem(sqlite_url: str, pki: Pki):
    handle = await start_cem(sqlite_url, tls=(pki.server_cert, pki.server_key, pki.ca_cert))
    yield handle
    await handle.close()


async def _open(url: str, user: str | None, password: str | None, context: ssl.SSLContext | None = None):
    headers = {} if password is None else {"Authorization": basic_auth_header(user or "", password)}
    ws = await connect(url, subprotocols=["ocpp2.0.1"], additional_headers=headers, ssl=context)
    await ws.close()


async def _refused(
    url: str, user: str | None, password: str | None, context: ssl.SSLContext | None = None
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await _open(url, user, password, context)
    assert refused.value.response.status_code == 401


@pytest.mark.integration
async def test_profile1_basic_auth_accepts_right_password_only(cem: CemHandle) -> None:
    """Profile 1: the user is the station id and the password its own; anything else is HTTP 401
    and a security event (SEC-S-1, SEC-D-2, SEC-D-9)."""
    password = register(cem.store, "P1", profile=1)
    other = register(cem.store, "OTHER", profile=1)
    url = f"ws://127.0.0.1:{cem.port}/ocpp/P1"
    await _open(url, "P1", password)
    await _refused(url, "P1", other)  # another station's password
    await _refused(url, "OTHER", other)  # user is not the station in the path
    await _refused(url, None, None)  # no credentials
    await _refused(f"ws://127.0.0.1:{cem.port}/ocpp/NOBODY", "NOBODY", password)  # unknown station
    await _refused(f"ws://127.0.0.1:{cem.port}/ocpp/bad%20id", "bad id", password)  # invalid id
    await wait_for(lambda: cem.store.security.count("StationRefused") == 5, what="5 refusals logged")
    reasons = {e.detail for e in cem.store.security.recent(10)}
    assert {"wrong password", "unknown station", "no basic-auth password"} <= reasons


@pytest.mark.integration
async def test_profile2_needs_tls_and_password(tls_cem: CemHandle, pki: Pki) -> None:
    """Profile 2: TLS >= 1.2 plus basic auth; the same station over plain websockets is refused
    (no downgrade, SEC-S-1, SEC-S-3)."""
    password = register(tls_cem.store, "P2", profile=2)
    context = client_context(pki.ca_cert)
    await _open(f"wss://localhost:{tls_cem.tls_port}/ocpp/P2", "P2", password, context)
    await _refused(f"ws://127.0.0.1:{tls_cem.port}/ocpp/P2", "P2", password)
    await _refused(f"wss://localhost:{tls_cem.tls_port}/ocpp/P2", "P2", "x" * 20, context)
    events = tls_cem.store.security.recent(5)
    assert any("profile 2 but connected at profile 1" in e.detail for e in events)


@pytest.mark.integration
async def test_profile3_needs_client_certificate_naming_station(tls_cem: CemHandle, pki: Pki) -> None:
    """Profile 3: mutual TLS, and the certificate subject must name the station; TLS + password
    or plain websockets are refused for a profile 3 station (SEC-S-1)."""
    password = register(tls_cem.store, "P3", profile=3)
    own = client_context(pki.ca_cert, *pki.client("P3"))
    await _open(f"wss://localhost:{tls_cem.tls_port}/ocpp/P3", None, None, own)
    await _refused(f"wss://localhost:{tls_cem.tls_port}/ocpp/P3", "P3", password, client_context(pki.ca_cert))
    await _refused(f"ws://127.0.0.1:{tls_cem.port}/ocpp/P3", "P3", password)
    someone_else = client_context(pki.ca_cert, *pki.client("OTHER"))
    await _refused(f"wss://localhost:{tls_cem.tls_port}/ocpp/P3", None, None, someone_else)
    details = [e.detail for e in tls_cem.store.security.recent(5)]
    assert "client certificate subject does not name this station" in details


@pytest.mark.integration
async def test_tls_below_1_2_is_refused(tls_cem: CemHandle, pki: Pki) -> None:
    """The server context refuses anything below TLS 1.2, and a client capped at TLS 1.1 cannot
    complete the handshake (SEC-S-3)."""
    assert (
        server_context(pki.server_cert, pki.server_key, pki.ca_cert).minimum_version == ssl.TLSVersion.TLSv1_2
    )
    assert client_context(pki.ca_cert).minimum_version == ssl.TLSVersion.TLSv1_2
    password = register(tls_cem.store, "P2", profile=2)
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(pki.ca_cert)
    with warnings.catch_warnings():
        # Building an obsolete client on purpose: the deprecation warning is the point.
        warnings.simplefilter("ignore", DeprecationWarning)
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, OSError)):
        await _open(f"wss://localhost:{tls_cem.tls_port}/ocpp/P2", "P2", password, old)
