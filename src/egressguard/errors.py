"""One exception tree for the whole package.

    EgressGuardError
     +-- ConfigError          a configuration file or command-line value is invalid
     +-- CatalogError         a packaged or user data file (providers, secret rules, rules)
     |                        is invalid; the message starts with the entry id
     +-- SourceError          a scan root cannot be walked at all (not found, not a directory)
     +-- BaselineError        a baseline file cannot be read or has an unknown version
     +-- GitError             `--diff REV` could not ask git for the changed files
     +-- ReportError          a report could not be rendered
     +-- CrawlError           `crawl` could not run at all (no Chromium, browser would not start)
     +-- EvidenceInputError   a HAR, proxy/web-server log or JSON report given to `har`, `logs` or
                              `merge` cannot be read at all (missing, binary, too large, not that
                              format); one unreadable entry or line is a skipped value instead
     +-- BundleError          an evidence bundle or its signing key cannot be written or read
     |                        (a tampered bundle is a Verdict with problems, not an error)
     +-- HistoryError         the scan history cannot be opened or written
     +-- LocalModelError      the bundled local model cannot be served (extra not installed,
     |                        model file missing or corrupt, server would not start)
     +-- GatewayError         the gateway: configuration, vault, audit chain, upstream
          +-- GatewayConfigError   gateway.toml is invalid
          +-- VaultError           the token vault cannot be read, written or decrypted
          +-- ChainError           the audit chain cannot be appended to or read
          +-- UpstreamError        an upstream failed (timeout, refused, broken stream)
               +-- UpstreamTimeout
               +-- UpstreamUnavailable

A problem with one input file is never an exception: it becomes a SkippedTarget value.
Only the CLI turns these exceptions into messages and exit codes.
"""

from __future__ import annotations


class EgressGuardError(Exception):
    """Base of every error EgressGuard raises on purpose."""


class ConfigError(EgressGuardError):
    """A configuration file or command-line value is invalid."""


class CatalogError(EgressGuardError):
    """A data file (provider catalogue, secret rules, rule metadata) is invalid."""


class SourceError(EgressGuardError):
    """A scan root cannot be walked at all."""


class BaselineError(EgressGuardError):
    """A baseline file cannot be read or has an unknown version."""


class GitError(EgressGuardError):
    """git could not list the files changed since a revision."""


class ReportError(EgressGuardError):
    """A report could not be rendered."""


class BundleError(EgressGuardError):
    """An evidence bundle or its signing key cannot be written or read at all."""


class HistoryError(EgressGuardError):
    """The scan history cannot be opened or written."""


class CrawlError(EgressGuardError):
    """The crawl could not run at all; a failing journey step is a recorded outcome instead."""


class EvidenceInputError(EgressGuardError):
    """A HAR, log or JSON report cannot be read at all (one bad entry or line is skipped)."""


class LocalModelError(EgressGuardError):
    """The local model server cannot run (extra missing, model file missing or corrupt)."""


class GatewayError(EgressGuardError):
    """Base of the gateway's errors."""


class GatewayConfigError(GatewayError, ConfigError):
    """gateway.toml is invalid."""


class VaultError(GatewayError):
    """The token vault cannot be read, written or decrypted."""


class ChainError(GatewayError):
    """The audit chain cannot be appended to or read."""


class UpstreamError(GatewayError):
    """An upstream failed."""


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer in time (-> 504)."""


class UpstreamUnavailable(UpstreamError):
    """The upstream refused, reset or broke the connection (-> 502)."""
