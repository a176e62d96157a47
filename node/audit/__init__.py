"""Regulator audit: anchored access logs, verification of chain and stores, trails, reports."""
