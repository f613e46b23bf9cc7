"""Fixtures for the reporter tests: hand-built scan results (see factory.py)."""

from __future__ import annotations

import pytest

from egressguard.model import ScanResult
from tests.report.factory import build_empty_result, build_result


@pytest.fixture
def result() -> ScanResult:
    return build_result()


@pytest.fixture
def empty_result() -> ScanResult:
    return build_empty_result()
