"""The local connector: an issue tracker kept in a folder, the sync engine's embedded default."""

from .tracker import TRACKER_FILE, LocalTracker

__all__ = ["LocalTracker", "TRACKER_FILE"]
