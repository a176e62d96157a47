"""Data quality of published tables: a CSV checked against its declared Frictionless Table
Schema before it is encrypted, and re-checked on the owner's review cycle
(:mod:`node.quality.tabular`)."""
