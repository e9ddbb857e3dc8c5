"""Request body parsing that never turns hostile input into a server error."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """JSON parser that maps pathological documents (too deep, invalid UTF-8) to ParseError."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        try:
            raw = stream.read() if stream is not None else b""
            if not raw:
                return {}
            return json.loads(raw.decode(encoding))
        except RecursionError:
            raise ParseError("JSON nested too deeply") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
