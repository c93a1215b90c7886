import pytest


@pytest.fixture
def eager_celery(monkeypatch):
    """Tasks sent with .delay() run at once, in the test's process."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "CELERY_TASK_ALWAYS_EAGER", True)
    monkeypatch.setitem(app.conf, "CELERY_TASK_EAGER_PROPAGATES", True)
    return app
