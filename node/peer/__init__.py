"""The protocol between nodes: signed requests (``signing``), the replay journal
(``nonces``) and the signing client (``client``). Used by the API, sharing, audit, the pilot
and the CLI; it imports nothing from ``node.api``."""
