"""A CEM with its own CA and an EC and an RSA server certificate side by side (tests/security)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from interface_b_harness import CemHandle, start_cem
from smartcharge.cem.ca import CertificateAuthority


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
