import pytest


@pytest.fixture
def eager_celery(monkeypatch):
    """Tasks sent with .delay() run at once, in the test's process."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "CELERY_TASK_ALWAYS_EAGER", True)
    monkeypatch.setitem(app.conf, "CELERY_TASK_EAGER_PROPAGATES", True)
    assert app.conf.task_always_eager
    return app


@pytest.fixture
def run_sweep(eager_celery, django_capture_on_commit_callbacks):
    """The findings sweep as the beat runs it: reconcile, then (after commit) the
    notices and the roll-up."""
    from supervision.services.sweeps import findings_sweep

    def run(now=None, kinds=None):
        with django_capture_on_commit_callbacks(execute=True):
            return findings_sweep(now, kinds=kinds)

    return run
