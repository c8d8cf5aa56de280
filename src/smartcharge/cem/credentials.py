"""Station passwords for OCPP security profiles 1 and 2 (SEC-D-2, SEC-S-2).

Each station gets its own random password of 16-40 characters from the OCPP 2.0.1
BasicAuthPassword character set, drawn with :mod:`secrets` and never derived from anything public.
Only an argon2id hash is stored. The hash parameters are lighter than argon2-cffi's defaults on
purpose: the password has ~190 bits of entropy, so the hash guards against a database leak by its
one-wayness, not by slowing a dictionary attack, and thousands of stations reconnecting after an
outage must not pin the CEM's CPU (RFC 9106 allows low-memory settings for high-entropy secrets).
"""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from smartcharge.core.errors import ValidationError

#: OCPP 2.0.1 BasicAuthPassword characters (SEC-S-2).
PASSWORD_ALPHABET = string.ascii_letters + string.digits + "*-_=:+|@."
MIN_PASSWORD_LENGTH = 16
MAX_PASSWORD_LENGTH = 40
DEFAULT_PASSWORD_LENGTH = 32

# About 3 ms per verification here; the parameters are stored in each hash, so they can be raised later.
_HASHER = PasswordHasher(time_cost=1, memory_cost=2 * 1024, parallelism=1)


def new_password(length: int = DEFAULT_PASSWORD_LENGTH) -> str:
    """A fresh random password for one station."""
    if not MIN_PASSWORD_LENGTH <= length <= MAX_PASSWORD_LENGTH:
        raise ValidationError(
            "length", length, f"a station password has {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters"
        )
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def check_password_rules(password: str) -> str:
    """Refuse a password outside the OCPP length and character rules (SEC-S-2)."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationError(
            "password", "<hidden>", f"must be {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters"
        )
    if any(c not in PASSWORD_ALPHABET for c in password):
        raise ValidationError("password", "<hidden>", "only a-z A-Z 0-9 * - _ = : + | @ . are allowed (OCPP)")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(check_password_rules(password))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PASSWORD_ALPHABET",
    "check_password_rules",
    "hash_password",
    "new_password",
    "verify_password",
]
