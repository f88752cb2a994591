"""Checks recorded exchanges against Atlassian's OpenAPI description (tests/fixtures/jira-openapi)."""

from __future__ import annotations

import functools
import json
import pathlib
import re
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.jira_server import Exchange

__all__ = ["SPEC_PATH", "spec", "operation_for", "problems"]

SPEC_PATH = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "jira-openapi" / "swagger-v3.v3.json"
_URI = "urn:jira-openapi"


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` in JSON Schema terms."""
    if isinstance(node, dict):
        out = {k: _nullable(v) for k, v in node.items()}
        if out.pop("nullable", False) and "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        return out
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


@functools.cache
def spec() -> dict:
    return _nullable(json.loads(SPEC_PATH.read_text(encoding="utf-8")))


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(_URI, Resource.from_contents(spec(), default_specification=DRAFT7))


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in spec()["paths"]:
        rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        out.append((re.compile(rx), template))
    # literal segments beat parameters: /attachment/content/{id} before /attachment/{id}/...
    out.sort(key=lambda p: -p[1].count("/") * 100 + p[1].count("{"))
    return out


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def operation_for(ex: Exchange) -> tuple[str, str] | None:
    """(spec path template, method) for an exchange; DC's v2 paths are checked against the v3 description."""
    path = re.sub(r"^/rest/api/2/", "/rest/api/3/", ex.path)
    path = re.sub(r"^/secure/attachment/(\d+)/.*$", r"/rest/api/3/attachment/content/\1", path)
    for rx, template in _templates():
        if rx.match(path) and ex.method.lower() in spec()["paths"][template]:
            return template, ex.method.lower()
    return None


def _validate(instance: Any, *pointer: str) -> list[str]:
    validator = Draft7Validator({"$ref": _URI + _pointer(*pointer)}, registry=_registry())
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
            for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path)))]


def problems(ex: Exchange) -> list[str]:
    """Everything in one exchange that the OpenAPI description does not allow (empty: conforms)."""
    found = operation_for(ex)
    if found is None:
        return [f"{ex.method} {ex.path}: no such operation in the OpenAPI description"]
    template, method = found
    op = spec()["paths"][template][method]
    where = f"{ex.method} {template}"
    out = []
    declared = {p.get("name") for p in op.get("parameters", []) if p.get("in") == "query"}
    out += [f"{where}: query parameter '{q}' is not declared" for q in ex.query if q not in declared]
    body = op.get("requestBody", {}).get("content", {})
    if ex.request_body and "application/json" in body and "schema" in body["application/json"]:
        try:
            instance = ex.request_json()
        except ValueError:
            out.append(f"{where}: request body is not JSON")
        else:
            out += [f"{where} request: {p}" for p in
                    _validate(instance, "paths", template, method, "requestBody", "content", "application/json",
                              "schema")]
    elif ex.request_body and not any(ct.startswith("multipart/") for ct in body):
        out.append(f"{where}: sends a body the operation does not take")
    responses = op.get("responses", {})
    code = str(ex.status) if str(ex.status) in responses else "default"
    if code not in responses:
        out.append(f"{where}: status {ex.status} is not a documented answer ({', '.join(responses)})")
    else:
        content = responses[code].get("content", {})
        if ex.response_body and ex.is_json_response and "application/json" in content \
                and "schema" in content["application/json"]:
            out += [f"{where} response {ex.status}: {p}" for p in
                    _validate(ex.response_json(), "paths", template, method, "responses", code, "content",
                              "application/json", "schema")]
    return out
