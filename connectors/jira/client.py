"""HTTP for the Jira connector: one reused httpx client, credentials from the environment, retries, Jira's
errors, and the wire formats of JQL literals and Jira timestamps."""

from __future__ import annotations

import base64
import binascii
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from rulelang.errors import ConfigError
from runtime.connector import PermanentError, TransientError

__all__ = ["JiraClient", "JiraAuth", "JiraError", "RetryPolicy", "DEFAULT_TIMEOUT", "auth_from_env", "jql_string",
           "jql_time", "jira_datetime", "attachment_content"]

log = logging.getLogger("rulelang.connectors.jira")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0, pool=10.0)

# Whether a failed attempt may already have been applied by Jira; decides if a POST may be resent blindly.
_SURELY_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries: `attempts` tries per request, exponential backoff with full jitter.

    A Retry-After longer than `max_retry_after` is not slept through: the request fails with a
    TransientError carrying it, so the engine can park the entry instead of blocking a worker.
    """

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 60.0

    def backoff(self, attempt: int, rand: Callable[[], float]) -> float:
        return min(self.cap, self.base * (2 ** attempt)) * rand()


class JiraError(PermanentError):
    """Jira answered a 4xx that retrying cannot fix; `errors` maps field ids to Jira's messages."""

    def __init__(self, message: str, *, status: int, errors: Mapping[str, str] | None = None,
                 error_messages: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors = dict(errors or {})
        self.error_messages = list(error_messages or [])


class JiraAuth(httpx.Auth):
    """Cloud: basic e-mail + API token. Data Center: bearer personal access token. The secret never shows in repr."""

    def __init__(self, *, token: str, email: str | None = None) -> None:
        basic = base64.b64encode(f"{email}:{token}".encode()).decode() if email is not None else ""
        self._header = f"Basic {basic}" if email is not None else f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "JiraAuth(<hidden>)"


def auth_from_env(flavor: str, auth: Mapping[str, str], env: Mapping[str, str]) -> tuple[JiraAuth, str]:
    """Credentials from the environment variables *named* in the config; also a hint naming those variables."""
    needed = ("email_env", "token_env") if flavor == "cloud" else ("token_env",)
    missing = [k for k in needed if not auth.get(k)]
    if missing:
        what = "e-mail and API token" if flavor == "cloud" else "personal access token"
        raise ConfigError(f"Jira {flavor} auth needs {', '.join(missing)}: the name of the environment "
                          f"variable holding the {what}", code="K710")
    values = {}
    for key in needed:
        name = auth[key]
        value = env.get(name, "")
        if not value.strip():
            raise ConfigError(f"environment variable {name} (auth.{key}) is not set or empty", code="K711")
        values[key] = value.strip()
    hint = " and ".join(auth[k] for k in needed)
    return JiraAuth(token=values["token_env"], email=values.get("email_env")), hint


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _jira_messages(resp: httpx.Response) -> tuple[list[str], dict[str, str]]:
    try:
        body = resp.json()
    except ValueError:
        return [], {}
    if not isinstance(body, dict):
        return [], {}
    msgs = [str(m) for m in body.get("errorMessages") or [] if m]
    errs = body.get("errors") if isinstance(body.get("errors"), dict) else {}
    return msgs, {str(k): str(v) for k, v in errs.items()}


class JiraClient:
    """Requests to one Jira site. `request` retries what is safe to retry and turns failures into
    TransientError / PermanentError with messages that name the call and never the credentials."""

    def __init__(self, url: str, *, flavor: str, auth: httpx.Auth, http_client: httpx.Client | None = None,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, rand: Callable[[], float] = random.random,
                 credential_hint: str = "the configured credentials") -> None:
        self.base = url.rstrip("/")
        self.api = f"{self.base}/rest/api/{3 if flavor == 'cloud' else 2}"
        self.flavor = flavor
        self._auth = auth
        self._own = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout, follow_redirects=False,
                                                 headers={"Accept": "application/json",
                                                          "User-Agent": "rulelang-jira/0.1"})
        self.retry = retry or RetryPolicy()
        self._sleep, self._rand = sleep, rand
        self.credential_hint = credential_hint
        self.field_label: Callable[[str], str] = lambda fid: fid
        self.sent: Counter[str] = Counter()  # attempts per "METHOD /path", for request budgets and benchmarks

    def close(self) -> None:
        if self._own:
            self._http.close()

    # ---- the one way out
    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None,
                files: Any = None, headers: Mapping[str, str] | None = None, idempotent: bool | None = None,
                recover: Callable[[], Any] | None = None, allow: tuple[int, ...] = ()) -> Any:
        """Send, retry, decode. Returns the decoded JSON (None for an empty body).

        A status in `allow` returns None instead of raising. A non-idempotent request (POST) is resent
        only when Jira surely did not apply it (429, 503, connection refused); after an ambiguous failure
        (timeout after sending, 500/502/504) `recover()` is asked whether the write landed, and its
        non-None answer is returned; without `recover` the request fails with a TransientError.
        """
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE", "HEAD")
        url = path if path.startswith("http") else self.api + path
        what = f"{method} {urlsplit(url).path.removeprefix(urlsplit(self.api).path) or '/'}"
        last: TransientError | None = None
        for attempt in range(self.retry.attempts):
            if attempt:
                delay = last.retry_after if last and last.retry_after is not None else \
                    self.retry.backoff(attempt - 1, self._rand)
                log.debug("retrying %s in %.3fs (%s)", what, delay, last)
                self._sleep(delay)
            self.sent[what] += 1
            try:
                resp = self._http.request(method, url, params=params, json=json_body, files=files,
                                          headers=dict(headers or {}), auth=self._auth)
            except httpx.TransportError as exc:
                kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
                last = TransientError(f"Jira {what} {kind} ({type(exc).__name__})")
                if not idempotent and not isinstance(exc, _SURELY_UNSENT):
                    found = self._recover(recover, what, last)
                    if found is not None:
                        return found
                continue
            status = resp.status_code
            if status == 429 or status >= 500:
                ra = _retry_after(resp.headers.get("Retry-After")) if status in (429, 503) else None
                label = "rate limited (429)" if status == 429 else f"answered {status}"
                last = TransientError(f"Jira {what} {label}", retry_after=ra)
                if ra is not None and ra > self.retry.max_retry_after:
                    raise last
                if not idempotent and status not in (429, 503):
                    found = self._recover(recover, what, last)
                    if found is not None:
                        return found
                continue
            if status in allow:
                return None
            if 200 <= status < 300:
                return self._decode(resp, what, idempotent, recover)
            raise self._refusal(resp, what)
        assert last is not None
        raise TransientError(f"{last.diagnostic.message}; gave up after {self.retry.attempts} attempts",
                             retry_after=last.retry_after)

    def _recover(self, recover: Callable[[], Any] | None, what: str, failure: TransientError) -> Any:
        if recover is None:
            raise TransientError(f"{failure.diagnostic.message}; not resent because Jira may have applied it",
                                 retry_after=failure.retry_after)
        return recover()

    def _decode(self, resp: httpx.Response, what: str, idempotent: bool, recover: Callable[[], Any] | None) -> Any:
        if not resp.content:
            return None
        ctype = resp.headers.get("Content-Type", "")
        try:
            return resp.json()
        except ValueError:
            pass
        snippet = resp.text[:80].replace("\n", " ")
        if "json" in ctype:
            # Truncated or garbled JSON: a proxy or a dropped connection; the write (if any) may have landed.
            if not idempotent and recover is not None:
                found = recover()
                if found is not None:
                    return found
            raise TransientError(f"Jira {what} answered {resp.status_code} with malformed JSON "
                                 f"({len(resp.content)} bytes: {snippet!r})")
        raise PermanentError(f"Jira {what} answered {resp.status_code} with {ctype or 'no content type'} instead "
                             f"of JSON ({len(resp.content)} bytes: {snippet!r}); is the site URL right?")

    def _refusal(self, resp: httpx.Response, what: str) -> JiraError:
        status = resp.status_code
        msgs, errs = _jira_messages(resp)
        detail = "; ".join(
            [f"{self.field_label(k)}: {v}" for k, v in errs.items()] + msgs) or resp.reason_phrase
        if 300 <= status < 400:
            text = (f"Jira {what} was redirected ({status}) to {resp.headers.get('Location', '?')}; "
                    "is the site URL right?")
        elif status == 401:
            text = f"Jira rejected the credentials (401) on {what}; check {self.credential_hint}"
        elif status == 403 and "xsrf" in resp.text[:200].lower():
            text = f"Jira denied {what} (403): XSRF check failed (the X-Atlassian-Token: no-check header is missing)"
        elif status == 403:
            text = f"Jira denied {what} (403): {detail}; the user lacks a permission"
        elif status == 404:
            text = f"Jira {what}: not found (404): {detail}"
        else:
            text = f"Jira refused {what} ({status}): {detail}"
        return JiraError(text, status=status, errors=errs, error_messages=msgs)

    # ---- helpers
    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json_body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("PUT", path, json_body=body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)

    def download(self, url: str, *, limit: int) -> bytes:
        """The bytes behind an attachment content URL on this site, refusing more than `limit` bytes."""
        if urlsplit(url).netloc != urlsplit(self.base).netloc:
            raise PermanentError(f"refusing to download {urlsplit(url).netloc!r}: not this Jira site")
        what = f"GET {urlsplit(url).path}"
        for attempt in range(self.retry.attempts):
            if attempt:
                self._sleep(self.retry.backoff(attempt - 1, self._rand))
            self.sent[what] += 1
            try:
                with self._http.stream("GET", url, auth=self._auth, follow_redirects=True,
                                       headers={"Accept": "*/*"}) as resp:
                    if resp.status_code == 429 or resp.status_code >= 500:
                        continue
                    if resp.status_code >= 300:
                        resp.read()
                        raise self._refusal(resp, what)
                    data = bytearray()
                    for chunk in resp.iter_bytes():
                        data += chunk
                        if len(data) > limit:
                            raise PermanentError(f"attachment at {what} is larger than the {limit} byte limit")
                    return bytes(data)
            except httpx.TransportError:
                continue
        raise TransientError(f"Jira {what} kept failing; gave up after {self.retry.attempts} attempts")


