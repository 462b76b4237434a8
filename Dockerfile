FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app \
    LEADCRM_VAR_DIR=/var/lib/leadcrm STATIC_ROOT=/app/staticfiles
WORKDIR /app
RUN useradd --system --home /app leadcrm && mkdir -p /var/lib/leadcrm && chown leadcrm /var/lib/leadcrm
# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change,
# not on every change to the code.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" >/tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt && rm /tmp/requirements.txt
COPY . .
# The code runs from /app (PYTHONPATH); collectstatic needs a key to import settings, the running
# container gets its own from the environment.
RUN SECRET_KEY=build-only python manage.py collectstatic --no-input -v0 \
    && chown -R leadcrm /var/lib/leadcrm
USER leadcrm
EXPOSE 8000
# No gunicorn access log: leadcrm.request logs every request as a JSON line (method, path,
# status, duration_ms).
CMD ["gunicorn", "leadcrm.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
