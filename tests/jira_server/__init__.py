"""A Jira-compatible HTTP server for tests and benchmarks (Cloud REST v3 and Data Center REST v2 flavours)."""

from .faults import Exchange, Fault, RateLimit
from .model import DEFAULT_CUSTOM_FIELDS, DEFAULT_WORKFLOW, CustomField, User, text_to_adf
from .server import JiraServer

__all__ = ["JiraServer", "Fault", "RateLimit", "Exchange", "CustomField", "User", "DEFAULT_CUSTOM_FIELDS",
           "DEFAULT_WORKFLOW", "text_to_adf"]
