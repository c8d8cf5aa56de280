"""The OCPP 1.6 security extension over real TLS websockets (SEC-S-4, SEC-S-5): the same flows as
2.0.1 through ExtendedTriggerMessage, SignCertificate, CertificateSigned, Install/Get/
DeleteCertificate and SignedUpdateFirmware / SignedFirmwareStatusNotification."""

from __future__ import annotations

import pytest

from smartcharge.ocpp.domain import OcppVersion

pytestmark = pytest.mark.integration

# The 2.0.1 tests run again at 1.6: same rig, same assertions, the 1.6 message names underneath.
from security.test_certificates import (  # noqa: E402
    test_certificate_from_an_unknown_ca_is_refused_and_reported,
    test_expired_certificate_is_refused_and_reported,
    test_install_list_and_delete_roots,
    test_renewal_installs_the_new_certificate_and_reconnects_with_it,
)
from security.test_firmware import (  # noqa: E402
    test_signed_image_is_installed_with_every_status_step,
    test_tampered_image_is_refused_old_firmware_kept,
    test_untrusted_signing_certificate_is_refused_at_once,
)


@pytest.fixture
def version() -> OcppVersion:
    return OcppVersion.V16


__all__ = [
    "test_certificate_from_an_unknown_ca_is_refused_and_reported",
    "test_expired_certificate_is_refused_and_reported",
    "test_install_list_and_delete_roots",
    "test_renewal_installs_the_new_certificate_and_reconnects_with_it",
    "test_signed_image_is_installed_with_every_status_step",
    "test_tampered_image_is_refused_old_firmware_kept",
    "test_untrusted_signing_certificate_is_refused_at_once",
]
