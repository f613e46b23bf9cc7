"""EgressGuard: find and stop leaks of shop data into AI services."""

__version__ = "0.1.0"
__all__ = ["__version__"]
