"""Forged access tokens for the adversarial tests: >= 1,000 deterministic variants.

Each variant is (kind, token). None of them may be accepted: they use a forbidden
algorithm, a wrong key, an altered payload or signature, bad or missing claims, or are
not JWTs at all. Built from a genuine token so everything else about them is realistic.
Genuine tokens whose session ended (logged out, logged out everywhere, password changed,
account disabled or deleted) are passed in and yielded under their own kinds.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import combinations
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

CLAIMS = ("sub", "iat", "exp", "jti", "ver")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: dict[str, Any]) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def forged_tokens(
    genuine: str,
    key: str,
    user_id: int,
    version: int,
    now: datetime,
    ended: Iterable[tuple[str, str]] = (),
) -> Iterator[tuple[str, str]]:
    """Yield (kind, token) pairs; `genuine` is a valid token for (user_id, version).

    `ended` holds (kind, token) pairs of genuine tokens whose session has ended; each is
    yielded as is and with its signature stripped (which must not revive it either).
    """
    rng = random.Random(7)
    header_b64, payload_b64, signature = genuine.split(".")
    iat = int(now.timestamp())
    good = {"sub": str(user_id), "iat": iat, "exp": iat + 3600, "jti": "f" * 32, "ver": version}

    for alg in ("none", "None", "NONE", "nOnE", ""):
        for sig in ("", signature, b64(b"x")):
            yield "alg-none", f"{segment({'alg': alg, 'typ': 'JWT'})}.{segment(good)}.{sig}"
    for alg in ("HS512", "HS384"):
        yield "alg-hs-other", jwt.encode(good, key, algorithm=alg)
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    for alg in ("RS256", "RS384", "RS512"):
        yield "alg-rsa", jwt.encode(good, pem, algorithm=alg)
    # Key confusion: an RS256 header over an HMAC signature with the real key.
    header = segment({"alg": "RS256", "typ": "JWT"})
    confused = jwt.encode(good, key, algorithm="HS256").split(".")[2]
    yield "alg-confusion", f"{header}.{segment(good)}.{confused}"

    for i in range(100):
        wrong = key[:-1] + chr(ord(key[-1]) ^ 1) if i == 0 else f"wrong-key-{rng.getrandbits(128)}"
        yield "wrong-key", jwt.encode(good, wrong, algorithm="HS256")
    yield "wrong-key", jwt.encode(good, "", algorithm="HS256")

    # Altered payload, genuine header and signature.
    for i in range(200):
        claims = dict(good)
        claims["sub"] = str(user_id + 1 + i) if i % 2 else str(user_id)
        claims["ver"] = version + (i % 5)
        claims["exp"] = iat + 10 * 365 * 86400 + i
        yield "altered-payload", f"{header_b64}.{segment(claims)}.{signature}"
    # Altered signature: every position, two replacement characters each.
    for position in range(len(signature)):
        for replacement in "AQgw":
            if signature[position] != replacement:
                altered = signature[:position] + replacement + signature[position + 1 :]
                yield "altered-signature", f"{header_b64}.{payload_b64}.{altered}"
    yield "altered-signature", f"{header_b64}.{payload_b64}."
    yield "altered-signature", f"{header_b64}.{payload_b64}.{signature[::-1]}"

    # Signed with the real key, but the claims must still be refused.
    for seconds in [0, 1, 60, 3600, 86400, *(rng.randint(2, 10**7) for _ in range(95))]:
        expired = dict(good, exp=iat - seconds, iat=iat - seconds - 3600)
        yield "expired", jwt.encode(expired, key, algorithm="HS256")
    # Beyond the minute of clock skew tolerated between processes (auth.tokens.CLOCK_SKEW),
    # and still in the future when the last test of a slow run uses them: a token made to
    # start 5 minutes ahead became valid halfway through the PostgreSQL run (the boundary
    # itself is tests/test_tokens.py's).
    for seconds in [7200, 86400, *(rng.randint(7200, 10**7) for _ in range(48))]:
        yield "not-yet-valid-nbf", jwt.encode(dict(good, nbf=iat + seconds), key, "HS256")
        future = dict(good, iat=iat + seconds, exp=iat + seconds + 3600)
        yield "not-yet-valid-iat", jwt.encode(future, key, algorithm="HS256")
    for size in range(1, len(CLAIMS) + 1):
        for missing in combinations(CLAIMS, size):
            partial = {k: v for k, v in good.items() if k not in missing}
            yield "missing-claims", jwt.encode(partial, key, algorithm="HS256")
    for bad in [None, "", "x", [], {}, 1.5, "1e3", True]:
        for claim in ("sub", "ver", "iat", "exp"):
            yield "malformed-claim", jwt.encode(dict(good, **{claim: bad}), key, "HS256")
    for ver in [*range(version + 1, version + 51), -1, -(2**31), 2**63]:
        yield "unknown-version", jwt.encode(dict(good, ver=ver), key, algorithm="HS256")
    for sub in ["0", "-1", "999999999", str(2**63)]:
        yield "unknown-user", jwt.encode(dict(good, sub=sub), key, algorithm="HS256")

    garbage = [
        "",
        ".",
        "..",
        "...",
        "a.b.c",
        "Bearer",
        "null",
        genuine + ".",
        genuine + "." + signature,
        header_b64 + "." + payload_b64,
        genuine.replace(".", ""),
        genuine[:-1],
        genuine + "A",
        genuine.upper(),
        "x" * 10_000,
        "é.é.é",
        "\x00" * 20,
        "sst_",
        "sst_" + "0" * 43,
    ]
    yield from (("garbage", token) for token in garbage)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
    for _ in range(200):
        yield "garbage", "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 400)))
    for _ in range(50):
        yield "personal-token-guess", "sst_" + b64(rng.randbytes(32))
    for kind, token in ended:
        yield kind, token
        head, body, _ = token.split(".")
        yield kind, f"{head}.{body}."
