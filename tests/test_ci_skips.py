"""In CI a test skipped for want of a peer is a failure, so a missing PostgreSQL cannot pass."""

from __future__ import annotations

import pytest

ROOT_CONFTEST = "from tests.conftest import pytest_runtest_makereport  # noqa: F401\n"
SKIPPING = (
    "import pytest\n\ndef test_needs_a_peer():\n    pytest.skip('PostgreSQL is not reachable')\n"
)


def test_a_skip_fails_in_ci(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.conftest.IN_CI", True)
    pytester.makeconftest(ROOT_CONFTEST)
    pytester.makepyfile(SKIPPING)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(failed=1)


def test_a_skip_is_a_skip_outside_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tests.conftest.IN_CI", False)
    pytester.makeconftest(ROOT_CONFTEST)
    pytester.makepyfile(SKIPPING)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(skipped=1)
