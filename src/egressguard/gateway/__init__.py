"""The sovereign AI gateway (see docs/gateway-architecture.md)."""
