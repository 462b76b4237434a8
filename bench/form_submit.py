"""Capture form submissions/s under gunicorn against the generated leads table (half of the
submissions update leads that exist, half create new ones), beside the bare Django view of
``bench.track`` in the same run; then a count that every accepted submission is stored once.

    DATABASE_URL=postgres://... REDIS_URL=redis://... \\
        .venv/bin/python -m bench.form_submit [--requests 4000] [--workers 2] [--threads 4]

Needs data from ``bench.generate``. A form with four fields and a consent checkbox (no double
opt-in) is created for the run; each request posts it urlencoded, as a browser does, with a
freshly signed render token. The rate limits and the minimum fill time are lifted for the run
(all requests come from 127.0.0.1). No goal: the figure is reported with the queries one
submission costs, which ``tests/capture/test_forms.py`` keeps constant.
"""

import argparse
import os
import time
from urllib.parse import urlencode

os.environ.update(
    {
        "LEADCRM_FORM_RATE_PER_IP": "100000000/minute",
        "LEADCRM_FORM_RATE_PER_FORM": "100000000/minute",
        "LEADCRM_FORM_MIN_SECONDS": "0",
    }
)

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.track import Server, load
from capture import form_services
from capture.landing import render_token
from capture.models import CaptureForm, FormSubmission
from leads.models import Lead

SLUG = "bench-form"
URLENCODED = "application/x-www-form-urlencoded"


def bench_form() -> CaptureForm:
    capture_form = CaptureForm.objects.filter(slug=SLUG).first() or CaptureForm(slug=SLUG)
    capture_form.name = "Bench form"
    capture_form.consent_en = "Send me marketing e-mails."
    capture_form.double_opt_in = False
    return form_services.capture_form_save(
        capture_form=capture_form,
        fields=[
            {"name": "email"},
            {"name": "first_name"},
            {"name": "company_name"},
            {"name": "job_title"},
        ],
    )


def _bodies(first: int, count: int, known: list[str], token: str, run: str) -> list[bytes]:
    bodies = []
    for index in range(first, first + count):
        email = known[index % len(known)] if index % 2 else f"bench-{run}-{index}@new.example"
        bodies.append(
            urlencode(
                {
                    "token": token,
                    "website": "",
                    "email": email,
                    "first_name": f"Bench {run} {index}",
                    "company_name": f"Bench company {index % 300}",
                    "job_title": "Head of Marketing",
                    "consent": "on",
                    "utm_source": "bench",
                }
            ).encode()
        )
    return bodies


def queries_per_submission(capture_form: CaptureForm, email: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        Client(HTTP_HOST="127.0.0.1").post(
            f"/f/{capture_form.slug}/",
            {
                "token": render_token(capture_form),
                "email": email,
                "first_name": "Q",
                "consent": "on",
            },
        )
    return len(queries)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=2, help="load generator processes (2)")
    parser.add_argument("--concurrency", type=int, default=4, help="threads per process (4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        raise SystemExit("bench.form_submit needs PostgreSQL: set DATABASE_URL")
    capture_form = bench_form()
    leads = Lead.objects.count()
    known = list(Lead.objects.order_by("?").values_list("email", flat=True)[: args.requests])
    if not known:
        raise SystemExit("No leads: run bench.generate first")
    token = render_token(capture_form)
    run = str(int(time.time()))
    submissions_before = FormSubmission.objects.count()
    leads_before = leads

    with Server(args.workers, args.threads) as server:
        warmup = _bodies(0, 100, known, token, f"{run}w")
        load(server.port, f"/f/{SLUG}/", warmup, args.clients, args.concurrency, URLENCODED)
        bodies = _bodies(0, args.requests, known, token, run)
        bare = load(server.port, "/bench/bare", bodies, args.clients, args.concurrency, URLENCODED)
        form = load(server.port, f"/f/{SLUG}/", bodies, args.clients, args.concurrency, URLENCODED)

    stored = FormSubmission.objects.count() - submissions_before - len(warmup)
    created = Lead.objects.count() - leads_before - len(warmup) // 2
    print(
        f"{leads:,} leads; gunicorn {args.workers} gthread workers x {args.threads} threads; "
        f"load: {args.clients} processes x {args.concurrency} keep-alive connections, "
        f"{args.requests:,} submissions (half of known addresses)"
    )
    for name, result in (("bare Django view (204)", bare), ("POST /f/<slug>/", form)):
        print(
            f"{name:24} {result['rate']:8,.0f} req/s   p50 {result['p50']:7.2f} ms   "
            f"p99 {result['p99']:7.2f} ms   ({result['accepted']:,} of {result['requests']:,} "
            "accepted)"
        )
    print(f"submissions reach {form['rate'] / bare['rate']:.0%} of the bare view")
    print(f"stored {stored:,} submissions, {created:,} new leads (expected {args.requests // 2:,})")
    print(
        "queries per submission: "
        f"{queries_per_submission(capture_form, known[0])} (known address), "
        f"{queries_per_submission(capture_form, f'bench-q-{run}@new.example')} (new address)"
    )
    if stored != form["accepted"]:
        raise SystemExit(f"LOST OR DUPLICATED: {form['accepted']:,} accepted, {stored:,} stored")


if __name__ == "__main__":
    main()
