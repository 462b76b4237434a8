import pytest

from leadcrm import health


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_reports_every_part_ok_with_real_servers_and_worker(client, celery_worker_process):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "worker": "ok",
    }


@pytest.mark.django_db
def test_it_is_degraded_but_serving_when_no_worker_answers(client, monkeypatch):
    def no_worker():
        raise TimeoutError("no worker answered")

    monkeypatch.setitem(health.CHECKS, "worker", no_worker)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["worker"]["error"] == "TimeoutError: no worker answered"


@pytest.mark.django_db
def test_it_fails_with_503_when_the_database_is_down(client, monkeypatch):
    def database_down():
        raise ConnectionError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", database_down)
    monkeypatch.setitem(health.CHECKS, "worker", lambda: None)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["checks"]["database"]["status"] == "error"


def test_it_needs_no_login(client, monkeypatch):
    for name in list(health.CHECKS):
        monkeypatch.setitem(health.CHECKS, name, lambda: None)

    assert client.get("/healthz").status_code == 200
