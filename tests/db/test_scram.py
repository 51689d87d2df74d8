"""Client-side SCRAM verifiers equal what PostgreSQL computes from the same password."""

from __future__ import annotations

import base64
import uuid

from filemeta_gui.db.scram import saslprep, scram_sha256_verifier
from tests.support.pg import PgServer

PASSWORDS = [
    "secret",
    "correct horse battery staple",
    "pässwörd",  # NFKC leaves it, non-ASCII path
    "I\u00adX\u2168",  # soft hyphen mapped to nothing, Roman numeral nine to "IX"
    "a\u00a0b",  # no-break space mapped to a space
    "\u0627\u0644",  # right-to-left only: allowed
    "a\u0627",  # mixed directions: SASLprep refuses, the raw bytes are used
    "\U000e0001x",  # a prohibited tag character: raw bytes too
]


def test_saslprep_maps_and_refuses() -> None:
    assert saslprep("I\u00adX\u2168") == "IXIX"
    assert saslprep("a\u00a0b") == "a b"
    assert saslprep("a\u0627") is None
    assert saslprep("plain ascii\t") == "plain ascii\t"  # ASCII passes through


def test_verifier_format() -> None:
    verifier = scram_sha256_verifier("x", salt=b"0123456789abcdef")
    assert verifier.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$")
    assert scram_sha256_verifier("x") != scram_sha256_verifier("x")  # a fresh salt each time


def test_the_server_computes_the_same(pg_server: PgServer) -> None:
    role = f"fm_scram_{uuid.uuid4().hex[:10]}"
    pg_server.run(f'CREATE ROLE "{role}"')
    pg_server.roles.append(role)
    try:
        for password in PASSWORDS:
            literal = password.replace("'", "''")
            pg_server.run(
                f"DO $$ BEGIN SET LOCAL password_encryption = 'scram-sha-256'; "
                f"ALTER ROLE \"{role}\" PASSWORD '{literal}'; END $$"
            )
            stored = pg_server.run("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role)
            verifier = str(stored[0][0])
            iterations, salt = verifier.split("$")[1].split(":")
            mine = scram_sha256_verifier(password, base64.b64decode(salt), int(iterations))
            assert mine == verifier, password
    finally:
        pg_server.run(f'DROP ROLE IF EXISTS "{role}"')
