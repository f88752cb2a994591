"""Fixtures of the sync-over-Jira tests: Jira-compatible servers on 127.0.0.1 (tests/jira_server)."""

from __future__ import annotations

from tests.jira_server.fixtures import cloud_jira, dc_jira, jira_server_factory

__all__ = ["jira_server_factory", "cloud_jira", "dc_jira"]
