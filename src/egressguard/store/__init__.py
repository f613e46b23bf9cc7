"""Append-only, hash-chained audit storage (see docs/gateway-architecture.md)."""
