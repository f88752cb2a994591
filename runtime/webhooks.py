"""Webhooks for `rulelang serve`: a stdlib HTTP endpoint that checks change notices and records them durably.

    POST /webhooks/<instance>   a tracker's notice that one of its issues changed
    GET  /health                200 while the server runs

A notice is accepted only with the instance's shared secret, in any one of:

- `X-Hub-Signature: sha256=<hex>`: HMAC-SHA256 of the raw body keyed on the secret (what Jira Cloud's
  admin webhooks, and Data Center 10+, send when the webhook has a secret);
- `Authorization: Bearer <secret>` (a proxy or an automation rule that sets a header);
- `?secret=<secret>` in the URL (older Jira Data Center, which cannot sign; the URL may show in logs).

Missing or wrong: 401. The body must be a notice the instance's parser understands, else 400; either way
a log line says why (never the secret, never the body). A good notice is recorded in the state store as
pending under its delivery id (`X-Atlassian-Webhook-Identifier`, else a hash of the body) before the
answer, 202; a delivery id seen before, even before a restart, answers 200 and is dropped. The notice
only names an issue: whoever drains the pending notices reads the issue itself, so deliveries that come
twice, late or out of order cannot bring back old content.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from rulelang.errors import PayloadError, RulelangError

from .state import StateStore

__all__ = ["Endpoint", "WebhookReceiver", "secret_matches", "delivery_id", "MAX_BODY", "WEBHOOK_PATH"]

log = logging.getLogger("rulelang.webhooks")

MAX_BODY = 1 << 20  # Jira's webhook bodies are a few kB to a few hundred kB (an issue with its fields)
WEBHOOK_PATH = "/webhooks/"
_READ_TIMEOUT = 10.0  # seconds a client may take to send its request (a stalled client holds one thread)
_SECRET_IN_URL = re.compile(r"([?&]secret=)[^&\s\"]*", re.I)

Parser = Callable[[Any], tuple[str, str]]  # body -> (event, issue key or id); PayloadError when unknown


@dataclass(frozen=True)
class Endpoint:
    """One instance's webhook: its shared secret and the parser of its tracker's bodies."""

    instance: str
    secret: str = field(repr=False)
    parse: Parser


def secret_matches(secret: str, headers: Mapping[str, str], query: Mapping[str, list[str]], body: bytes) -> bool:
    """Whether the request carries `secret` in one of the accepted ways (see the module docstring).
    `headers` are keyed in lower case. Every comparison takes the same time whatever the input."""
    key = secret.encode("utf-8")
    ok = False
    signature = headers.get("x-hub-signature", "").strip()
    if signature.lower().startswith("sha256="):
        expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
        ok |= hmac.compare_digest(expected, signature[7:].strip().lower().encode("utf-8", "replace"))
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer":
        ok |= hmac.compare_digest(key, token.strip().encode("utf-8", "replace"))
    for given in query.get("secret", [])[:1]:
        ok |= hmac.compare_digest(key, given.encode("utf-8", "replace"))
    return ok


def delivery_id(instance: str, headers: Mapping[str, str], body: bytes) -> str:
    """The id a repeated delivery shares with the first: the tracker's, else the body's hash (a resent
    body is byte for byte the same; Jira puts a timestamp in each new one)."""
    given = headers.get("x-atlassian-webhook-identifier", "").strip()
    if given and len(given) <= 200 and given.isprintable():
        return f"{instance}/{given}"
    return f"{instance}/sha256:{hashlib.sha256(body).hexdigest()}"


class WebhookReceiver:
    """The HTTP endpoint, served on threads; `wake` is set whenever a new notice was recorded.

    `store` is a StateStore of its own (the engine keeps its own connection to the same file);
    `counts` tallies the answers by outcome: accepted, duplicate, unauthorized, bad, …
    """

    def __init__(self, store: StateStore, endpoints: Mapping[str, Endpoint], *, host: str = "127.0.0.1",
                 port: int = 0, max_body: int = MAX_BODY) -> None:
        self.store = store
        self.endpoints = dict(endpoints)
        self.host, self.port, self.max_body = host, port, max_body
        self.wake = threading.Event()
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL (`http://host:port`), once started."""
        if self._httpd is None:
            raise RuntimeError("the webhook receiver is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host if ':' not in str(host) else f'[{host}]'}:{port}"

    def start(self) -> WebhookReceiver:
        httpd = _Server((self.host, self.port), _Handler)
        httpd.receiver = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="rulelang-webhooks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] += 1

    # ---- one request ----

    def receive(self, path: str, headers: Mapping[str, str], body: bytes, client: str) -> tuple[int, dict[str, Any]]:
        """(status, JSON answer) for a POST; never raises."""
        parts = urlsplit(path)
        name = unquote(parts.path[len(WEBHOOK_PATH):].strip("/")) if parts.path.startswith(WEBHOOK_PATH) else None
        endpoint = self.endpoints.get(name or "")
        if endpoint is None:
            self._count("unknown-path")
            log.warning("webhook from %s to %s refused: no such endpoint (known: %s)", client, parts.path[:100],
                        ", ".join(f"{WEBHOOK_PATH}{n}" for n in self.endpoints) or "none")
            return 404, {"error": "no webhook endpoint here"}
        if not secret_matches(endpoint.secret, headers, parse_qs(parts.query), body):
            self._count("unauthorized")
            log.warning("webhook from %s for %s refused: missing or wrong secret", client, endpoint.instance)
            return 401, {"error": "missing or wrong secret"}
        try:
            payload = json.loads(body.decode("utf-8"))
            event, key = endpoint.parse(payload)
        except (UnicodeDecodeError, ValueError, RecursionError):
            self._count("bad")
            log.warning("webhook from %s for %s refused: the body is not JSON (%d bytes)", client,
                        endpoint.instance, len(body))
            return 400, {"error": "the body is not JSON"}
        except PayloadError as e:
            self._count("bad")
            log.warning("webhook from %s for %s refused: %s", client, endpoint.instance, e.diagnostic.message)
            return 400, {"error": e.diagnostic.message}
        except Exception as e:  # a parser bug must not take the server down
            self._count("error")
            log.exception("webhook from %s for %s: parser failed (%s)", client, endpoint.instance, type(e).__name__)
            return 500, {"error": "internal error"}
        delivery = delivery_id(endpoint.instance, headers, body)
        try:
            new = self.store.record_delivery(delivery, endpoint.instance, key, event)
        except (sqlite3.Error, RulelangError) as e:
            self._count("unavailable")
            log.error("webhook %s for %s %s not recorded: %s; the tracker will resend it", event,
                      endpoint.instance, key, e)
            return 503, {"error": "cannot record the notice now; retry"}
        if not new:
            self._count("duplicate")
            log.info("webhook %s for %s %s: a repeated delivery, dropped", event, endpoint.instance, key)
            return 200, {"duplicate": True}
        self._count("accepted")
        log.info("webhook %s for %s %s recorded", event, endpoint.instance, key)
        self.wake.set()
        return 202, {"accepted": key, "event": event}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    receiver: WebhookReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up or sends garbage is its own problem: no traceback on stderr.
        log.debug("webhook connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rulelang-webhooks"
    sys_version = ""
    timeout = _READ_TIMEOUT
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        # The request line may carry ?secret=…: never into a log.
        log.debug("%s %s", self.client_address[0], _SECRET_IN_URL.sub(r"\1***", format % args))

    def _answer(self, status: int, doc: dict[str, Any], *, close: bool = False) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's naming
        if urlsplit(self.path).path == "/health":
            self._answer(200, {"ok": True})
        else:
            self._answer(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        receiver = self.server.receiver
        length_text = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or length_text is None or not length_text.strip().isdigit():
            receiver._count("bad")
            self._answer(411, {"error": "a Content-Length is required"}, close=True)
            return
        length = int(length_text)
        if length > receiver.max_body:
            receiver._count("bad")
            log.warning("webhook from %s refused: %d bytes is over the %d byte limit", self.client_address[0],
                        length, receiver.max_body)
            self._answer(413, {"error": "the body is too large"}, close=True)  # unread: close the connection
            return
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True  # the client hung up half-way
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, doc = receiver.receive(self.path, headers, body, self.client_address[0])
        self._answer(status, doc)

    def do_PUT(self) -> None:  # noqa: N802
        self._answer(405, {"error": "use POST"}, close=True)

    do_DELETE = do_PATCH = do_PUT
