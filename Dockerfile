# The production image: one image, three roles (web, worker, beat) chosen by the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GOVMEDIA_VAR_DIR=/app/var \
    GOVMEDIA_MEDIA_ROOT=/data/media \
    GUNICORN_BIND=0.0.0.0:8000

WORKDIR /app

# Dependencies first (pinned in pyproject.toml) so code changes reuse this layer.
# The project declares no importable package: `pip install .` installs exactly the
# runtime dependencies; the code itself runs from /app.
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are baked into the image (whitenoise serves them, hashed and
# compressed). The key below exists only for this build step; settings refuse to start
# production without DJANGO_SECRET_KEY from the environment.
RUN DJANGO_DEBUG=0 \
    DJANGO_SECRET_KEY=collectstatic-only-build-time-key-never-used-at-runtime-0000 \
    python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin govmedia \
    && mkdir -p /app/var /data/media \
    && chown -R govmedia /app/var /data/media
USER govmedia

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py"]
