"""Pedersen commitments to published values, and totals checked against them on chain."""
