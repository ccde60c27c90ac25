"""Pages and JSON sent gzipped to clients that accept it (issue 15), never files sent as they are
or small bodies; static files named by content hash and then cached for a year, immutable."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest

from marketplace import static_assets

GZIP = {"Accept-Encoding": "gzip, deflate, br"}
STATIC = Path(__file__).resolve().parent.parent / "static"


def test_a_page_is_gzipped_for_a_client_that_accepts_gzip_and_reads_the_same(client):
    plain = client.get("/market")
    packed = client.get("/market", headers=GZIP)
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    text = gzip.decompress(packed.data).decode()
    # the same page but for the per-answer nonce and CSRF token
    assert len(packed.data) < len(plain.data) / 2
    assert "金融超市" in text and text.count("<") == plain.get_data(as_text=True).count("<")
    assert int(packed.headers["Content-Length"]) == len(packed.data)


def test_json_is_gzipped_too(client):
    answer = client.get("/reference/regions.json", headers=GZIP)
    assert answer.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(answer.data).startswith(b"[") or gzip.decompress(answer.data).startswith(b"{")


@pytest.mark.parametrize("accept", ["", "identity", "gzip;q=0", "br"])
def test_no_gzip_for_a_client_that_does_not_accept_it(client, accept):
    answer = client.get("/market", headers={"Accept-Encoding": accept} if accept else {})
    assert "Content-Encoding" not in answer.headers
    assert "金融超市" in answer.get_data(as_text=True)


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # another subdomain: not ours to trust
    {"Referer": "https://attacker.example/page"},  # a browser without Fetch Metadata
])
def test_no_gzip_for_a_request_another_site_started(client, headers):
    """BREACH: the attacker's page must not learn a secret from compressed sizes, so answers to
    requests it makes the browser send go uncompressed."""
    answer = client.get("/market", headers=GZIP | headers)
    assert answer.status_code == 200
    assert "Content-Encoding" not in answer.headers
    assert "金融超市" in answer.get_data(as_text=True)


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {"Referer": "http://localhost/dashboard"}, {},
])
def test_gzip_for_our_own_pages_a_bookmark_and_clients_without_a_browser(client, headers):
    answer = client.get("/market", headers=GZIP | headers)
    assert answer.headers["Content-Encoding"] == "gzip"


def test_small_bodies_stay_as_they_are(client):
    answer = client.get("/healthz", headers=GZIP)
    assert answer.status_code == 200 and len(answer.data) < 1024
    assert "Content-Encoding" not in answer.headers


def test_files_sent_as_files_are_not_recompressed(client):
    """Static files (and every send_file answer: uploads, PDFs) stream from disk untouched."""
    answer = client.get("/static/app.css", headers=GZIP)
    assert answer.status_code == 200 and "Content-Encoding" not in answer.headers
    assert answer.data == (STATIC / "app.css").read_bytes()


def test_a_head_request_gets_no_body_to_compress(client):
    answer = client.head("/market", headers=GZIP)
    assert answer.status_code == 200 and "Content-Encoding" not in answer.headers


def test_static_urls_carry_the_hash_of_the_files_bytes(client):
    page = client.get("/login").get_data(as_text=True)
    css = re.search(r'href="(/static/app\.css\?v=([0-9a-f]+))"', page)
    js = re.search(r'src="(/static/app\.js\?v=([0-9a-f]+))"', page)
    assert css and js
    assert css.group(2) == hashlib.sha256((STATIC / "app.css").read_bytes()).hexdigest()[:12]
    assert js.group(2) == hashlib.sha256((STATIC / "app.js").read_bytes()).hexdigest()[:12]


def test_a_static_file_asked_for_by_its_hash_is_cached_for_a_year(client):
    page = client.get("/login").get_data(as_text=True)
    url = re.search(r'href="(/static/app\.css\?v=[0-9a-f]+)"', page).group(1)
    answer = client.get(url)
    assert answer.status_code == 200
    cache = answer.headers["Cache-Control"]
    assert "public" in cache and "max-age=31536000" in cache and "immutable" in cache and "no-cache" not in cache


@pytest.mark.parametrize("query", ["", "?v=000000000000", "?v="])
def test_a_static_file_without_its_current_hash_is_revalidated(client, query):
    answer = client.get(f"/static/app.css{query}")
    assert answer.status_code == 200
    cache = answer.headers.get("Cache-Control", "")
    assert "no-cache" in cache and "immutable" not in cache and "max-age=31536000" not in cache
    assert answer.headers.get("ETag")
    again = client.get(f"/static/app.css{query}", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


def test_a_changed_file_gets_a_new_hash(tmp_path):
    (tmp_path / "site.css").write_text("body { color: red }")
    first = static_assets.content_hash(str(tmp_path), "site.css")
    (tmp_path / "site.css").write_text("body { color: blue; }")
    second = static_assets.content_hash(str(tmp_path), "site.css")
    assert first and second and first != second
    assert second == hashlib.sha256(b"body { color: blue; }").hexdigest()[:12]


def test_no_hash_for_a_missing_file_or_one_outside_the_folder(tmp_path):
    (tmp_path / "inside").mkdir()
    (tmp_path / "secret.txt").write_text("x")
    assert static_assets.content_hash(str(tmp_path / "inside"), "nothing.css") is None
    assert static_assets.content_hash(str(tmp_path / "inside"), "../secret.txt") is None
