"""The test server's routing table, its request and response records, and multipart parsing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .model import ApiError, User

__all__ = ["Request", "Response", "ROUTES", "match_route", "multipart"]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    user: User | None = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, [default])[0]

    def args(self, name: str) -> list[str]:
        return [p for v in self.query.get(name, []) for p in v.split(",") if p]

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise ApiError(400, "Unexpected character: the request body is not valid JSON.") from None


@dataclass
class Response:
    status: int
    body: Any = None  # JSON value, or bytes with `content_type`
    content_type: str = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.status == 204 or self.body is None:
            return b""
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()


# (method, template under /rest/api/N, handler, flavours); "*" marks routes outside /rest/api/N.
ROUTES: list[tuple[str, str, str, str]] = [
    ("GET", "/field", "fields", "cloud dc"),
    ("GET", "/myself", "myself", "cloud dc"),
    ("GET", "/serverInfo", "server_info", "cloud dc"),
    ("POST", "/search/jql", "search_jql", "cloud"),
    ("GET", "/search/jql", "search_jql", "cloud"),
    ("GET", "/search", "search_paged", "cloud dc"),
    ("POST", "/search", "search_paged", "cloud dc"),
    ("POST", "/issue", "create_issue", "cloud dc"),
    ("GET", "/issue/{key}", "get_issue", "cloud dc"),
    ("PUT", "/issue/{key}", "edit_issue", "cloud dc"),
    ("DELETE", "/issue/{key}", "delete_issue", "cloud dc"),
    ("GET", "/issue/{key}/transitions", "get_transitions", "cloud dc"),
    ("POST", "/issue/{key}/transitions", "do_transition", "cloud dc"),
    ("GET", "/issue/{key}/comment", "get_comments", "cloud dc"),
    ("POST", "/issue/{key}/comment", "add_comment", "cloud dc"),
    ("GET", "/issue/{key}/comment/{cid}", "get_comment", "cloud dc"),
    ("PUT", "/issue/{key}/comment/{cid}", "update_comment", "cloud dc"),
    ("DELETE", "/issue/{key}/comment/{cid}", "delete_comment", "cloud dc"),
    ("POST", "/issue/{key}/attachments", "add_attachments", "cloud dc"),
    ("GET", "/issue/{key}/properties", "property_keys", "cloud dc"),
    ("GET", "/issue/{key}/properties/{prop}", "get_property", "cloud dc"),
    ("PUT", "/issue/{key}/properties/{prop}", "put_property", "cloud dc"),
    ("DELETE", "/issue/{key}/properties/{prop}", "delete_property", "cloud dc"),
    ("GET", "/comment/{cid}/properties/{prop}", "get_comment_property", "cloud dc"),
    ("PUT", "/comment/{cid}/properties/{prop}", "put_comment_property", "cloud dc"),
    ("GET", "/attachment/content/{aid}", "attachment_content", "cloud"),
    ("GET", "/attachment/{aid}", "get_attachment", "cloud dc"),
    ("DELETE", "/attachment/{aid}", "delete_attachment", "cloud dc"),
    ("GET", "/user/search", "user_search", "cloud dc"),
    ("GET", "/user", "get_user", "cloud dc"),
    ("GET", "*/secure/attachment/{aid}/{filename}", "attachment_content", "dc"),
]

_COMPILED = [(m, t, h, fl.split(), re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)",
                                                              re.escape(t.lstrip("*"))) + "$"))
             for m, t, h, fl in ROUTES]


def match_route(flavor: str, method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
    """(endpoint label, handler name, path params) for a request path, or None."""
    version = "3" if flavor == "cloud" else "2"
    prefix = f"/rest/api/{version}"
    for m, template, handler, flavors, rx in _COMPILED:
        if m != method or flavor not in flavors:
            continue
        if template.startswith("*"):
            hit = rx.match(path)
        else:
            hit = rx.match(path[len(prefix):]) if path.startswith(prefix + "/") else None
        if hit:
            return f"{method} {template.lstrip('*')}", handler, hit.groupdict()
    return None


def multipart(body: bytes, boundary: bytes) -> list[tuple[str, str | None, str, bytes]]:
    """(field name, filename, content type, data) per part; enough of RFC 7578 for httpx and requests."""
    out = []
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disp = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disp)
        filename = re.search(r'\bfilename="([^"]*)"', disp)
        out.append((name.group(1) if name else "", filename.group(1).replace("%22", '"') if filename else None,
                    headers.get("content-type", "application/octet-stream"), data))
    return out
