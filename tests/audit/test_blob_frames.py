"""The framing of many ciphertexts in one response: read back whatever the chunking, and a
stream that is cut, padded or garbled is refused rather than misread."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.audit.blob_frames import FrameError, FrameReader, error_frame, file_frames


def stream_of(items: list[bytes | None]) -> bytes:
    """What the provider's route sends for ``items`` (None: a version it does not hold),
    read from real files as the route reads them."""
    out = b""
    with tempfile.TemporaryDirectory() as tmp:
        for i, item in enumerate(items):
            if item is None:
                out += error_frame("not_found", "not stored here")
                continue
            path = Path(tmp) / str(i)
            path.write_bytes(item)
            with open(path, "rb") as fh:
                out += b"".join(file_frames(fh, path.name))
    return out


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(st.one_of(st.none(), st.binary(max_size=3000)), max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=10**6), max_size=12),
)
def test_frames_read_back_whatever_the_chunks(items, cuts) -> None:
    data = stream_of(items)
    reader = FrameReader(chunked(data, cuts))
    got: list[bytes | None] = []
    for _ in items:
        found, size = reader.header()
        if found:
            got.append(b"".join(reader.pieces(size)))
        else:
            assert reader.error(size) == ("not_found", "not stored here")
            got.append(None)
    reader.end()
    assert got == items


def test_a_cut_stream_is_refused() -> None:
    data = stream_of([b"x" * 100])
    reader = FrameReader([data[:-1]])
    assert reader.header() == (True, 100)
    size = 100
    with pytest.raises(FrameError, match="ended early"):
        b"".join(reader.pieces(size))
    with pytest.raises(FrameError, match="ended early"):
        FrameReader([data[:5]]).header()


def test_frames_beyond_those_asked_for_are_refused() -> None:
    reader = FrameReader([stream_of([b"a", b"b"])])
    found, size = reader.header()
    assert found and b"".join(reader.pieces(size)) == b"a"
    with pytest.raises(FrameError, match="more frames"):
        reader.end()


@pytest.mark.parametrize(
    "data",
    [b"\x07" + (1).to_bytes(8, "big") + b"x", b"\x01" + (3).to_bytes(8, "big") + b"abc"],
    ids=["unknown-status", "error-without-json"],
)
def test_garbled_frames_are_refused(data: bytes) -> None:
    reader = FrameReader([data])
    with pytest.raises(FrameError):
        _, size = reader.header()
        reader.error(size)


def test_a_file_that_shrinks_while_sent_stops_the_stream(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"abc")
    with open(path, "rb") as fh:
        frames = file_frames(fh, path.name)
        assert next(frames) == b"\x00" + (3).to_bytes(8, "big")  # 3 bytes promised
        path.write_bytes(b"a")  # truncated in place underneath
        assert next(frames) == b"a"
        with pytest.raises(OSError, match="shrank"):
            next(frames)
