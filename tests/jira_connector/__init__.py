"""Tests of the Jira connector (client, connector) and of the Jira-compatible test server."""
