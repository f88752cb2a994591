"""The language's fixed vocabulary: program kinds and roots, the issue model's fields, built-ins and methods."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "KINDS", "ROOTS", "WRITABLE_ROOTS", "ISSUE_FIELDS", "READ_ONLY_FIELDS", "ITEM_FIELDS", "USER_FIELDS",
    "LIST_OF_TEXT", "ENTITY_LISTS", "Signature", "BUILTINS", "METHODS", "CAMEL_ALIASES",
]

KINDS = ("outgoing", "incoming", "connection")

# Which names a program of each kind may read; connection scripts read `<Instance>.issue` instead.
ROOTS = {
    "outgoing": {"issue", "connection"},
    "incoming": {"replica", "previous", "issue", "first_sync", "connection"},
    "connection": set(),
}
WRITABLE_ROOTS = {"outgoing": {"replica"}, "incoming": {"issue"}, "connection": set()}

# The tracker-neutral issue model (docs/language.md). Value kinds: text, texts (list of text),
# user ({id, email, name}), date, datetime, items (entity list), links, custom (map), any.
ISSUE_FIELDS: dict[str, str] = {
    "key": "text", "project": "text", "type": "text", "summary": "text", "description": "text",
    "status": "text", "priority": "text", "resolution": "text",
    "labels": "texts", "components": "texts", "fix_versions": "texts", "affects_versions": "texts",
    "assignee": "user", "reporter": "user", "due": "date", "created": "datetime", "updated": "datetime",
    "parent": "text", "links": "links", "comments": "items", "attachments": "items", "worklogs": "items",
    "custom": "custom",
}
READ_ONLY_FIELDS = frozenset({"created", "updated"})
LIST_OF_TEXT = frozenset(f for f, k in ISSUE_FIELDS.items() if k == "texts")
ENTITY_LISTS = ("comments", "attachments", "worklogs")
USER_FIELDS = ("id", "email", "name")
ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "comments": ("id", "author", "body", "created", "updated", "internal"),
    "attachments": ("id", "filename", "size", "mime_type", "created", "author", "content"),
    "worklogs": ("id", "author", "started", "seconds", "comment"),
    "links": ("type", "key"),
}

# What people coming from Jira's REST names type, mapped to the model's name.
CAMEL_ALIASES = {
    "fixVersions": "fix_versions", "fixVersion": "fix_versions", "versions": "affects_versions",
    "affectsVersions": "affects_versions", "customFields": "custom", "customfields": "custom",
    "issuetype": "type", "issueType": "type", "duedate": "due", "dueDate": "due", "issuelinks": "links",
    "issueLinks": "links", "comment": "comments", "attachment": "attachments", "worklog": "worklogs",
    "mimeType": "mime_type", "timeSpentSeconds": "seconds", "displayName": "name", "emailAddress": "email",
}


@dataclass(frozen=True)
class Signature:
    """How many arguments a function or method takes, and whether the first is a lambda."""

    min_args: int
    max_args: int
    lambda_arg: bool = False
    doc: str = ""


BUILTINS: dict[str, Signature] = {
    "len": Signature(1, 1, doc="length of a text, list or map"),
    "str": Signature(1, 1, doc="a value as text"),
    "int": Signature(1, 1, doc="text or number → integer (int64)"),
    "float": Signature(1, 1, doc="text or number → number"),
    "now": Signature(0, 0, doc="the run's start time, ISO-8601 UTC"),
    "date": Signature(1, 1, doc="ISO text → ISO date text (YYYY-MM-DD), null if not a date"),
    "join": Signature(1, 2, doc="join(list, sep): the items as one text"),
    "user": Signature(1, 1, doc="a local user {id, email, name} by e-mail, or null"),
    "html_to_markdown": Signature(1, 1, doc="HTML text → Markdown"),
    "markdown_to_html": Signature(1, 1, doc="Markdown text → HTML"),
    "twin": Signature(1, 1, doc="the local key of an already synced issue, or null"),
    "format_date": Signature(2, 2, doc="format_date(d, pattern): yyyy MM dd HH mm ss"),
}

METHODS: dict[str, Signature] = {
    "filter": Signature(1, 1, True, "items for which the lambda is true"),
    "map": Signature(1, 1, True, "the lambda applied to each item"),
    "any": Signature(1, 1, True, "true if the lambda is true for some item"),
    "all": Signature(1, 1, True, "true if the lambda is true for every item"),
    "first": Signature(1, 1, True, "the first item for which the lambda is true, or null"),
    "sort_by": Signature(1, 1, True, "items sorted by the lambda's key (stable)"),
    "unique": Signature(0, 0, doc="items without repeats, first of each kept, in order"),
    "lower": Signature(0, 0, doc="text in lower case"),
    "upper": Signature(0, 0, doc="text in upper case"),
    "trim": Signature(0, 0, doc="text without leading and trailing white space"),
    "replace": Signature(2, 2, doc="replace(old, new): every occurrence replaced"),
    "contains": Signature(1, 1, doc="text contains text, or list contains item"),
    "starts_with": Signature(1, 1, doc="text starts with text"),
    "ends_with": Signature(1, 1, doc="text ends with text"),
    "split": Signature(1, 1, doc="split(sep): a list of texts"),
    "matches": Signature(1, 1, doc="regular expression search (RE2, linear time)"),
}
