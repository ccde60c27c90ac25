"""Configuration: embedded defaults, environment overrides, and production's refusals."""

import pytest

from marketplace import create_app


def test_production_refuses_to_start_without_secret_audit_and_encryption_keys(tmp_path):
    with pytest.raises(RuntimeError) as raised:
        create_app({"DEPLOYMENT": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"},
                   instance_path=str(tmp_path))
    assert "FLASK_SECRET_KEY" in str(raised.value) and "FLASK_AUDIT_KEY" in str(raised.value)
    assert "FLASK_ENCRYPTION_KEY" in str(raised.value)
    assert not (tmp_path / "encryption_key").exists()  # no key is made up next to the data


def test_production_starts_with_its_keys_set(tmp_path):
    app = create_app({"DEPLOYMENT": "production", "SECRET_KEY": "s" * 32, "AUDIT_KEY": "a" * 32,
                      "ENCRYPTION_KEY": "e" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "PUBLIC_BASE_URL": "https://rzfw.example.cn/", "UPLOAD_FOLDER": str(tmp_path / "shared"),
                      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/1"}, instance_path=str(tmp_path))
    assert app.config["AUDIT_KEY"] == "a" * 32


def test_embedded_default_is_sqlite_eager_and_offline(tmp_path, monkeypatch):
    for name in ("FLASK_SQLALCHEMY_DATABASE_URI", "FLASK_SECRET_KEY", "FLASK_AUDIT_KEY", "FLASK_DEPLOYMENT"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'marketplace.db'}"
    assert app.extensions["celery"].conf.task_always_eager is True
    assert app.config["PAYMENTS"] == "offline"
    assert (tmp_path / "secret_key").exists() and (tmp_path / "audit_key").exists()


def test_environment_overrides_nested_celery_and_stripe(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_CELERY__broker_url", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("FLASK_STRIPE_SECRET_KEY", "sk_test_x")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    assert app.extensions["celery"].conf.broker_url == "redis://127.0.0.1:6379/0"
    assert app.config["PAYMENTS"] == "stripe"
