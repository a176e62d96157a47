"""The pilot scenario run by ``make demo`` (Chengdu, embedded chain)."""
