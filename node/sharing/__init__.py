"""Encrypted data sharing: catalog and access contracts, publishing, release and pulling."""