def jql_string(text: str) -> str:
    """A JQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jql_time(iso: str, tz: str) -> str:
    """An ISO-8601 instant as JQL's "yyyy/MM/dd HH:mm" in zone `tz`, floored to the minute (JQL has no
    seconds, so flooring re-reads a few issues rather than missing one)."""
    moment = datetime.fromisoformat(iso.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime("%Y/%m/%d %H:%M")


def jira_datetime(text: Any) -> datetime:
    """A Jira timestamp (2024-01-15T10:30:00.000+0100) as an aware datetime; the epoch when unreadable."""
    try:
        return datetime.fromisoformat(re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", str(text)))
    except ValueError:
        return datetime.fromtimestamp(0, UTC)


def attachment_content(value: Mapping[str, Any], *, limit: int,
                       source: Callable[[dict], bytes] | None) -> bytes:
    """The bytes to upload for a change set attachment value: its base64 `content`, else what `source`
    fetches for it; refused over `limit` bytes (checked on the declared size first, then the real one)."""
    name = value.get("filename") or "attachment"
    if isinstance(value.get("size"), int) and value["size"] > limit:
        raise PermanentError(f"attachment '{name}' is {value['size']} bytes, over the {limit} byte limit")
    if isinstance(value.get("content"), str):
        try:
            data = base64.b64decode(value["content"], validate=True)
        except (binascii.Error, ValueError):
            raise PermanentError(f"attachment '{name}': content is not base64") from None
    elif source is not None:
        data = source(dict(value))
    else:
        raise PermanentError(f"attachment '{name}' carries no content and no attachment_source is configured")
    if len(data) > limit:
        raise PermanentError(f"attachment '{name}' is {len(data)} bytes, over the {limit} byte limit")
    return data
