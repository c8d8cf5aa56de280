"""Test PKI: EC P-256 keys and the OpenADR fingerprint (SEC-S-8)."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from openleadr import utils

from smartcharge.core.errors import ValidationError
from smartcharge.openadr.pki import fingerprint_of, is_fingerprint, issue_pki


def test_fingerprint_matches_openleadr_definition(tmp_path: Path) -> None:
    """SEC-S-8: our fingerprint is the one openleadr checks (last 10 bytes of SHA-256 of the DER)."""
    _, leaves = issue_pki(tmp_path, ["a"], dt.datetime.now(dt.UTC))
    pem = leaves["a"].cert.read_bytes()
    assert leaves["a"].fingerprint == utils.certificate_fingerprint(pem)
    assert is_fingerprint(leaves["a"].fingerprint)


def test_keys_are_ec_p256_and_private(tmp_path: Path) -> None:
    """SEC-D-4: keys are EC P-256 (cheap signatures) and readable by the owner only."""
    _, leaves = issue_pki(tmp_path, ["a"], dt.datetime.now(dt.UTC))
    key = load_pem_private_key(leaves["a"].key.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    assert stat.S_IMODE(leaves["a"].key.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(leaves["a"].cert.read_bytes())
    assert cert.not_valid_after_utc - cert.not_valid_before_utc < dt.timedelta(days=31)


def test_fingerprint_of_non_certificate_refused(tmp_path: Path) -> None:
    """SEC-D-6: a file that is not a PEM certificate is refused, naming the field."""
    bogus = tmp_path / "x.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(ValidationError) as err:
        fingerprint_of(bogus)
    assert err.value.field == "cert"


def test_naive_issue_time_refused(tmp_path: Path) -> None:
    """SEC-D-6: certificates are issued at an aware UTC time."""
    with pytest.raises(ValidationError):
        issue_pki(tmp_path, ["a"], dt.datetime(2026, 1, 1))
