"""TLS as OCPP 2.0.1 part 2 asks of a CSMS, over real handshakes (SEC-S-1, SEC-S-3; issue 11 item 3,
issue 15: TLS-level refusals leave a security-log entry)."""

from __future__ import annotations

import ssl
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from security.conftest import SecurePki
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake

from interface_b_harness import CemHandle, register, wait_for
from smartcharge.cem.ca import CertificateAuthority
from smartcharge.ocpp.server import basic_auth_header
from smartcharge.ocpp.tls import client_context

pytestmark = pytest.mark.integration


def _tls12_only(pki: SecurePki, ciphers: str) -> ssl.SSLContext:
    context = client_context(pki.ca_file)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    return context


async def _server_key_and_suite(port: int, context: ssl.SSLContext, password: str) -> tuple[object, str, str]:
    ws = await connect(
        f"wss://localhost:{port}/ocpp/P2",
        subprotocols=["ocpp2.0.1"],
        additional_headers={"Authorization": basic_auth_header("P2", password)},
        ssl=context,
    )
    try:
        ssl_object = ws.transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True)
        cipher, version, _ = ssl_object.cipher()
        return x509.load_der_x509_certificate(der).public_key(), cipher, version
    finally:
        await ws.close()


@pytest.mark.parametrize(
    ("ciphers", "key_type"),
    [
        ("ECDHE-ECDSA-AES128-GCM-SHA256", ec.EllipticCurvePublicKey),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", ec.EllipticCurvePublicKey),
        ("AES128-GCM-SHA256", rsa.RSAPublicKey),  # TLS_RSA_WITH_AES_128_GCM_SHA256
        ("AES256-GCM-SHA384", rsa.RSAPublicKey),  # TLS_RSA_WITH_AES_256_GCM_SHA384
        ("ECDHE-RSA-AES128-GCM-SHA256", rsa.RSAPublicKey),
    ],
)
async def test_ecdsa_and_rsa_suites_each_get_their_certificate(
    secure_cem: CemHandle, secure_pki: SecurePki, ciphers: str, key_type: type
) -> None:
    """A station offering only ECDSA suites gets the EC certificate, one offering only RSA suites
    the RSA certificate, on the same port (OCPP 2.0.1 part 2 CSMS cipher suites, TLS 1.2)."""
    password = register(secure_cem.store, "P2", profile=2)
    key, suite, version = await _server_key_and_suite(
        secure_cem.tls_port or 0, _tls12_only(secure_pki, ciphers), password
    )
    assert isinstance(key, key_type) and suite == ciphers and version == "TLSv1.2"


async def test_tls13_is_offered(secure_cem: CemHandle, secure_pki: SecurePki) -> None:
    password = register(secure_cem.store, "P2", profile=2)
    _, _, version = await _server_key_and_suite(
        secure_cem.tls_port or 0, client_context(secure_pki.ca_file), password
    )
    assert version == "TLSv1.3"


async def _refused_tls(port: int, context: ssl.SSLContext, station: str = "P3") -> None:
    # TLS 1.3 checks the client certificate after the client thinks the handshake is done: the
    # client then sees the connection closed instead of an HTTP answer (InvalidHandshake).
    with pytest.raises((ssl.SSLError, OSError, EOFError, InvalidHandshake)):
        ws = await connect(f"wss://localhost:{port}/ocpp/{station}", subprotocols=["ocpp2.0.1"], ssl=context)
        await ws.recv()  # TLS 1.3 reports a refused client certificate after the handshake


async def test_suite_outside_the_ocpp_list_is_refused_and_logged(
    secure_cem: CemHandle, secure_pki: SecurePki
) -> None:
    """CHACHA20 is a fine suite but not one OCPP lists: refused, InvalidTLSCipherSuite logged."""
    await _refused_tls(secure_cem.tls_port or 0, _tls12_only(secure_pki, "ECDHE-ECDSA-CHACHA20-POLY1305"))
    await wait_for(
        lambda: secure_cem.store.security.count("InvalidTLSCipherSuite") == 1, what="cipher refusal"
    )


