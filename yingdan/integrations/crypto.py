"""Credentials at rest: robot webhook URLs (they carry the access token) and signing secrets are stored encrypted.

The key is derived from SECRET_KEY with HKDF-SHA256; values are Fernet tokens (AES-128-CBC + HMAC-SHA256, a
random IV each time) stored as ``fernet:<token>``. Decryption also accepts SECRET_KEY_FALLBACKS, so a rotated
SECRET_KEY keeps working until ``yingdan rotate_secrets`` has re-encrypted the rows with the new key.

Services and forms see plain text: the model fields encrypt on the way to the database and decrypt on the way
back. A value that none of the keys can open (SECRET_KEY changed without the old one as a fallback) comes back
as an ``UnreadableSecret`` — never the ciphertext, never an exception on a page — and saving the row writes the
stored ciphertext back unchanged, so restoring the old key recovers it."""

from __future__ import annotations

import base64
import functools
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

log = logging.getLogger(__name__)

PREFIX = "fernet:"
_SALT = b"yingdan.integrations.secrets-at-rest"
_INFO = b"fernet-v1"


class UnreadableSecret(str):
    """Stands for a stored value that no configured key opens. Truthy (there *is* a secret), equal to ""
    as text, and remembers the ciphertext so a save does not lose it."""

    def __new__(cls, stored: str):
        obj = super().__new__(cls, "")
        obj.stored = stored
        return obj

    def __bool__(self):
        return True


@functools.lru_cache(maxsize=16)
def _fernet(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys(extra=()) -> tuple[str, ...]:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ()), *extra]
    return tuple(dict.fromkeys(k for k in keys if k))


@functools.lru_cache(maxsize=16)
def _multi(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet(k) for k in keys])


def is_encrypted(stored) -> bool:
    return isinstance(stored, str) and stored.startswith(PREFIX)


def encrypt(plain: str) -> str:
    """``fernet:<token>`` under the current SECRET_KEY; "" stays "" (no credential, nothing to hide)."""
    if isinstance(plain, UnreadableSecret):
        return plain.stored
    if not plain:
        return plain
    return PREFIX + _fernet(settings.SECRET_KEY).encrypt(plain.encode()).decode()


@functools.lru_cache(maxsize=512)
def _decrypt(stored: str, keys: tuple[str, ...]) -> str | None:
    try:
        return _multi(keys).decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        return None


def decrypt(stored, *, extra_keys=()) -> str:
    """Plain text of a stored value. Rows written before encryption (no prefix) read as they are."""
    if not is_encrypted(stored):
        return stored
    plain = _decrypt(stored, _keys(extra_keys))
    if plain is None:
        log.error("A stored integration secret cannot be decrypted with SECRET_KEY or SECRET_KEY_FALLBACKS "
                  "(was SECRET_KEY changed? see docs/configuration.md, 'Rotating SECRET_KEY').")
        return UnreadableSecret(stored)
    return plain


def rotate(stored, *, extra_keys=()) -> str | None:
    """The value re-encrypted under the current SECRET_KEY (plain legacy values get encrypted);
    None when no key opens it."""
    if not stored:
        return stored
    plain = decrypt(stored, extra_keys=extra_keys)
    if isinstance(plain, UnreadableSecret):
        return None
    return encrypt(plain)


class EncryptedMixin:
    """Encrypts in get_db_prep_value, decrypts in from_db_value. The column is text (a token is longer than the
    plain value); ``max_length`` still validates the plain value. Not usable in lookups other than = ""."""

    def get_internal_type(self):
        return "TextField"

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_db_prep_value(self, value, connection, prepared=False):
        if isinstance(value, UnreadableSecret):
            return value.stored
        value = super().get_db_prep_value(value, connection, prepared)
        return encrypt(value) if value else value


class EncryptedCharField(EncryptedMixin, models.CharField):
    pass


class EncryptedURLField(EncryptedMixin, models.URLField):
    pass


def encrypted_fields():
    """(model, [field names]) of every model with encrypted fields (for rotate_secrets)."""
    from django.apps import apps

    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]
        if names:
            yield model, names
