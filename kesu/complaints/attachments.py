"""Evidence files: what may be uploaded, and storing it under a random name."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from kesu.accounts.models import User
from kesu.complaints.models import Attachment, Complaint
from kesu.errors import FieldError, InvalidInput

MAX_FILES_PER_UPLOAD = 5


def _riff(kind: bytes) -> tuple[tuple[int, bytes], ...]:
    return ((0, b"RIFF"), (8, kind))


# Allowed extensions → (content type, the magic bytes that must be at the given offsets).
# Photos, screenshots, scans, call recordings and videos are the evidence customers and
# agents have (DOMAIN L2, L6); executables and scripts are not accepted under any name.
ALLOWED: dict[str, tuple[str, tuple[tuple[tuple[int, bytes], ...], ...]]] = {
    "jpg": ("image/jpeg", (((0, b"\xff\xd8\xff"),),)),
    "jpeg": ("image/jpeg", (((0, b"\xff\xd8\xff"),),)),
    "png": ("image/png", (((0, b"\x89PNG\r\n\x1a\n"),),)),
    "gif": ("image/gif", (((0, b"GIF87a"),), ((0, b"GIF89a"),))),
    "webp": ("image/webp", (_riff(b"WEBP"),)),
    "pdf": ("application/pdf", (((0, b"%PDF-"),),)),
    "txt": ("text/plain", ()),
    "mp3": ("audio/mpeg", (((0, b"ID3"),), ((0, b"\xff\xfb"),), ((0, b"\xff\xf3"),))),
    "wav": ("audio/wav", (_riff(b"WAVE"),)),
    "m4a": ("audio/mp4", (((4, b"ftyp"),),)),
    "amr": ("audio/amr", (((0, b"#!AMR"),),)),  # WeChat's voice messages
    "mp4": ("video/mp4", (((4, b"ftyp"),),)),
    "mov": ("video/quicktime", (((4, b"ftyp"),), ((4, b"moov"),))),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (((0, b"PK\x03\x04"),),),
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (((0, b"PK\x03\x04"),),),
    ),
    "doc": ("application/msword", (((0, b"\xd0\xcf\x11\xe0"),),)),
    "xls": ("application/vnd.ms-excel", (((0, b"\xd0\xcf\x11\xe0"),),)),
}


@dataclass(frozen=True)
class CheckedUpload:
    file: UploadedFile[Any]
    name: str
    extension: str
    content_type: str
    size: int


def _extension(name: str) -> str:
    return PurePath(name).suffix.lower().lstrip(".")


def check_upload(upload: UploadedFile[Any], field: str = "attachments") -> CheckedUpload:
    """Accept the file or raise InvalidInput naming the file and what is wrong with it."""
    name = PurePath(upload.name or "file").name[:200]
    extension = _extension(name)
    size = upload.size or 0
    if extension not in ALLOWED:
        raise InvalidInput.one(
            field,
            _("%(name)s: files of type .%(ext)s are not accepted (accepted: %(allowed)s).")
            % {"name": name, "ext": extension or "?", "allowed": ", ".join(sorted(ALLOWED))},
        )
    if size > settings.KESU_MAX_ATTACHMENT_BYTES:
        raise InvalidInput.one(
            field,
            _("%(name)s is %(size)s; the limit is %(limit)s.")
            % {
                "name": name,
                "size": filesizeformat(size),
                "limit": filesizeformat(settings.KESU_MAX_ATTACHMENT_BYTES),
            },
        )
    if size == 0:
        raise InvalidInput.one(field, _("%(name)s is empty.") % {"name": name})
    content_type, signatures = ALLOWED[extension]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if signatures and not any(
        all(head[offset : offset + len(magic)] == magic for offset, magic in signature)
        for signature in signatures
    ):
        raise InvalidInput.one(
            field,
            _("%(name)s does not contain what its name says (.%(ext)s).")
            % {"name": name, "ext": extension},
        )
    if extension == "txt" and b"\x00" in head:
        raise InvalidInput.one(field, _("%(name)s is not a text file.") % {"name": name})
    return CheckedUpload(upload, name, extension, content_type, size)


def check_received(
    received: Iterable[tuple[str, bytes, str]],
) -> tuple[list[CheckedUpload], list[str]]:
    """Files a channel brought in (name, content, type): those that pass the evidence rules, and
    why the others did not, so that a message is taken with what can be kept."""
    uploads: list[CheckedUpload] = []
    refused: list[str] = []
    for name, data, content_type in received:
        if len(uploads) >= MAX_FILES_PER_UPLOAD * 2:
            refused.append(_("%(name)s: too many files in one message.") % {"name": name})
            continue
        try:
            uploads.append(check_upload(SimpleUploadedFile(name or "file", data, content_type)))
        except InvalidInput as error:
            refused.extend(e.message for e in error.errors)
    return uploads, refused


def check_uploads(
    uploads: list[UploadedFile[Any]], field: str = "attachments"
) -> list[CheckedUpload]:
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        raise InvalidInput.one(
            field, _("At most %(n)s files at a time.") % {"n": MAX_FILES_PER_UPLOAD}
        )
    checked: list[CheckedUpload] = []
    errors: list[FieldError] = []
    for upload in uploads:
        try:
            checked.append(check_upload(upload, field))
        except InvalidInput as error:
            errors.extend(error.errors)
    if errors:
        raise InvalidInput(errors)
    return checked


def store(
    complaint: Complaint,
    upload: CheckedUpload,
    *,
    by: User | None,
    internal: bool,
    at: datetime,
) -> Attachment:
    """Save the file and its row (caller's transaction; the caller removes files on rollback)."""
    attachment = hold(upload, by=by, internal=internal, at=at)
    attachment.complaint = complaint
    attachment.save()
    return attachment


def hold(upload: CheckedUpload, *, by: User | None, internal: bool, at: datetime) -> Attachment:
    """Save the file where its attachment will be, but not its row: for a file that came before
    its case (intake.chat keeps it with the message, `held()` makes it the case's later)."""
    attachment = Attachment(
        storage_name=f"{secrets.token_hex(16)}.{upload.extension}",
        original_name=upload.name,
        content_type=upload.content_type,
        size=upload.size,
        internal=internal,
        uploaded_by=by,
        uploaded_at=at,
    )
    attachment.file.save(attachment.storage_name, upload.file, save=False)
    return attachment


def held_facts(attachment: Attachment) -> dict[str, Any]:
    """What a message keeps of a held file (JSON), for `held()`."""
    return {"file": attachment.file.name, "name": attachment.original_name,
            "type": attachment.content_type, "size": attachment.size,
            "at": attachment.uploaded_at.isoformat()}  # fmt: skip


def held(complaint: Complaint, facts: dict[str, Any]) -> Attachment:
    """A held file (held_facts) becomes the complaint's attachment, where it already lies."""
    attachment = Attachment(
        complaint=complaint,
        storage_name=PurePath(facts["file"]).name,
        original_name=facts["name"],
        content_type=facts["type"],
        size=facts["size"],
        internal=False,
        uploaded_at=datetime.fromisoformat(facts["at"]),
    )
    attachment.file.name = facts["file"]
    attachment.save()
    return attachment
