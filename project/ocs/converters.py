from __future__ import annotations


class TokenConverter:
    """Talk's route requirement for conversation tokens: ``[a-z0-9]{4,30}``."""

    regex = "[a-z0-9]{4,30}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
