"""Field encryption at rest: legal representatives' ID numbers and TOTP secrets.

The key is FLASK_ENCRYPTION_KEY (any long random string). Several keys may be given, separated
by commas: the first encrypts, every one decrypts, so a key can be rotated (add the new key in
front, run `flask crypto reencrypt`, then drop the old one). Each configured string is stretched
with HKDF into a Fernet key (AES-128-CBC with HMAC-SHA256, a random IV per value), so a database
dump or backup without the key shows no ID number and no second-factor secret.

In embedded mode a key is made once and kept in the instance folder, like the secret key; in
production a missing key is logged loudly (config.finalise).
"""

from __future__ import annotations

import base64
from functools import lru_cache

import click
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, has_app_context
from flask.cli import AppGroup
from sqlalchemy import Text, TypeDecorator, text

TOKEN_PREFIX = "gAAAAA"  # every Fernet token (version byte 0x80) starts so in base64


class DecryptionError(RuntimeError):
    """A stored value that none of the configured keys opens (wrong or missing key)."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"receivables-marketplace", info=purpose).derive(
        secret.encode()
    )


@lru_cache(maxsize=8)
def _fernet_for(configured: str) -> MultiFernet:
    secrets = [part.strip() for part in configured.split(",") if part.strip()]
    if not secrets:
        raise RuntimeError("ENCRYPTION_KEY is empty")
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(s, b"field-encryption"))) for s in secrets])


_key_outside_app_context: str | None = None


def use_key_outside_app_context(key: str | None) -> None:
    """The key for values written or read with no app context (the test suite's factories)."""
    global _key_outside_app_context
    _key_outside_app_context = key


def _configured_key() -> str:
    key = current_app.config.get("ENCRYPTION_KEY") if has_app_context() else _key_outside_app_context
    if not key:
        raise RuntimeError("FLASK_ENCRYPTION_KEY is not configured")
    return key


def encrypt(plaintext: str) -> str:
    return _fernet_for(_configured_key()).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet_for(_configured_key()).decrypt(token.encode()).decode()
    except InvalidToken as e:
        raise DecryptionError("an encrypted field cannot be decrypted with the configured ENCRYPTION_KEY") from e


def is_encrypted(value: str | None) -> bool:
    return bool(value) and value.startswith(TOKEN_PREFIX)


def reencrypt(token: str) -> str:
    """The value under the first (newest) configured key."""
    return _fernet_for(_configured_key()).rotate(token.encode()).decode()


class EncryptedText(TypeDecorator):
    """A string stored encrypted (Fernet token text); reads return the plaintext.

    Equality filters on such a column cannot work (each encryption is randomised); no query
    looks these values up. A lookup would need a keyed-HMAC column beside it.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt(str(value))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt(value)


# ---- key rotation ------------------------------------------------------------------------------

ENCRYPTED_COLUMNS = (("enterprises", "legal_rep_id_number"), ("users", "totp_secret"))

crypto_cli = AppGroup("crypto", help="Encrypted columns (ID numbers, TOTP secrets).")


@crypto_cli.command("reencrypt")
def reencrypt_command():
    """Rewrite every encrypted value under the first key of FLASK_ENCRYPTION_KEY (after a rotation)."""
    from marketplace.extensions import db

    for table, column in ENCRYPTED_COLUMNS:
        rows = db.session.execute(text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
        for row_id, value in rows:
            db.session.execute(text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
                               {"value": reencrypt(value) if is_encrypted(value) else encrypt(value), "id": row_id})
        click.echo(f"{table}.{column}: {len(rows)} values re-encrypted")
    db.session.commit()
