"""Unit tests of the Jira HTTP client's error paths, over httpx.MockTransport (no sockets)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable

import httpx
import pytest

from connectors.jira.client import JiraAuth, JiraClient, JiraError, RetryPolicy, auth_from_env
from rulelang.errors import ConfigError
from runtime.connector import PermanentError, TransientError

SECRET = "s3cr3t-token-value"
POLICY = RetryPolicy(attempts=4, base=0.01, cap=0.05, max_retry_after=30)


def make(handler: Callable[[httpx.Request], httpx.Response], *, flavor: str = "cloud",
         policy: RetryPolicy = POLICY) -> tuple[JiraClient, list[float], list[httpx.Request]]:
    seen: list[httpx.Request] = []
    sleeps: list[float] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    auth = JiraAuth(token=SECRET, email="bot@example.com" if flavor == "cloud" else None)
    client = JiraClient("https://jira.example.net", flavor=flavor, auth=auth,
                        http_client=httpx.Client(transport=httpx.MockTransport(record)), retry=policy,
                        sleep=sleeps.append, rand=lambda: 0.5, credential_hint="JIRA_EMAIL and JIRA_TOKEN")
    return client, sleeps, seen


def script(*answers: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


OK = httpx.Response(200, json={"ok": True})


def test_cloud_sends_basic_auth_and_dc_bearer():
    client, _, seen = make(script(OK))
    client.get("/myself")
    assert seen[0].headers["Authorization"] == "Basic " + base64.b64encode(
        f"bot@example.com:{SECRET}".encode()).decode()
    assert seen[0].url.path == "/rest/api/3/myself"
    client, _, seen = make(script(OK), flavor="dc")
    client.get("/myself")
    assert seen[0].headers["Authorization"] == f"Bearer {SECRET}"
    assert seen[0].url.path == "/rest/api/2/myself"


def test_429_honours_retry_after():
    client, sleeps, seen = make(script(httpx.Response(429, headers={"Retry-After": "2"}), OK))
    assert client.get("/field") == {"ok": True}
    assert sleeps == [2.0] and len(seen) == 2


def test_429_without_retry_after_backs_off_exponentially_with_jitter():
    client, sleeps, _ = make(script(httpx.Response(429), httpx.Response(429), httpx.Response(429), OK))
    assert client.get("/field") == {"ok": True}
    assert sleeps == [0.005, 0.01, 0.02]  # base * 2**n * jitter(0.5)


def test_429_with_html_body_from_a_proxy_is_retried():
    html = httpx.Response(429, headers={"Content-Type": "text/html", "Retry-After": "1"},
                          content=b"<html><body>Too Many Requests</body></html>")
    client, sleeps, _ = make(script(html, OK), flavor="dc")
    assert client.get("/search") == {"ok": True}
    assert sleeps == [1.0]


def test_429_storm_gives_up_with_transient_error_carrying_retry_after():
    client, sleeps, seen = make(script(httpx.Response(429, headers={"Retry-After": "3"})))
    with pytest.raises(TransientError) as err:
        client.get("/field")
    assert len(seen) == POLICY.attempts and err.value.retry_after == 3.0
    assert "gave up after 4 attempts" in str(err.value)


def test_long_retry_after_is_not_slept_through():
    client, sleeps, seen = make(script(httpx.Response(429, headers={"Retry-After": "120"})))
    with pytest.raises(TransientError) as err:
        client.get("/field")
    assert err.value.retry_after == 120.0 and sleeps == [] and len(seen) == 1


def test_5xx_then_success():
    client, sleeps, seen = make(script(httpx.Response(500), httpx.Response(502), OK))
    assert client.get("/issue/DEV-1") == {"ok": True}
    assert len(seen) == 3 and sleeps == [0.005, 0.01]


def test_timeout_is_retried_then_reported():
    client, _, seen = make(script(httpx.ReadTimeout("slow"), OK))
    assert client.get("/issue/DEV-1") == {"ok": True}
    client, _, seen = make(script(httpx.ReadTimeout("slow")))
    with pytest.raises(TransientError, match=r"GET /issue/DEV-1 timed out \(ReadTimeout\)"):
        client.get("/issue/DEV-1")
    assert len(seen) == POLICY.attempts


def test_post_is_resent_only_when_jira_surely_did_not_apply_it():
    client, _, seen = make(script(httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(429),
                                  httpx.Response(201, json={"id": "1"})))
    assert client.post("/issue/DEV-1/comment", {"body": "x"}) == {"id": "1"}
    assert len(seen) == 4
    client, _, seen = make(script(httpx.Response(502), OK))
    with pytest.raises(TransientError, match="not resent because Jira may have applied it"):
        client.post("/issue/DEV-1/comment", {"body": "x"})
    assert len(seen) == 1


def test_ambiguous_post_failure_asks_recover_before_resending():
    client, _, seen = make(script(httpx.ReadTimeout("lost answer"), httpx.Response(201, json={"id": "2"})))
    assert client.post("/issue", {}, recover=lambda: {"key": "DEV-9"}) == {"key": "DEV-9"}
    assert len(seen) == 1  # found: no second POST
    client, _, seen = make(script(httpx.Response(504), httpx.Response(201, json={"id": "2"})))
    assert client.post("/issue", {}, recover=lambda: None) == {"id": "2"}
    assert len(seen) == 2  # recover saw nothing: resent


def test_400_names_the_field_with_its_name():
    body = {"errorMessages": ["Field 'priority' is required"],
            "errors": {"customfield_10016": "Operation value must be a number"}}
    client, _, seen = make(script(httpx.Response(400, json=body)))
    client.field_label = lambda fid: "customfield_10016 (Story Points)" if fid == "customfield_10016" else fid
    with pytest.raises(JiraError) as err:
        client.put("/issue/DEV-1", {"fields": {}})
    text = str(err.value)
    assert "customfield_10016 (Story Points): Operation value must be a number" in text
    assert "Field 'priority' is required" in text and "PUT /issue/DEV-1" in text
    assert isinstance(err.value, PermanentError) and err.value.errors == body["errors"]
    assert len(seen) == 1  # a 400 is never retried


def test_401_names_the_variables_never_the_secret(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    client, _, seen = make(script(httpx.Response(401, json={"errorMessages": ["no"]})))
    with pytest.raises(PermanentError) as err:
        client.get("/myself")
    assert "401" in str(err.value) and "JIRA_EMAIL and JIRA_TOKEN" in str(err.value)
    assert SECRET not in str(err.value) and SECRET not in caplog.text
    assert SECRET not in repr(client._auth) and len(seen) == 1


def test_403_and_xsrf():
    client, _, _ = make(script(httpx.Response(403, json={"errorMessages": ["You do not have permission"]})))
    with pytest.raises(PermanentError, match=r"denied PUT /issue/DEV-1 \(403\): You do not have permission"):
        client.put("/issue/DEV-1", {})
    client, _, _ = make(script(httpx.Response(403, text="XSRF check failed")))
    with pytest.raises(PermanentError, match="X-Atlassian-Token"):
        client.post("/issue/DEV-1/attachments", files={"file": ("a", b"x")})


def test_404_is_permanent_unless_allowed():
    missing = httpx.Response(404, json={"errorMessages": ["Issue does not exist or you do not have permission."]})
    client, _, _ = make(script(missing))
    with pytest.raises(PermanentError, match=r"GET /issue/DEV-404: not found \(404\): Issue does not exist"):
        client.get("/issue/DEV-404")
    assert client.get("/issue/DEV-404", allow=(404,)) is None


def test_malformed_json_is_a_clear_error():
    truncated = httpx.Response(200, headers={"Content-Type": "application/json"}, content=b'{"issues": [')
    client, _, _ = make(script(truncated))
    with pytest.raises(TransientError, match=r"POST /search/jql answered 200 with malformed JSON \(12 bytes"):
        client.post("/search/jql", {"jql": "x"}, idempotent=True)
    login = httpx.Response(200, headers={"Content-Type": "text/html"}, content=b"<html>Log in</html>")
    client, _, _ = make(script(login))
    with pytest.raises(PermanentError, match="text/html instead of JSON.*is the site URL right"):
        client.get("/field")


def test_redirect_is_refused_not_followed():
    client, _, seen = make(script(httpx.Response(302, headers={"Location": "https://id.example.net/login"})))
    with pytest.raises(PermanentError, match="redirected .*id.example.net/login"):
        client.get("/myself")
    assert len(seen) == 1


def test_download_enforces_size_limit_and_origin():
    client, _, _ = make(script(httpx.Response(200, content=b"x" * 100)))
    assert client.download("https://jira.example.net/secure/attachment/1/a.txt", limit=100) == b"x" * 100
    with pytest.raises(PermanentError, match="larger than the 10 byte limit"):
        client.download("https://jira.example.net/secure/attachment/1/a.txt", limit=10)
    with pytest.raises(PermanentError, match="not this Jira site"):
        client.download("https://evil.example.com/a.txt", limit=100)


def test_auth_from_env_names_missing_variables_only():
    with pytest.raises(ConfigError, match="environment variable DEV_TOKEN .* is not set"):
        auth_from_env("cloud", {"email_env": "DEV_EMAIL", "token_env": "DEV_TOKEN"}, {"DEV_EMAIL": "a@b"})
    with pytest.raises(ConfigError, match="needs token_env"):
        auth_from_env("dc", {}, {})
    auth, hint = auth_from_env("dc", {"token_env": "DEV_PAT"}, {"DEV_PAT": SECRET})
    assert hint == "DEV_PAT" and SECRET not in repr(auth)
