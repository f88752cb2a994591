"""The engine's connector factory for a connection: connectors that fetch attachment bytes from the other side."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from runtime.changes import AddItem, ChangeSet
from runtime.config import ConnectionConfig, InstanceConfig
from runtime.connector import Applied, Connector, PermanentError

from ._connectors import build_connector

__all__ = ["connection_factory", "attachment_reader"]

Reader = Callable[[Mapping[str, Any]], bytes]


def attachment_reader(connector: Any, instance: str) -> Reader:
    """How to read the bytes of one of `connector`'s attachments, given its neutral value with `id`.

    A replica carries attachment metadata only (a replica from another organisation must never make
    this node fetch arbitrary URLs), so on one node the target asks the source's own connector.
    """
    download = getattr(connector, "download_attachment", None)
    if callable(download):
        return lambda value: download({"id": value.get("id"), "filename": value.get("filename")})
    locate = getattr(connector, "attachment_path", None)
    if callable(locate):
        def read_local(value: Mapping[str, Any]) -> bytes:
            path = locate(str(value.get("id")))
            if path is None:
                raise PermanentError(f"attachment '{value.get('filename')}' ({instance} id {value.get('id')}) has "
                                     "no content in the local tracker (metadata only)")
            try:
                return path.read_bytes()
            except OSError as e:
                raise PermanentError(f"cannot read attachment '{value.get('filename')}' of {instance}: "
                                     f"{e.strerror or e}") from None
        return read_local

    def unsupported(value: Mapping[str, Any]) -> bytes:
        raise PermanentError(f"the {instance} connector cannot hand out attachment content")
    return unsupported


class _BytesForLocal:
    """A local tracker that stores the content of attachments another tracker sends (by fetching it);
    everything else goes straight to the tracker."""

    def __init__(self, tracker: Any, read: Reader) -> None:
        self._tracker, self._read = tracker, read

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tracker, name)

    def search(self, query: str | None = None, updated_since: str | None = None) -> Iterator[dict]:
        return self._tracker.search(query, updated_since)  # type: ignore[no-any-return]

    def get_issue(self, key: str) -> dict | None:
        return self._tracker.get_issue(key)  # type: ignore[no-any-return]

    def find_by_marker(self, marker: str) -> str | None:
        return self._tracker.find_by_marker(marker)  # type: ignore[no-any-return]

    def lookup_user(self, email: str) -> dict | None:
        return self._tracker.lookup_user(email)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._tracker.close()

    def apply(self, key: str | None, changes: ChangeSet, *, marker: str | None = None) -> Applied:
        ops = tuple(
            replace(op, value={**op.value, "content": self._read({**op.value, "id": op.remote_id})})
            if isinstance(op, AddItem) and op.kind == "attachments"
            and "content" not in op.value and "content_base64" not in op.value else op
            for op in changes.operations)
        return self._tracker.apply(key, ChangeSet(changes.create, ops), marker=marker)  # type: ignore[no-any-return]


def connection_factory(config: ConnectionConfig,
                       build: Callable[[InstanceConfig], Connector] = build_connector
                       ) -> Callable[[InstanceConfig], Connector]:
    """A connector factory for the engine: `build` per instance, plus attachment transfer between the two.

    A Jira target gets the other side's reader as its `attachment_source`; a local target facing another
    kind of tracker is wrapped so it stores the bytes too (two local trackers keep copying metadata only).
    """
    built: dict[str, Connector] = {}

    def from_other(name: str) -> Reader:
        other = config.other(name)

        def read(value: Mapping[str, Any]) -> bytes:
            if other not in built:
                raise PermanentError(f"attachment content from {other}: its connector is not open")
            return attachment_reader(built[other], other)(value)
        return read

    def factory(instance: InstanceConfig) -> Connector:
        connector = build(instance)
        built[instance.name] = connector
        kinds = {i.connector for i in config.instances.values()}
        if hasattr(connector, "attachment_source"):
            if getattr(connector, "attachment_source", None) is None:
                connector.attachment_source = from_other(instance.name)  # type: ignore[attr-defined]
        elif instance.connector == "local" and kinds != {"local"}:
            return _BytesForLocal(connector, from_other(instance.name))  # type: ignore[return-value]
        return connector

    return factory
