import pytest

from moderation import prechecks


@pytest.fixture(autouse=True)
def _fresh_matcher_cache():
    prechecks.clear_cache()
    yield
    prechecks.clear_cache()
