"""Pytest fixtures starting JiraServer instances; import them into a conftest.py to use them elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .server import JiraServer

__all__ = ["jira_server_factory", "jira_server", "cloud_jira", "dc_jira"]


@pytest.fixture
def jira_server_factory() -> Iterator[Callable[..., JiraServer]]:
    """`make(flavor, **options)` starts a server on 127.0.0.1; all are stopped after the test."""
    started: list[JiraServer] = []

    def make(flavor: str = "cloud", **options: Any) -> JiraServer:
        server = JiraServer(flavor, **options).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(params=["cloud", "dc"])
def jira_server(request: pytest.FixtureRequest, jira_server_factory: Callable[..., JiraServer]) -> JiraServer:
    """One server per flavour: tests using it run twice."""
    return jira_server_factory(request.param)


@pytest.fixture
def cloud_jira(jira_server_factory: Callable[..., JiraServer]) -> JiraServer:
    return jira_server_factory("cloud")


@pytest.fixture
def dc_jira(jira_server_factory: Callable[..., JiraServer]) -> JiraServer:
    return jira_server_factory("dc")
