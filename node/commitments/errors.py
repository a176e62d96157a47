"""The commitments package's exception root and its stable codes."""

from __future__ import annotations

from node.errors import TanlianError


class CommitmentError(TanlianError):
    code = "commitment_error"
    http_status = 400


class InvalidCommitment(CommitmentError):
    """Bytes that are not an encoded point of BN254's G1, or not a whole number of them."""

    code = "commitment_invalid"


class InvalidValue(CommitmentError):
    """A value or total outside what can be committed (an integer in [0, 2^64))."""

    code = "invalid_input"
