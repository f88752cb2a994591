"""Fixtures for the Jira connector tests: servers of both flavours and connectors with tiny backoff."""

from __future__ import annotations

from typing import Any

from connectors.jira.client import RetryPolicy
from tests.jira_server import JiraServer
from tests.jira_server.fixtures import cloud_jira, dc_jira, jira_server, jira_server_factory

__all__ = ["FAST", "connector_for", "jira_server", "jira_server_factory", "cloud_jira", "dc_jira"]

# Real backoff would make the suite slow; the retry paths are the same with millisecond waits.
FAST = RetryPolicy(attempts=5, base=0.001, cap=0.01, max_retry_after=0.5)


def connector_for(server: JiraServer, **options: Any) -> Any:
    """A JiraConnector on `server` with the bot's credentials passed through an explicit environment."""
    from connectors.jira.connector import JiraConnector

    options.setdefault("retry", FAST)
    options.setdefault("marker_settle", 0.0)
    return JiraConnector(server.url, server.project, flavor=server.flavor, auth=server.auth_config(),
                         env=server.auth_env(), **options)
