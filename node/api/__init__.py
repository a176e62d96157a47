"""The department node's HTTP API: ``main`` (the app), ``deps`` (authentication and
authorization), ``body`` (bounded bodies), ``schemas`` and ``routes``. Only the node's
serve entry point imports it; the request protocol lives in ``node.peer``."""
