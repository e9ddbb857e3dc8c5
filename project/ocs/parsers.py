"""Request body parsing that never turns hostile input into a server error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """JSON parser that maps pathological documents (too deep, invalid UTF-8, lone surrogates) to
    ParseError. A ``\\ud800`` escape without its pair is valid JSON but decodes to a string that
    is not Unicode text: neither database can store it, and encoding it for a query raised a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        try:
            raw = stream.read() if stream is not None else b""
            if not raw:
                return {}
            data = json.loads(raw.decode(encoding))
            json.dumps(data, ensure_ascii=False).encode("utf-8")  # UnicodeEncodeError on a lone surrogate
            return data
        except RecursionError:
            raise ParseError("JSON nested too deeply") from None
        except LookupError:  # a charset that is not a text encoding (CharsetMiddleware refuses it first)
            raise ParseError("Unsupported charset") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
