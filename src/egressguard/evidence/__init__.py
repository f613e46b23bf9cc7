"""Evidence that survives scrutiny: signed bundles of reports and raw results (issue 6).

`signing.py` owns the Ed25519 keys, `bundle.py` the zip with its SHA-256 manifest and
signature. Nothing here prints; the CLI (`egressguard bundle …`) composes and reports.
"""
