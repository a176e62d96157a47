"""Tanlian department node: chain access, registry, privacy store and the HTTP API."""

__version__ = "0.1.0"
