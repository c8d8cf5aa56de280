"""A CEM with its own CA and an EC and an RSA server certificate side by side (tests/security)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from interface_b_harness import (
    CemHandle,
    StationHandle,
    free_port,
    register,
    start_cem,
    start_station,
    wait_for,
)
from smartcharge.cem.ca import CertificateAuthority
from smartcharge.ocpp.domain import OcppVersion
from smartcharge.station.security import StationSecurity


@dataclass
class SecurePki:
    ca: CertificateAuthority
    ca_file: Path
    ec_chain: tuple[Path, Path]
    rsa_chain: tuple[Path, Path]
    directory: Path

    def client(self, station_id: str, **kwargs: object) -> tuple[Path, Path]:
        issued = self.ca.issue(station_id, **kwargs)  # type: ignore[arg-type]
        return self.ca.write_issued(issued, self.directory / "clients", station_id)


@pytest.fixture
def secure_pki(tmp_path: Path) -> SecurePki:
    ca = CertificateAuthority.create(tmp_path / "ca")
    out = tmp_path / "server"
    ec_chain = ca.write_issued(ca.issue("localhost", server=True), out, "server-ec")
    rsa_chain = ca.write_issued(ca.issue("localhost", server=True, use_rsa=True), out, "server-rsa")
    return SecurePki(ca, tmp_path / "ca" / CertificateAuthority.CERT_FILE, ec_chain, rsa_chain, tmp_path)


@pytest.fixture
async def secure_cem(sqlite_url: str, secure_pki: SecurePki) -> AsyncIterator[CemHandle]:
    handle = await start_cem(
        sqlite_url,
        tls=(*secure_pki.ec_chain, secure_pki.ca_file),
        extra_chains=(secure_pki.rsa_chain,),
    )
    yield handle
    await handle.close()


@dataclass
class Rig:
    cem: CemHandle
    station: StationHandle
    security: StationSecurity
    pki: SecurePki


@pytest.fixture(params=[OcppVersion.V201])
def version(request: pytest.FixtureRequest) -> OcppVersion:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def rig(
    sqlite_url: str, secure_pki: SecurePki, tmp_path: Path, version: OcppVersion
) -> AsyncIterator[Rig]:
    cem = await start_cem(
        sqlite_url,
        tls=(*secure_pki.ec_chain, secure_pki.ca_file),
        extra_chains=(secure_pki.rsa_chain,),
        ca_dir=secure_pki.ca_file.parent,
        files_port=free_port(),
        firmware_dir=tmp_path / "published",
    )
    register(cem.store, "P3", profile=3)
    station = start_station("P3", f"wss://localhost:{cem.tls_port}/ocpp", version=version)
    security = StationSecurity(station.device, tmp_path / "station-P3")
    security.certificates.provision(secure_pki.ca.cert_pem, *secure_pki.client("P3"))
    station.device.security = security
    await wait_for(lambda: station.runner.connected.is_set(), what="P3 connected over mutual TLS")
    yield Rig(cem, station, security, secure_pki)
    await station.close()
    await cem.close()
