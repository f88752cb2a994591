"""Fault injection and rate limiting for the test server, plus the record of every exchange it served."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Fault", "RateLimit", "Exchange", "HTML_429"]

HTML_429 = (b"<!DOCTYPE html><html><head><title>429 Too Many Requests</title></head>"
            b"<body><h1>Too Many Requests</h1><p>Rate limit exceeded. Try again later.</p></body></html>")


@dataclass
class Fault:
    """One injected misbehaviour for requests matching `method` and the `path` regex (None: any).

    The first `after` matching requests pass untouched; the next `times` (None: all) get the fault.
    `delay` sleeps before answering. `status` None means "only the delay, then answer normally".
    `process=True` handles the request for real (the write happens) and then answers with the fault,
    which is how a 502 or a timeout can hide a successful write from the client.
    """

    status: int | None = 503
    body: Any = None  # dict/list -> JSON, str -> text/html, bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    after: int = 0
    process: bool = False
    seen: int = 0
    fired: int = 0

    def take(self, method: str, path: str) -> bool:
        """Whether this request gets the fault (counts it either way)."""
        if self.method and self.method.upper() != method:
            return False
        if self.path and not re.search(self.path, path):
            return False
        self.seen += 1
        if self.seen <= self.after or (self.times is not None and self.fired >= self.times):
            return False
        self.fired += 1
        return True

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def payload(self) -> tuple[bytes, str]:
        if self.body is None:
            default = {"errorMessages": [f"Injected failure ({self.status})."], "errors": {}}
            return json.dumps(default).encode(), "application/json;charset=UTF-8"
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), "text/html;charset=UTF-8"
        return json.dumps(self.body).encode(), "application/json;charset=UTF-8"


@dataclass
class RateLimit:
    """At most `limit` requests per `window` seconds; beyond it, 429 with `retry_after` (None: no header)."""

    limit: int
    window: float = 1.0
    retry_after: str | None = "1"
    html: bool = False
    started: float = field(default_factory=time.monotonic)
    used: int = 0
    refused: int = 0

    def admit(self) -> bool:
        now = time.monotonic()
        if now - self.started >= self.window:
            self.started, self.used = now, 0
        if self.used >= self.limit:
            self.refused += 1
            return False
        self.used += 1
        return True

    def reset_in(self) -> float:
        return max(0.0, self.window - (time.monotonic() - self.started))


@dataclass
class Exchange:
    """One request the server answered, with what it answered (Authorization is never kept)."""

    method: str
    path: str
    query: dict[str, list[str]]
    endpoint: str  # "POST /issue/{key}/comment": the route template, for per-endpoint counts
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    user: str | None = None

    def request_json(self) -> Any:
        return json.loads(self.request_body) if self.request_body else None

    def response_json(self) -> Any:
        return json.loads(self.response_body) if self.response_body else None

    @property
    def is_json_response(self) -> bool:
        return self.response_headers.get("Content-Type", "").startswith("application/json")
