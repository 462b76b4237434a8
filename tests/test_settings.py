import pytest
from django.core.exceptions import ImproperlyConfigured

from leadcrm.env import env_bool, env_choice, env_int, env_list, env_secret


def test_it_reads_booleans_and_rejects_typos(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG") is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", default=True) is False
    monkeypatch.setenv("FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG")


def test_it_reads_numbers_and_lists(monkeypatch):
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("HOSTS", "crm.example.com, www.example.com,")
    assert env_int("PORT", 1) == 8080
    assert env_list("HOSTS", []) == ["crm.example.com", "www.example.com"]
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ImproperlyConfigured, match="PORT"):
        env_int("PORT", 1)


def test_it_reads_a_secret_from_a_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "key"
    secret_file.write_text("s3cret\n")
    monkeypatch.setenv("API_KEY", "from-env")
    monkeypatch.setenv("API_KEY_FILE", str(secret_file))

    assert env_secret("API_KEY") == "s3cret"


def test_it_reads_a_choice_and_rejects_anything_else(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", " JSON ")
    assert env_choice("LOG_FORMAT", ["json", "text"], "text") == "json"
    monkeypatch.setenv("LOG_FORMAT", "")
    assert env_choice("LOG_FORMAT", ["json", "text"], "text") == "text"
    monkeypatch.setenv("LOG_FORMAT", "jsn")
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT must be one of"):
        env_choice("LOG_FORMAT", ["json", "text"], "text")
