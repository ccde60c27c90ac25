"""Documents on a receivable: typed by content, size-limited, stored under a generated name, streamed back."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.receivables.models import ReceivableDocument
from tests.factories import ReceivableFactory, UserFactory
from tests.receivables.helpers import audit_count, page_text, pledge
from tests.uploads import PDF, jpeg_bytes, png_bytes


def upload(client, receivable, data: bytes, name: str):
    return client.post(f"/receivables/{receivable.id}/documents", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def documents_of(receivable) -> list[ReceivableDocument]:
    return list(db.session.scalars(
        select(ReceivableDocument).where(ReceivableDocument.receivable_id == receivable.id)
    ))


def stored_path(app, document) -> Path:
    return Path(app.config["UPLOAD_FOLDER"]) / "documents" / document.stored_name


@pytest.fixture
def receivable(enterprise):
    return ReceivableFactory(enterprise=enterprise)


def test_a_real_pdf_is_stored_under_a_generated_name_with_its_hash(signed_in, receivable, app):
    response = upload(signed_in, receivable, PDF, "发票 2024.pdf")

    [document] = documents_of(receivable)
    assert "材料已上传" in page_text(response)
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", document.stored_name)
    assert document.content_type == "application/pdf"
    assert document.original_name == "发票 2024.pdf"
    assert document.size == len(PDF)
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored_path(app, document).read_bytes() == PDF
    assert audit_count("receivable.document_uploaded") == 1


@pytest.mark.parametrize(("data", "name", "mime", "extension"), [
    (png_bytes(), "scan.png", "image/png", "png"),
    (jpeg_bytes(), "photo.jpeg", "image/jpeg", "jpg"),
])
def test_png_and_jpeg_images_are_accepted(signed_in, receivable, data, name, mime, extension):
    upload(signed_in, receivable, data, name)
    [document] = documents_of(receivable)
    assert document.content_type == mime and document.stored_name.endswith(f".{extension}")


def test_a_png_named_pdf_is_stored_as_png_and_downloads_as_png(signed_in, receivable):
    upload(signed_in, receivable, png_bytes(), "合同.pdf")

    [document] = documents_of(receivable)
    response = signed_in.get(f"/receivables/documents/{document.id}")

    assert document.content_type == "image/png" and document.stored_name.endswith(".png")
    assert response.mimetype == "image/png"
    assert quote("合同.png") in response.headers["Content-Disposition"]


@pytest.mark.parametrize(("data", "name"), [
    (b"just some text, not a PDF at all\n", "invoice.pdf"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "invoice.pdf"),
    (b"PK\x03\x04" + b"\x00" * 100, "invoice.pdf"),
])
def test_files_that_are_not_pdf_or_images_are_refused_whatever_their_name(signed_in, receivable, data, name, app):
    folder = Path(app.config["UPLOAD_FOLDER"]) / "documents"
    before = set(folder.glob("*"))

    response = upload(signed_in, receivable, data, name)

    assert "只能上传PDF、JPG或PNG文件" in page_text(response)
    assert documents_of(receivable) == []
    assert set(folder.glob("*")) == before


def test_a_broken_png_is_refused(signed_in, receivable):
    response = upload(signed_in, receivable, png_bytes()[:40], "scan.png")
    assert "图片文件已损坏" in page_text(response)
    assert documents_of(receivable) == []


def test_a_file_over_10_mb_is_refused_with_a_clear_message(signed_in, receivable):
    big = PDF + b"0" * (11 * 1024 * 1024)
    response = upload(signed_in, receivable, big, "big.pdf")
    assert "文件超过10 MB的上限" in page_text(response)
    assert documents_of(receivable) == []


def test_an_empty_upload_is_refused(signed_in, receivable):
    response = upload(signed_in, receivable, b"", "empty.pdf")
    assert documents_of(receivable) == []
    assert "请选择要上传的文件" in page_text(response) or "文件为空" in page_text(response)


def test_download_returns_the_same_bytes_under_the_original_name(signed_in, receivable):
    upload(signed_in, receivable, PDF, "发票 2024.pdf")
    [document] = documents_of(receivable)

    response = signed_in.get(f"/receivables/documents/{document.id}")

    assert response.status_code == 200
    assert response.get_data() == PDF
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"filename*=UTF-8''{quote('发票 2024.pdf')}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_detail_page_lists_the_documents(signed_in, receivable):
    upload(signed_in, receivable, PDF, "发票.pdf")
    html = page_text(signed_in.get(f"/receivables/{receivable.id}"))
    assert "发票.pdf" in html and 'data-testid="document-row"' in html


def test_deleting_a_document_removes_row_and_file(signed_in, receivable, app):
    upload(signed_in, receivable, PDF, "发票.pdf")
    [document] = documents_of(receivable)
    path = stored_path(app, document)

    response = signed_in.post(f"/receivables/documents/{document.id}/delete", follow_redirects=True)

    assert "材料已删除" in page_text(response)
    assert documents_of(receivable) == [] and not path.exists()
    assert audit_count("receivable.document_deleted") == 1


def test_deleting_a_receivable_removes_its_document_files(signed_in, receivable, app):
    upload(signed_in, receivable, PDF, "发票.pdf")
    path = stored_path(app, documents_of(receivable)[0])
    signed_in.post(f"/receivables/{receivable.id}/delete")
    assert not path.exists()


def test_documents_of_a_pledged_receivable_cannot_be_deleted(signed_in, user, receivable, app):
    upload(signed_in, receivable, PDF, "发票.pdf")
    [document] = documents_of(receivable)
    pledge(receivable, user)

    response = signed_in.post(f"/receivables/documents/{document.id}/delete", follow_redirects=True)

    assert "已质押于有效的融资申请" in page_text(response)
    assert documents_of(receivable) == [document]
    assert stored_path(app, document).exists()


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/receivables/documents/{id}"),
    ("post", "/receivables/documents/{id}/delete"),
])
def test_another_enterprises_document_answers_404(signed_in, method, path):
    theirs = ReceivableFactory()
    document = ReceivableDocument(receivable=theirs, original_name="theirs.pdf", stored_name="0" * 32 + ".pdf",
                                  content_type="application/pdf", size=1, sha256="0" * 64,
                                  uploaded_by_id=UserFactory().id)
    db.session.add(document)
    db.session.flush()

    response = getattr(signed_in, method)(path.format(id=document.id))

    assert response.status_code == 404
    assert documents_of(theirs) == [document]


def test_a_missing_document_answers_404(signed_in):
    assert signed_in.get("/receivables/documents/999999").status_code == 404
