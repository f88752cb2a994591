"""The Jira-compatible test server: HTTP on 127.0.0.1 in a thread, with seeding, inspection and fault knobs."""

from __future__ import annotations

import base64
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .api import Api
from .faults import HTML_429, Exchange, Fault, RateLimit
from .model import (
    DEFAULT_CUSTOM_FIELDS,
    DEFAULT_WORKFLOW,
    ApiError,
    Comment,
    CustomField,
    Issue,
    User,
    Workflow,
    text_to_adf,
)
from .render import Renderer
from .routes import Request, Response, match_route
from .state import JiraState

__all__ = ["JiraServer"]


class JiraServer:
    """A Jira site for tests. Use as a context manager; `url` is known once started.

    `flavor="cloud"` speaks REST v3 (ADF, accountIds, basic e-mail + API token, `search/jql`);
    `flavor="dc"` speaks REST v2 (wiki markup, user names, bearer PAT, `search` with startAt).
    """

    def __init__(self, flavor: str = "cloud", *, project: str = "DEV", projects: Mapping[str, str] | None = None,
                 custom_fields: Iterable[CustomField] = DEFAULT_CUSTOM_FIELDS,
                 workflow: Mapping[str, Mapping[str, str]] = DEFAULT_WORKFLOW,
                 issue_types: Iterable[str] = ("Bug", "Task", "Story", "Epic"),
                 priorities: Iterable[str] = ("Highest", "High", "Medium", "Low", "Lowest"),
                 components: Iterable[str] = ("Backend", "Frontend", "API"),
                 versions: Iterable[str] = ("1.0", "1.1", "2.0"),
                 required_fields: Iterable[str] = (), page_cap: int = 100, search_lag: float = 0.0,
                 attachment_limit: int = 10 * 1024 * 1024, hide_emails: bool = False, time_zone: str = "UTC",
                 clock: Any = None) -> None:
        if flavor not in ("cloud", "dc"):
            raise ValueError("flavor must be 'cloud' or 'dc'")
        self.flavor = flavor
        self.project = project
        self.state = JiraState(
            flavor, projects=dict(projects or {project: f"{project} project"}), issue_types=issue_types,
            priorities=priorities, workflow=Workflow({k: dict(v) for k, v in workflow.items()}),
            custom_fields=custom_fields, required=required_fields, components=components, versions=versions,
            attachment_limit=attachment_limit, search_lag=search_lag,
            clock=clock or (lambda: datetime.now(UTC)))
        self.page_cap = page_cap
        self.hide_emails = hide_emails
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.rate: RateLimit | None = None
        self.exchanges: list[Exchange] = []
        self.connections = 0
        self.bot = self.add_user("Sync Bot", "sync-bot@example.com", name="syncbot",
                                 token=secrets.token_urlsafe(16), time_zone=time_zone)
        self.add_user("Alice Example", "alice@example.com", name="alice", email_visible=not hide_emails)
        self.add_user("Bob Example", "bob@example.com", name="bob", email_visible=not hide_emails)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.api: Api | None = None

    # ---- lifecycle
    def start(self) -> JiraServer:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False  # idle keep-alive connections must not hold up stop()
        httpd.jira = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        self.api = Api(self.state, Renderer(self.state, self.url), page_cap=self.page_cap,
                       hide_emails=self.hide_emails)
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"jira-{self.flavor}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> JiraServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- credentials
    def add_user(self, display_name: str, email: str, *, name: str | None = None, account_id: str | None = None,
                 token: str | None = None, email_visible: bool = True, time_zone: str = "UTC") -> User:
        with self.lock:
            n = len(self.state.users)
            user = User(account_id or f"5b10ac8d82e05b22cc7d{n:04x}", name or email.split("@")[0], display_name,
                        email, token, time_zone, email_visible)
            self.state.users.append(user)
            return user

    def auth_env(self, prefix: str = "JIRA") -> dict[str, str]:
        """Environment variables holding the bot's credentials (what a connection config points at)."""
        if self.flavor == "cloud":
            return {f"{prefix}_EMAIL": self.bot.email, f"{prefix}_TOKEN": self.bot.token or ""}
        return {f"{prefix}_PAT": self.bot.token or ""}

    def auth_config(self, prefix: str = "JIRA") -> dict[str, str]:
        """The matching `auth = {...}` table: environment variable names, never values."""
        if self.flavor == "cloud":
            return {"email_env": f"{prefix}_EMAIL", "token_env": f"{prefix}_TOKEN"}
        return {"token_env": f"{prefix}_PAT"}

    def authenticate(self, header: str | None) -> User | None:
        if not header:
            return None
        scheme, _, cred = header.partition(" ")
        if self.flavor == "cloud" and scheme.lower() == "basic":
            try:
                email, _, token = base64.b64decode(cred).decode().partition(":")
            except ValueError:
                return None
            return next((u for u in self.state.users if u.token and u.email == email
                         and secrets.compare_digest(u.token, token)), None)
        if self.flavor == "dc" and scheme.lower() == "bearer":
            return next((u for u in self.state.users if u.token and secrets.compare_digest(u.token, cred)), None)
        return None

    # ---- seeding and inspection
    def seed_issue(self, summary: str, *, type: str = "Task", status: str | None = None,
                   description: Any = None, labels: Iterable[str] = (), priority: str | None = None,
                   assignee: str | None = None, reporter: str | None = None, components: Iterable[str] = (),
                   fix_versions: Iterable[str] = (), duedate: str | None = None,
                   custom: Mapping[str, Any] | None = None, properties: Mapping[str, Any] | None = None,
                   comments: Iterable[str | Mapping[str, Any]] = (), created: datetime | None = None,
                   updated: datetime | None = None, project: str | None = None, indexed: bool = True) -> str:
        """Create an issue directly (no workflow, no validation of names); emails name users."""
        with self.lock:
            st = self.state
            fields: dict[str, Any] = {"project": {"key": project or self.project}, "summary": summary,
                                      "issuetype": {"name": type}}
            issue = st.create_issue({"fields": fields}, self.user(reporter) if reporter else self.bot)
            f = issue.fields
            f.update(description=self.rich(description), labels=list(labels), components=list(components),
                     fixVersions=list(fix_versions), duedate=duedate,
                     assignee=self.user(assignee) if assignee else None)
            if priority:
                f["priority"] = priority
            if status:
                f["status"] = status
                f["resolution"] = "Done" if st.workflow.categories.get(status) == "done" else None
            for name, value in (custom or {}).items():
                cf = next(c for c in st.custom.values() if name in (c.name, c.id))
                f[cf.id] = self.rich(value) if cf.type == "textarea" else value
            issue.properties.update(properties or {})
            for c in comments:
                spec = {"body": c} if isinstance(c, str) else dict(c)
                author = self.user(spec["author"]) if spec.get("author") else self.bot
                st._next_comment += 1
                at = spec.get("created") or st.now()
                issue.comments.append(Comment(st._next_comment, self.rich(spec["body"]), author, at, at, author,
                                              {"sd.public.comment": {"internal": True}} if spec.get("internal")
                                              else {}))
            f["created"] = created or f["created"]
            f["updated"] = updated or created or f["updated"]
            issue.index = [(0.0 if indexed else time.monotonic() + st.search_lag, issue.snapshot())]
            return issue.key

    def rich(self, value: Any) -> Any:
        """Seed text in the flavour's format: plain text becomes ADF on Cloud."""
        return text_to_adf(value) if self.flavor == "cloud" and isinstance(value, str) else value

    def user(self, email_or_name: str) -> User:
        return next(u for u in self.state.users if email_or_name in (u.email, u.name, u.account_id))

    def get(self, key: str) -> Issue:
        """The live record of an issue (fields normalised: names, User objects, datetimes)."""
        with self.lock:
            return self.state.issue(key)

    def keys(self) -> list[str]:
        with self.lock:
            return list(self.state.issues)

    def issue_json(self, key: str) -> dict:
        """The issue as `GET /issue/{key}` would answer the bot."""
        assert self.api is not None, "start the server first"
        with self.lock:
            r = self.api.r
            return r.issue(self.state.issue(key), self.bot, fields=r.select_fields(None, "*all"))

    def attachment_bytes(self, attachment_id: str | int) -> bytes:
        with self.lock:
            return self.state.attachments[int(attachment_id)].content

    def set_field(self, key: str, field_id: str, value: Any) -> None:
        """Change a stored field as someone in the Jira UI would (bumps `updated`, reindexes)."""
        with self.lock:
            issue = self.state.issue(key)
            issue.fields[field_id] = self.rich(value) if field_id == "description" else value
            self.state.touch(issue)

    # ---- faults
    def inject(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def fail(self, status: int = 503, *, times: int | None = 1, method: str | None = None,
             path: str | None = None, after: int = 0, process: bool = False, body: Any = None,
             headers: Mapping[str, str] | None = None) -> Fault:
        return self.inject(Fault(status, body, dict(headers or {}), 0.0, method, path, times, after, process))

    def throttle(self, times: int | None = 1, *, retry_after: str | None = "0", html: bool = False,
                 method: str | None = None, path: str | None = None, after: int = 0) -> Fault:
        """Answer 429 to the next `times` matching requests (HTML body as some DC proxies do)."""
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        headers.update(self._rate_headers())
        body: Any = HTML_429.decode() if html else {"errorMessages": ["Rate limit exceeded."], "errors": {}}
        return self.inject(Fault(429, body, headers, 0.0, method, path, times, after))

    def slow(self, seconds: float, *, times: int | None = 1, method: str | None = None, path: str | None = None,
             after: int = 0) -> Fault:
        """Delay matching answers; with a client timeout shorter than `seconds` the write still happens."""
        return self.inject(Fault(None, None, {}, seconds, method, path, times, after))

    def malformed(self, *, times: int | None = 1, method: str | None = None, path: str | None = None,
                  body: bytes = b'{"issues": [ {"id": "1000', status: int = 200) -> Fault:
        """Answer with a body that is not the JSON Jira would send (truncated JSON by default)."""
        headers = {"Content-Type": "application/json;charset=UTF-8"}
        return self.inject(Fault(status, body, headers, 0.0, method, path, times))

    def rate_limit(self, limit: int, *, window: float = 1.0, retry_after: str | None = "1",
                   html: bool = False) -> RateLimit:
        """A steady quota: more than `limit` requests per `window` seconds answer 429."""
        with self.lock:
            self.rate = RateLimit(limit, window, retry_after, html)
            return self.rate

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
            self.rate = None

    def _rate_headers(self) -> dict[str, str]:
        if self.flavor == "cloud":
            return {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "RateLimit-Reason":
                    "jira-quota-tenant-based"}
        return {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-Interval-Seconds": "1",
                "X-RateLimit-FillRate": "10"}

    # ---- counting
    def counts(self) -> Counter[str]:
        """Requests per endpoint, e.g. counts()["POST /issue/{key}/comment"]."""
        with self.lock:
            return Counter(e.endpoint for e in self.exchanges)

    def count(self, endpoint: str | None = None) -> int:
        with self.lock:
            return len(self.exchanges) if endpoint is None else sum(e.endpoint == endpoint for e in self.exchanges)

    def reset_counts(self) -> None:
        with self.lock:
            self.exchanges.clear()

    # ---- serving one request
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Exchange:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        route = match_route(self.flavor, method, path)
        endpoint = route[0] if route else f"{method} ?"
        req = Request(method, path, query, headers, body, route[2] if route else {})
        with self.lock:
            fault = next((f for f in self.faults if not f.spent and f.take(method, path)), None)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        with self.lock:
            replaced = fault is not None and fault.status is not None
            if not replaced or fault.process:
                resp = self._answer(req, route)
            if replaced:
                payload, ctype = fault.payload()
                resp = Response(fault.status, payload, fault.headers.get("Content-Type", ctype),
                                {k: v for k, v in fault.headers.items() if k != "Content-Type"})
                req.user = req.user or self.authenticate(headers.get("authorization"))
            out = Exchange(method, path, query, endpoint, {k: v for k, v in headers.items() if k != "authorization"},
                           body, resp.status, {"Content-Type": resp.content_type, **resp.headers}, resp.encode(),
                           req.user.name if req.user else None)
            self.exchanges.append(out)
            return out

    def _answer(self, req: Request, route: tuple[str, str, dict[str, str]] | None) -> Response:
        req.user = self.authenticate(req.headers.get("authorization"))
        if req.user is None:
            challenge = 'Basic realm="protected-area"' if self.flavor == "cloud" else 'Bearer realm="jira"'
            return Response(401, {"errorMessages": ["You are not authenticated. Authentication required to "
                                                    "perform this operation."], "errors": {}},
                            headers={"WWW-Authenticate": challenge})
        if self.rate is not None and not self.rate.admit():
            headers = self._rate_headers()
            if self.rate.retry_after is not None:
                headers["Retry-After"] = self.rate.retry_after
            if self.rate.html:
                return Response(429, HTML_429, "text/html;charset=UTF-8", headers)
            return Response(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, headers=headers)
        if route is None:
            return Response(404, {"errorMessages": [f"null for uri: {self.url}{req.path}"], "errors": {}})
        assert self.api is not None
        try:
            return getattr(self.api, route[1])(req)
        except ApiError as exc:
            return Response(exc.status, exc.body(), headers=exc.headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse by the client is observable
    server_version = "JiraTestServer/1.0"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle + delayed ACK add 40 ms to each.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        jira: JiraServer = self.server.jira  # type: ignore[attr-defined]
        with jira.lock:
            jira.connections += 1

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass

    def _serve(self) -> None:
        jira: JiraServer = self.server.jira  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        ex = jira.handle(self.command, self.path, headers, body)
        try:
            self.send_response(ex.status)
            for name, value in ex.response_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(ex.response_body)))
            self.end_headers()
            if ex.response_body:
                self.wfile.write(ex.response_body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timed out) before the answer came

    do_GET = do_POST = do_PUT = do_DELETE = _serve
