"""The connector registry: `connector = "local"` in connection.toml names an entry here (composition layer only)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rulelang.errors import ConfigError
from runtime.changes import AddItem, ChangeSet
from runtime.config import ConnectorSpec, InstanceConfig
from runtime.connector import Connector

if TYPE_CHECKING:
    from connectors.local import LocalTracker

__all__ = ["SPECS", "build_connector", "seed_tracker"]

SPECS: dict[str, ConnectorSpec] = {
    "local": ConnectorSpec("local", required=frozenset({"path"}), optional=frozenset({"project", "workflow", "seed"}),
                           paths=frozenset({"path", "seed"})),
    "jira": ConnectorSpec("jira", required=frozenset({"url", "project", "auth"}),
                          optional=frozenset({"flavor", "custom_fields", "page_size", "max_attachment_bytes",
                                              "hidden_email", "marker_settle", "webhook_secret_env"})),
}


def build_connector(instance: InstanceConfig) -> Connector:
    """A live connector for a checked instance config."""
    settings = instance.settings
    if instance.connector == "local":
        from connectors.local import LocalTracker

        tracker = LocalTracker(settings["path"], project=settings.get("project"), workflow=settings.get("workflow"))
        seed = settings.get("seed")
        if seed is not None and not tracker.list_issues() and not tracker.errors:
            try:
                doc = json.loads(seed.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                tracker.close()
                raise ConfigError(f"instance '{instance.name}': cannot read the seed {seed}: {e}", code="K724") from None
            seed_tracker(tracker, doc)
        return tracker
    if instance.connector == "jira":
        module = importlib.import_module("connectors.jira.connector")
        return module.JiraConnector.from_config(dict(settings))  # type: ignore[no-any-return]
    raise ConfigError(f"instance '{instance.name}': unknown connector '{instance.connector}'", code="K729")


def seed_tracker(tracker: LocalTracker, seed: Mapping[str, Any]) -> int:
    """Fill an empty tracker from a seed document ({users, issues: [{…, comments, attachments}]}); how many issues.

    Issues are created in order, so a sub-task names its parent by the key it will have (QA-3).
    """
    for user in seed.get("users", []):
        tracker.add_user(user["email"], user.get("name"))
    count = 0
    for number, doc in enumerate(seed.get("issues", []), 1):
        fields = {k: v for k, v in doc.items() if k not in ("comments", "attachments")}
        key = tracker.create_issue(fields)
        for comment in doc.get("comments", []):
            tracker.add_comment(key, comment["body"], author=comment.get("author"),
                                internal=bool(comment.get("internal", False)))
        adds = tuple(AddItem("attachments", f"seed-{number}-{i}", dict(a))
                     for i, a in enumerate(doc.get("attachments", []), 1))
        if adds:
            tracker.apply(key, ChangeSet(False, adds))
        count += 1
    return count
