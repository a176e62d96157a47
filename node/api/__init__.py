"""The department node's HTTP API: app, signed-request auth, and the client library."""
