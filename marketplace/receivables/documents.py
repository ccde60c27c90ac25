"""A receivable's documents (invoice, contract, delivery note): typed by content, stored under a
generated name, hashed, and streamed back under the name the user gave them."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path, PurePath

import filetype
from flask import abort, current_app, send_file
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from marketplace import audit
from marketplace.downloads import file_headers
from marketplace.extensions import db
from marketplace.receivables import services
from marketplace.receivables.models import Receivable, ReceivableDocument

# Detected content type -> the extension the stored file gets.
ALLOWED_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
_IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
_SUFFIXES = {"application/pdf": {".pdf"}, "image/jpeg": {".jpg", ".jpeg"}, "image/png": {".png"}}


class DocumentRefused(ValueError):
    """The upload is not accepted; the message says why, in Chinese."""


def storage_dir() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "documents"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def document_path(document: ReceivableDocument) -> Path:
    return storage_dir() / document.stored_name


def read_limited(upload: FileStorage, limit: int) -> bytes:
    """The upload's bytes, refusing anything empty or over `limit` without reading all of it."""
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise DocumentRefused(_("文件超过%(mb)s MB的上限，请压缩或拆分后再上传", mb=limit // (1024 * 1024)))
    if not data:
        raise DocumentRefused(_("文件为空"))
    return data


def detect_type(data: bytes) -> str:
    """The content type judged from the bytes (never the name): PDF, JPEG or PNG, else refused."""
    kind = filetype.guess(data)
    mime = kind.mime if kind else None
    if mime not in ALLOWED_TYPES:
        raise DocumentRefused(_("只能上传PDF、JPG或PNG文件（按文件内容判断，修改扩展名无效）"))
    if mime in _IMAGE_FORMATS:
        _verify_image(data, _IMAGE_FORMATS[mime])
    return mime


def _verify_image(data: bytes, expected_format: str) -> None:
    try:
        from PIL import Image
    except ImportError:  # Pillow is optional: the magic bytes already matched
        return
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            ok = image.format == expected_format
    except Exception:  # Pillow raises many kinds of error for a broken file
        ok = False
    if not ok:
        raise DocumentRefused(_("图片文件已损坏或不完整，请重新导出后上传"))


def original_name(filename: str | None) -> str:
    """The name as the user's computer gave it, without any folder part, at most 255 characters."""
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    return (name or "document")[-255:]


def download_name(document: ReceivableDocument) -> str:
    """The original name, with the extension corrected when the content is of another type."""
    path = PurePath(document.original_name)
    if path.suffix.lower() in _SUFFIXES.get(document.content_type, set()):
        return document.original_name
    return f"{path.stem or 'document'}.{ALLOWED_TYPES[document.content_type]}"


def document_response(document: ReceivableDocument, *, download: bool = False):
    """The stored file, served safely: its checked content type (PDF, JPEG or PNG, judged from the
    bytes at upload), never sniffed; opened in the browser (inline) or saved (`download`) under
    its original name; not kept in shared caches. 404 when the file is missing on disk."""
    path = document_path(document)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=document.content_type, max_age=0)
    response.headers.update(file_headers(download_name(document), ascii_download_name(document), inline=not download))
    return response


def stored_file_response(stored_name: str, content_type: str, original: str, fallback_stem: str):
    """An uploaded file kept under storage_dir() (a question's attachment, objection evidence, a
    transfer receipt), served as document_response does: its checked type, never sniffed, saved
    under its original name (`fallback_stem` plus the type's extension for clients that need
    ASCII), not cached; 404 when the file is missing on disk."""
    path = storage_dir() / stored_name
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=content_type, max_age=0)
    response.headers.update(file_headers(original, f"{fallback_stem}.{ALLOWED_TYPES.get(content_type, 'bin')}"))
    return response


def ascii_download_name(document: ReceivableDocument) -> str:
    """The generated plain name beside the original one (filename*): document-<id>.<ext>."""
    return f"document-{document.id}.{ALLOWED_TYPES[document.content_type]}"


def store_document(receivable: Receivable, user, upload: FileStorage) -> ReceivableDocument:
    data = read_limited(upload, current_app.config["DOCUMENT_MAX_BYTES"])
    mime = detect_type(data)
    stored_name = f"{uuid.uuid4().hex}.{ALLOWED_TYPES[mime]}"
    (storage_dir() / stored_name).write_bytes(data)
    document = ReceivableDocument(
        receivable=receivable, original_name=original_name(upload.filename), stored_name=stored_name,
        content_type=mime, size=len(data), sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=user.id,
    )
    db.session.add(document)
    db.session.flush()
    audit.record("receivable.document_uploaded", document, enterprise_id=receivable.enterprise_id,
                 receivable_id=receivable.id, name=document.original_name, content_type=mime,
                 size=document.size, sha256=document.sha256)
    return document


def delete_document(document: ReceivableDocument) -> str:
    """Delete the row; return the stored name, to remove from disk after the commit."""
    services.ensure_unpledged(document.receivable)
    audit.record("receivable.document_deleted", document, enterprise_id=document.receivable.enterprise_id,
                 receivable_id=document.receivable_id, name=document.original_name, sha256=document.sha256)
    db.session.delete(document)
    db.session.flush()
    return document.stored_name


def remove_files(stored_names: list[str]) -> None:
    """Remove stored files whose rows are gone (after the commit, so a rollback keeps them)."""
    for name in stored_names:
        (storage_dir() / name).unlink(missing_ok=True)
