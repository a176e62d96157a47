"""Solidity sources (``src/``), their pinned build (``build.py``) and committed artifacts."""
