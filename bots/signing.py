"""Talk's bot signatures: HMAC-SHA256 with the bot's secret over the random followed by the
signed text (the webhook body one way; the message or reaction text the other way)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

RANDOM_ALPHABET = string.ascii_letters + string.digits
RANDOM_LENGTH = 64
MIN_RANDOM_LENGTH = 32  # Talk refuses shorter randoms of bot requests with 400


def random_new() -> str:
    """64 characters of [A-Za-z0-9], as Talk's ISecureRandom::generate(64)."""
    return "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(RANDOM_LENGTH))


def signature(*, secret: str, random: str, text: str | bytes) -> str:
    data = text if isinstance(text, bytes) else text.encode()
    return hmac.new(secret.encode(), random.encode() + data, hashlib.sha256).hexdigest()


def signature_matches(*, secret: str, random: str, text: str, given: str) -> bool:
    return hmac.compare_digest(signature(secret=secret, random=random, text=text), given.strip().lower())


def random_digest(random: str) -> str:
    return hashlib.sha256(random.encode("utf-8", "surrogatepass")).hexdigest()