async def test_tls_1_1_is_refused_and_logged(secure_cem: CemHandle, secure_pki: SecurePki) -> None:
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(secure_pki.ca_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # an obsolete client, on purpose
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 would not even send a TLS 1.1 hello
    await _refused_tls(secure_cem.tls_port or 0, old)
    await wait_for(lambda: secure_cem.store.security.count("InvalidTLSVersion") == 1, what="version refusal")


@pytest.mark.parametrize("tls13", [False, True])
async def test_expired_client_certificate_is_refused_and_logged(
    secure_cem: CemHandle, secure_pki: SecurePki, tls13: bool
) -> None:
    """An expired station certificate never gets to HTTP: the TLS handshake is refused and an
    InvalidChargingStationCertificate event names the reason (issue 15, SEC-S-6)."""
    from datetime import UTC, datetime, timedelta

    register(secure_cem.store, "P3", profile=3)
    cert, key = secure_pki.client("P3", days=1, not_before=datetime.now(UTC) - timedelta(days=3))
    context = client_context(secure_pki.ca_file, cert, key)
    if not tls13:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    await _refused_tls(secure_cem.tls_port or 0, context)
    await wait_for(
        lambda: secure_cem.store.security.count("InvalidChargingStationCertificate") == 1,
        what="refusal logged",
    )
    (event,) = [
        e for e in secure_cem.store.security.recent(5) if e.event_type == "InvalidChargingStationCertificate"
    ]
    assert "expired" in event.detail and event.remote_address == "127.0.0.1"


async def test_client_certificate_of_an_unknown_ca_is_refused_and_logged(
    secure_cem: CemHandle, secure_pki: SecurePki, tmp_path: object
) -> None:
    from pathlib import Path

    register(secure_cem.store, "P3", profile=3)
    foreign = CertificateAuthority.create(Path(str(tmp_path)) / "foreign", name="someone else's CA")
    cert, key = foreign.write_issued(foreign.issue("P3"), Path(str(tmp_path)) / "foreign-out", "P3")
    await _refused_tls(secure_cem.tls_port or 0, client_context(secure_pki.ca_file, cert, key))
    await wait_for(
        lambda: secure_cem.store.security.count("InvalidChargingStationCertificate") == 1,
        what="refusal logged",
    )
    (event,) = [
        e for e in secure_cem.store.security.recent(5) if e.event_type == "InvalidChargingStationCertificate"
    ]
    assert "unknown ca" in event.detail.lower() or "issuer" in event.detail.lower(), event.detail


async def test_good_client_certificate_still_connects(secure_cem: CemHandle, secure_pki: SecurePki) -> None:
    register(secure_cem.store, "P3", profile=3)
    cert, key = secure_pki.client("P3")
    ws = await connect(
        f"wss://localhost:{secure_cem.tls_port}/ocpp/P3",
        subprotocols=["ocpp2.0.1"],
        ssl=client_context(secure_pki.ca_file, cert, key),
    )
    await ws.close()
    assert secure_cem.store.security.count("InvalidChargingStationCertificate") == 0


async def test_station_refuses_a_csms_not_signed_by_its_installed_root(
    secure_cem: CemHandle, secure_pki: SecurePki, tmp_path: object
) -> None:
    """The station verifies the CSMS certificate against the root it has installed: a CEM whose
    certificate comes from another CA is refused by the station (SEC-S-1)."""
    from pathlib import Path

    other = CertificateAuthority.create(Path(str(tmp_path)) / "other")
    context = client_context(other.cert_pem, ca_is_pem_text=True)
    with pytest.raises(ssl.SSLCertVerificationError):
        await connect(
            f"wss://localhost:{secure_cem.tls_port}/ocpp/P2", subprotocols=["ocpp2.0.1"], ssl=context
        )
