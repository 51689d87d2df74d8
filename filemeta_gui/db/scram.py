"""SCRAM-SHA-256 password verifiers, computed on the client as ``psql``'s ``\\password`` does.

FileMeta sets a login's password by sending the *verifier* (salted, iterated hashes),
never the password itself: ``ALTER ROLE ... PASSWORD '...'`` is a statement the server may
write to its log, and a verifier in a log gives nobody the password.

The password is first normalised with SASLprep (RFC 4013) exactly where PostgreSQL does
it, so a password with accents or odd spaces logs in with the same bytes the server
expects; when SASLprep refuses a string, PostgreSQL uses its raw bytes, and so do we.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stringprep
import unicodedata

ITERATIONS = 4096  # PostgreSQL's default scram_iterations
SALT_BYTES = 16

_PROHIBITED = (
    stringprep.in_table_c12,
    stringprep.in_table_c21,
    stringprep.in_table_c22,
    stringprep.in_table_c3,
    stringprep.in_table_c4,
    stringprep.in_table_c5,
    stringprep.in_table_c6,
    stringprep.in_table_c7,
    stringprep.in_table_c8,
    stringprep.in_table_c9,
    stringprep.in_table_a1,  # unassigned code points
)


def saslprep(password: str) -> str | None:
    """The SASLprep form of ``password``, or None where PostgreSQL would use it unchanged."""
    if password.isascii():
        return password  # PostgreSQL's fast path: ASCII passes through untouched
    mapped = "".join(
        " " if stringprep.in_table_c12(ch) else ch
        for ch in password
        if not stringprep.in_table_b1(ch)
    )
    prepared = unicodedata.normalize("NFKC", mapped)
    if not prepared or any(test(ch) for ch in prepared for test in _PROHIBITED):
        return None
    right_to_left = [stringprep.in_table_d1(ch) for ch in prepared]
    if any(right_to_left) and (
        any(stringprep.in_table_d2(ch) for ch in prepared)
        or not (right_to_left[0] and right_to_left[-1])
    ):
        return None
    return prepared


def scram_sha256_verifier(
    password: str, salt: bytes | None = None, iterations: int = ITERATIONS
) -> str:
    """``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` as pg_authid stores it."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    prepared = saslprep(password)
    secret = (prepared if prepared is not None else password).encode("utf-8")
    salted = hashlib.pbkdf2_hmac("sha256", secret, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(stored_key)}:{_b64(server_key)}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
