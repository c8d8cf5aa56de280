"""Station registration as an operator does it (SEC-S-1, SEC-S-2, SEC-D-2): register with a random
password or one of the operator's own (16-40 characters of OCPP's BasicAuthPassword set), rotate
the password, re-register at another security profile, remove. Shared by the CLI and the web API.

At profile 3 a station authenticates with its client certificate, so it holds no password here.
Set here, a new password takes effect at the station's next handshake: the connection it has
stays up unless the caller closes it (the web API does on re-register and remove). The web API
rotates a live station's password over OCPP instead (A01, ``CemSecurity.rotate_password``): the
CEM switches only once the station has accepted it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from smartcharge.cem.credentials import check_password_rules, hash_password, new_password
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.server import STATION_ID
from smartcharge.store.station_admin import StationAdmin
from smartcharge.store.station_repo import StationRepository

SECURITY_PROFILES = (1, 2, 3)


def check_station_id(station_id: str) -> str:
    if not STATION_ID.match(station_id):
        raise ValidationError("station_id", station_id, "1-48 characters of a-z A-Z 0-9 * - _ = + | @ .")
    return station_id


def _credentials(profile: int, password: str | None) -> tuple[str | None, str | None]:
    """(password to show once or None, its hash or None) for a station at ``profile``."""
    if profile not in SECURITY_PROFILES:
        raise ValidationError("security_profile", profile, "OCPP security profile is 1, 2 or 3")
    if profile == 3:
        if password is not None:
            raise ValidationError(
                "password", "<hidden>", "profile 3 uses the client certificate, no password"
            )
        return None, None
    if password is not None:
        check_password_rules(password)
        return None, hash_password(password)
    generated = new_password()
    return generated, hash_password(generated)


def register(
    stations: StationRepository, station_id: str, profile: int, password: str | None = None
) -> str | None:
    """Register a station; returns the generated password to show once (None when the operator
    gave one, or at profile 3). An id already registered is refused."""
    check_station_id(station_id)
    shown, password_hash = _credentials(profile, password)
    stations.add(station_id, profile, password_hash, datetime.now(UTC))
    return shown


def set_credentials(
    admin: StationAdmin, station_id: str, profile: int | None = None, password: str | None = None
) -> str | None:
    """Rotate the password (``profile=None`` keeps the profile) or re-register at ``profile``;
    returns the generated password to show once, if one was generated."""
    details = admin.details(station_id)
    if details is None:
        raise ValidationError("station_id", station_id, "not a registered station")
    target = details.security_profile if profile is None else profile
    if profile is None and target == 3:
        raise ValidationError("security_profile", 3, "a profile 3 station has no password to rotate")
    shown, password_hash = _credentials(target, password)
    admin.set_credentials(station_id, target, password_hash)
    return shown


def rotation_password(profile: int, password: str | None) -> str:
    """The password to rotate to over OCPP (A01): the operator's own, checked, or a random one."""
    if profile == 3:
        raise ValidationError("security_profile", 3, "a profile 3 station has no password to rotate")
    return new_password() if password is None else check_password_rules(password)


__all__ = ["SECURITY_PROFILES", "check_station_id", "register", "rotation_password", "set_credentials"]
