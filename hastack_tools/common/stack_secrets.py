"""`secure:` values of a stack file, decrypted offline the way the Pulumi CLI's passphrase provider does,
so the gate and render tell a value they could decrypt from one they could not (a broken ciphertext
used to pass CI as a placeholder).

The format is the CLI's: the stack file's `encryptionsalt: v1:<salt>:v1:<nonce>:<check>` holds the salt
and "pulumi" encrypted (which tells a wrong passphrase); a value is `v1:<nonce>:<ciphertext>`; the key is
PBKDF2-SHA256 (1,000,000 rounds, 32 bytes) of the passphrase; the cipher AES-256-GCM. A test round-trips
values against the real CLI (`make secret`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LOCAL_PASSPHRASE = "hastack-local-only"
"""The passphrase of local stacks when PULUMI_CONFIG_PASSPHRASE is unset (engine and gate alike)."""
ROUNDS = 1_000_000
PASSPHRASE_HINT = (
    "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the stack's passphrase; "
    f"unset, the local-only '{LOCAL_PASSPHRASE}' is tried"
)


class StackSecretError(ValueError):
    """A `secure:` value that cannot be decrypted; the message names the file, the key and the fix."""


def passphrase(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    if env.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        return Path(env["PULUMI_CONFIG_PASSPHRASE_FILE"]).read_text().rstrip("\n")
    return env.get("PULUMI_CONFIG_PASSPHRASE", LOCAL_PASSPHRASE)


@cache
def _key(phrase: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", phrase.encode(), salt, ROUNDS, 32)


def _open(key: bytes, value: str) -> str:
    """Decrypts `v1:<nonce>:<ciphertext>`; ValueError when it is malformed or does not authenticate."""
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != "v1":
        raise ValueError("not of the form v1:<nonce>:<ciphertext>")
    try:
        nonce, sealed = base64.b64decode(parts[1], validate=True), base64.b64decode(parts[2], validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
    if len(nonce) != 12:
        raise ValueError("nonce size is incorrect")
    try:
        return AESGCM(key).decrypt(nonce, sealed, None).decode()
    except InvalidTag:
        raise ValueError("message authentication failed") from None


def _seal(key: bytes, value: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), None)
    return f"v1:{base64.b64encode(nonce).decode()}:{base64.b64encode(sealed).decode()}"


def new_salt(phrase: str) -> str:
    """An `encryptionsalt` as `pulumi stack init` writes it (for fixtures; the CLI makes the real ones)."""
    salt = secrets.token_bytes(8)
    return f"v1:{base64.b64encode(salt).decode()}:{_seal(_key(phrase, salt), 'pulumi')}"


def _salt_key(stack_file: Path, encryption_salt: str, phrase: str) -> bytes:
    parts = encryption_salt.split(":", 2)
    if len(parts) != 3 or parts[0] != "v1":
        raise StackSecretError(
            f"{stack_file}: encryptionsalt is not of the form v1:<salt>:v1:...: {encryption_salt!r}"
        )
    try:
        key = _key(phrase, base64.b64decode(parts[1], validate=True))
        check = _open(key, parts[2])
    except (binascii.Error, ValueError):
        check = ""
    if check != "pulumi":
        raise StackSecretError(
            f"{stack_file}: the passphrase does not open this stack's secrets (encryptionsalt): "
            f"{PASSPHRASE_HINT}"
        )
    return key


def encrypter(stack_file: Path, encryption_salt: str, phrase: str | None = None) -> Callable[[str], str]:
    key = _salt_key(stack_file, encryption_salt, passphrase() if phrase is None else phrase)
    return lambda value: _seal(key, value)


def decrypter(stack_file: Path, encryption_salt: str | None) -> Callable[[str, str], str]:
    """A function (key path, ciphertext) -> value for the stack file's secure values; it raises
    StackSecretError naming the key path when a value cannot be decrypted."""
    if not encryption_salt:

        def no_salt(where: str, _ciphertext: str) -> str:
            raise StackSecretError(
                f"{stack_file}: {where}: a secure value, but the file has no encryptionsalt to decrypt it "
                "with; set it with `make secret` (which writes the stack's salt), or copy the stack's "
                "encryptionsalt into the file"
            )

        return no_salt
    key: list[bytes] = []

    def decrypt(where: str, ciphertext: str) -> str:
        key[:] = key or [_salt_key(stack_file, encryption_salt, passphrase())]
        try:
            return _open(key[0], ciphertext)
        except ValueError as error:
            raise StackSecretError(
                f"{stack_file}: {where}: a secure value that does not decrypt with this stack's salt and "
                f"passphrase ({error}): set it again with `make secret STACK=<stack> KEY=<path>`"
            ) from None

    return decrypt
