import pytest

from moderation import prechecks


@pytest.fixture(autouse=True)
def _fresh_matcher_cache():
    prechecks.clear_cache()
    yield
    prechecks.clear_cache()


@pytest.fixture
def eager_celery(monkeypatch):
    """Tasks sent with .delay() run at once, in the test's process."""
    from config.celery import app

    # The settings use the CELERY_ namespace: those keys win over the plain names.
    monkeypatch.setitem(app.conf, "CELERY_TASK_ALWAYS_EAGER", True)
    monkeypatch.setitem(app.conf, "CELERY_TASK_EAGER_PROPAGATES", True)
    assert app.conf.task_always_eager
    return app


@pytest.fixture
def run_sweep(eager_celery, django_capture_on_commit_callbacks):
    """The repost sweep as the beat runs it: marking, then (after commit) the
    notification task."""
    from moderation.services.directives import reposts_sweep

    def run(now=None):
        with django_capture_on_commit_callbacks(execute=True):
            return reposts_sweep(now)

    return run
