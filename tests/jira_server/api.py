"""The test server's REST endpoints: one method per Jira route, answering Cloud (v3) or Data Center (v2)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from .model import ApiError
from .render import Renderer, jira_time
from .routes import Request, Response, multipart
from .state import JiraState

__all__ = ["Api"]


_SEARCH_JQL_KEYS = {"jql", "nextPageToken", "maxResults", "fields", "expand", "properties", "fieldsByKeys",
                    "reconcileIssues"}


class Api:
    """Endpoint handlers. `page_cap` bounds every page, as Jira does whatever maxResults asks for."""

    def __init__(self, state: JiraState, render: Renderer, *, page_cap: int, hide_emails: bool) -> None:
        self.st, self.r, self.page_cap, self.hide_emails = state, render, page_cap, hide_emails

    @property
    def cloud(self) -> bool:
        return self.st.flavor == "cloud"

    def fields(self, req: Request) -> Response:
        return Response(200, self.r.fields_catalogue())

    def myself(self, req: Request) -> Response:
        assert req.user is not None
        return Response(200, {**self.r.user(req.user, req.user), "locale": "en_US"})

    def server_info(self, req: Request) -> Response:
        version = "1001.0.0-SNAPSHOT" if self.cloud else "9.12.15"
        return Response(200, {"baseUrl": self.r.base, "version": version,
                              "versionNumbers": [1001, 0, 0] if self.cloud else [9, 12, 15],
                              "deploymentType": "Cloud" if self.cloud else "Server", "buildNumber": 100256,
                              "buildDate": "2024-01-01T00:00:00.000+0000", "scmInfo": "57a0ca5b",
                              "serverTime": jira_time(self.st.now(), "UTC"), "serverTitle": "Jira"})

    # ---- search
    def _page(self, found: list, req: Request, start: int, limit: int, fields: list[str],
              expand: str, props: list[str]) -> list[dict]:
        assert req.user is not None
        chosen = self.r.select_fields(fields, "id" if self.cloud and req.path.endswith("/jql") else "*navigable")
        expand_set = {e.strip() for e in expand.split(",") if e.strip()}
        issues = []
        for issue in found[start:start + limit]:
            doc = self.r.issue(issue, req.user, fields=chosen, expand=expand_set - {"names"}, properties=props)
            if chosen == ["id"] or not chosen:
                doc = {"id": doc["id"]}
            issues.append(doc)
        return issues

    def search_jql(self, req: Request) -> Response:
        if req.method == "POST":
            body = req.json()
            if not isinstance(body, dict):
                raise ApiError(400, "The request body must be a JSON object.")
            unknown = sorted(set(body) - _SEARCH_JQL_KEYS)
            if unknown:
                raise ApiError(400, f"Unrecognized field \"{unknown[0]}\".")
        else:
            body = {"jql": req.arg("jql"), "nextPageToken": req.arg("nextPageToken"),
                    "maxResults": req.arg("maxResults"), "fields": req.args("fields"),
                    "expand": req.arg("expand", ""), "properties": req.args("properties"),
                    "reconcileIssues": [int(x) for x in req.args("reconcileIssues")]}
        jql = body.get("jql") or ""
        offset = 0
        if body.get("nextPageToken"):
            try:
                token = json.loads(base64.urlsafe_b64decode(body["nextPageToken"]))
                if token["jql"] != jql:
                    raise ValueError
                offset = int(token["offset"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(400, "The provided next page token is invalid or expired.") from None
        limit = min(int(body.get("maxResults") or 50), self.page_cap)
        assert req.user is not None
        found = self.st.search(jql, req.user, require_bound=True, fresh=set(body.get("reconcileIssues") or []))
        issues = self._page(found, req, offset, limit, body.get("fields") or ["id"],
                            body.get("expand") or "", body.get("properties") or [])
        out: dict[str, Any] = {"issues": issues, "isLast": offset + limit >= len(found)}
        if not out["isLast"]:
            out["nextPageToken"] = base64.urlsafe_b64encode(
                json.dumps({"jql": jql, "offset": offset + limit}).encode()).decode()
        if "names" in (body.get("expand") or ""):
            out["names"] = {f: self.r.field_name(f) for f in self.r.select_fields(body.get("fields"), "id")}
        return Response(200, out)

    def search_paged(self, req: Request) -> Response:
        if self.cloud:
            raise ApiError(410, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                                "API. A full migration guideline is available at "
                                "https://developer.atlassian.com/changelog/#CHANGE-2046")
        body = req.json() if req.method == "POST" else {
            "jql": req.arg("jql"), "startAt": req.arg("startAt"), "maxResults": req.arg("maxResults"),
            "fields": req.args("fields") or None, "expand": req.arg("expand", ""),
            "properties": req.args("properties")}
        start = int(body.get("startAt") or 0)
        limit = min(int(body.get("maxResults") or 50), self.page_cap)
        assert req.user is not None
        found = self.st.search(body.get("jql") or "", req.user, require_bound=False)
        issues = self._page(found, req, start, limit, body.get("fields") or ["*navigable"],
                            body.get("expand") or "", body.get("properties") or [])
        return Response(200, {"expand": "names,schema", "startAt": start, "maxResults": limit,
                              "total": len(found), "issues": issues})

    # ---- issues
    def create_issue(self, req: Request) -> Response:
        assert req.user is not None
        body = req.json()
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        issue = self.st.create_issue(body, req.user)
        return Response(201, {"id": str(issue.id), "key": issue.key, "self": f"{self.r.api}/issue/{issue.id}"})

    def get_issue(self, req: Request) -> Response:
        assert req.user is not None
        issue = self.st.issue(req.params["key"])
        fields = self.r.select_fields(req.args("fields") or None, "*all")
        expand = set(req.args("expand"))
        return Response(200, self.r.issue(issue, req.user, fields=fields, expand=expand,
                                          properties=req.args("properties")))

    def edit_issue(self, req: Request) -> Response:
        assert req.user is not None
        issue = self.st.issue(req.params["key"])
        body = req.json()
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        self.st.edit_issue(issue, body, req.user)
        if req.arg("returnIssue") == "true":
            return Response(200, self.r.issue(issue, req.user, fields=self.r.select_fields(None, "*all")))
        return Response(204)

    def delete_issue(self, req: Request) -> Response:
        issue = self.st.issue(req.params["key"])
        del self.st.issues[issue.key]
        del self.st.by_id[issue.id]
        return Response(204)

    def get_transitions(self, req: Request) -> Response:
        issue = self.st.issue(req.params["key"])
        return Response(200, {"expand": "transitions", "transitions": self.r.transitions(issue)})

    def do_transition(self, req: Request) -> Response:
        assert req.user is not None
        self.st.do_transition(self.st.issue(req.params["key"]), req.json() or {}, req.user)
        return Response(204)

    # ---- comments
    def get_comments(self, req: Request) -> Response:
        assert req.user is not None
        issue = self.st.issue(req.params["key"])
        start = int(req.arg("startAt") or 0)
        limit = min(int(req.arg("maxResults") or 5000), 5000)
        return Response(200, self.r.comments_page(issue, req.user, start, limit,
                                                  properties="properties" in req.args("expand")))

    def add_comment(self, req: Request) -> Response:
        assert req.user is not None
        issue = self.st.issue(req.params["key"])
        comment = self.st.add_comment(issue, req.json() or {}, req.user)
        return Response(201, self.r.comment(comment, issue, req.user))

    def get_comment(self, req: Request) -> Response:
        assert req.user is not None
        issue = self.st.issue(req.params["key"])
        comment = self.st.comment(issue, req.params["cid"])
        return Response(200, self.r.comment(comment, issue, req.user,
                                            properties="properties" in req.args("expand")))

    def update_comment(self, req: Request) -> Response:
        assert req.user is not None
        issue = self.st.issue(req.params["key"])
        comment = self.st.update_comment(issue, req.params["cid"], req.json() or {}, req.user)
        return Response(200, self.r.comment(comment, issue, req.user))

    def delete_comment(self, req: Request) -> Response:
        self.st.delete_comment(self.st.issue(req.params["key"]), req.params["cid"])
        return Response(204)

    def _comment_anywhere(self, cid: str):
        for issue in self.st.issues.values():
            for c in issue.comments:
                if str(c.id) == cid:
                    return issue, c
        raise ApiError(404, f"Can not find a comment for the id: {cid}.")

    def get_comment_property(self, req: Request) -> Response:
        _, comment = self._comment_anywhere(req.params["cid"])
        prop = req.params["prop"]
        if prop not in comment.properties:
            raise ApiError(404, f"The property with key '{prop}' does not exist.")
        return Response(200, {"key": prop, "value": comment.properties[prop]})

    def put_comment_property(self, req: Request) -> Response:
        issue, comment = self._comment_anywhere(req.params["cid"])
        existed = req.params["prop"] in comment.properties
        comment.properties[req.params["prop"]] = self._property_value(req)
        self.st.touch(issue, bump=False)
        return Response(200 if existed else 201)

    # ---- attachments
    def add_attachments(self, req: Request) -> Response:
        assert req.user is not None
        if req.headers.get("x-atlassian-token", "").lower() != "no-check":
            return Response(403, b"XSRF check failed", "text/plain;charset=UTF-8")
        issue = self.st.issue(req.params["key"])
        ctype = req.headers.get("content-type", "")
        boundary = re.search(r'boundary="?([^";]+)"?', ctype)
        if not ctype.startswith("multipart/form-data") or not boundary:
            raise ApiError(415, "The request must be multipart/form-data.")
        files = [p for p in multipart(req.body, boundary.group(1).encode()) if p[0] == "file"]
        if not files:
            raise ApiError(400, "No files were provided in the 'file' part of the request.")
        for _, filename, _, data in files:
            if len(data) > self.st.attachment_limit:
                raise ApiError(413, f"The file '{filename}' is too large: the limit is "
                                    f"{self.st.attachment_limit} bytes.")
        made = [self.st.add_attachment(issue, fn or "attachment", mime, data, req.user)
                for _, fn, mime, data in files]
        return Response(200, [self.r.attachment(a, req.user) for a in made])

    def get_attachment(self, req: Request) -> Response:
        assert req.user is not None
        att = self.st.attachments.get(int(req.params["aid"])) if req.params["aid"].isdigit() else None
        if att is None:
            raise ApiError(404, f"The attachment with id '{req.params['aid']}' does not exist.")
        return Response(200, self.r.attachment(att, req.user))

    def delete_attachment(self, req: Request) -> Response:
        self.st.delete_attachment(req.params["aid"])
        return Response(204)

    def attachment_content(self, req: Request) -> Response:
        att = self.st.attachments.get(int(req.params["aid"])) if req.params["aid"].isdigit() else None
        if att is None:
            raise ApiError(404, f"The attachment with id '{req.params['aid']}' does not exist.")
        return Response(200, att.content, att.mime_type,
                        {"Content-Disposition": f'attachment; filename="{att.filename}"'})

    # ---- properties
    def _property_value(self, req: Request) -> Any:
        if not req.body.strip():
            raise ApiError(400, "The property value must not be empty.")
        if len(req.body) > 32768:
            raise ApiError(400, "The property value is too long: the limit is 32768 bytes.")
        return req.json()

    def property_keys(self, req: Request) -> Response:
        issue = self.st.issue(req.params["key"])
        return Response(200, {"keys": [{"self": f"{self.r.api}/issue/{issue.id}/properties/{k}", "key": k}
                                       for k in issue.properties]})

    def get_property(self, req: Request) -> Response:
        issue, prop = self.st.issue(req.params["key"]), req.params["prop"]
        if prop not in issue.properties:
            raise ApiError(404, f"The property with key '{prop}' does not exist.")
        return Response(200, {"key": prop, "value": issue.properties[prop]})

    def put_property(self, req: Request) -> Response:
        issue, prop = self.st.issue(req.params["key"]), req.params["prop"]
        existed = prop in issue.properties
        issue.properties[prop] = self._property_value(req)
        self.st.touch(issue, bump=False)
        return Response(200 if existed else 201)

    def delete_property(self, req: Request) -> Response:
        issue, prop = self.st.issue(req.params["key"]), req.params["prop"]
        if issue.properties.pop(prop, None) is None:
            raise ApiError(404, f"The property with key '{prop}' does not exist.")
        self.st.touch(issue, bump=False)
        return Response(204)

    # ---- users
    def user_search(self, req: Request) -> Response:
        assert req.user is not None
        param = "query" if self.cloud else "username"
        needle = (req.arg(param) or "").strip().lower()
        if not needle:
            raise ApiError(400, f"The '{param}' query parameter is required.")
        hits = [u for u in self.st.users
                if u.active and (needle in u.email.lower() or u.display_name.lower().startswith(needle)
                                 or (not self.cloud and u.name.lower().startswith(needle)))]
        limit = int(req.arg("maxResults") or 50)
        return Response(200, [self.r.user(u, req.user) for u in hits[:limit]])

    def get_user(self, req: Request) -> Response:
        assert req.user is not None
        want = req.arg("accountId") if self.cloud else req.arg("username")
        for u in self.st.users:
            if want in (u.account_id if self.cloud else u.name,):
                return Response(200, self.r.user(u, req.user))
        raise ApiError(404, f"The user with the identifier '{want}' does not exist.")
