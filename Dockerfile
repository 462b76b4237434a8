FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LEADCRM_VAR_DIR=/var/lib/leadcrm \
    STATIC_ROOT=/app/staticfiles
WORKDIR /app
RUN useradd --system --home /app leadcrm && mkdir -p /var/lib/leadcrm && chown leadcrm /var/lib/leadcrm
COPY pyproject.toml README.md ./
COPY leadcrm leadcrm
COPY leads leads
COPY scoring scoring
COPY nurturing nurturing
COPY reporting reporting
RUN pip install --no-cache-dir .
COPY . .
# collectstatic needs a key to import settings; the running container gets its own from the env.
RUN SECRET_KEY=build-only python manage.py collectstatic --no-input -v0
USER leadcrm
EXPOSE 8000
CMD ["gunicorn", "leadcrm.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
