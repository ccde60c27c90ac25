"""Password hashing (argon2) and the TOTP second factor."""

from __future__ import annotations

import time
from functools import cache

from workflows.text import Sentence, both

# argon2, pyotp and segno are imported by the first sign-in or enrolment, not by every process
# (start-up, issue 15)


@cache
def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so both paths cost the same."""
    return _hasher().hash("not a real password")

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> Sentence | None:
    """A sentence (Chinese, carrying its English) saying why a new password is too weak, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return both("密码至少%(n)s位", "The password needs at least %(n)s characters", n=MIN_PASSWORD_LENGTH)
    kinds = sum(
        [any(c.isdigit() for c in password), any(c.isalpha() for c in password),
         any(not c.isalnum() for c in password)]
    )
    if kinds < 2:
        return both("密码须包含字母、数字、符号中的至少两类",
                    "The password needs at least two of: letters, digits, symbols")
    return None


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def totp_uri(secret: str, email: str, issuer: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def totp_qr_svg(uri: str) -> str:
    """An inline SVG QR code for authenticator apps."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=5)


def verify_totp(secret: str, code: str, last_step: int | None, at: float | None = None) -> int | None:
    """The time step the code belongs to if valid and not used before, else None."""
    import pyotp

    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    for drift in (0, -1, 1):
        step = int(now // totp.interval) + drift
        if totp.at(step * totp.interval) == code:
            if last_step is not None and step <= last_step:
                return None
            return step
    return None


def current_totp(secret: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).now()
