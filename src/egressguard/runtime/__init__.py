"""Runtime evidence: what a live storefront (or a HAR, or a proxy log) actually sent.

Sources (the crawler in `crawl/`, `har.py`, `logs.py`) produce a `Traffic` value; the
analysis (`analyse.py`) turns it into the same `ScanResult` model that `egressguard audit`
produces, so every reporter works unchanged.
"""
