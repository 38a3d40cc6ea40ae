"""Photos and documents Telegram users send to a bot: downloaded through the Bot API into
memory (at most ``FILES_MAX_BYTES``, checked before and after the download), checked as an
upload is (``FILES_ALLOWED_TYPES``, the content against its type), and stored as a file of
the agent's organisation, made by the sender. The message reaches the agent with the
file's id as its attachment (see :mod:`.handler`)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from telegram import Bot, Message

from agenthub.caller import Caller
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import AgentHubError
from agenthub.files import service as files_service
from agenthub.files.checks import SNIFF_BYTES, TypePolicy, clean_name, media_type
from agenthub.files.storage import FileStorage, open_storage
from agenthub.files.upload import FileTooLarge, Upload


@dataclass(frozen=True)
class Sent:
    """A file a Telegram message carries, as Telegram names it."""

    telegram_file_id: str
    name: str
    declared_type: str
    """The type Telegram says it has (a photo is always JPEG); "" for none."""
    size: int | None


def sent_file(message: Message) -> Sent | None:
    """The photo (its largest size) or document of ``message``; None for neither."""
    if message.photo:
        photo = message.photo[-1]
        return Sent(photo.file_id, f"photo-{photo.file_unique_id}.jpg", "image/jpeg", photo.file_size)
    document = message.document
    if document is not None:
        name = clean_name(document.file_name or f"document-{document.file_unique_id}")
        return Sent(document.file_id, name, document.mime_type or "", document.file_size)
    return None


class TelegramFiles:
    def __init__(self, *, storage: FileStorage, sessions: SessionFactory, max_bytes: int, policy: TypePolicy) -> None:
        self._storage = storage
        self._sessions = sessions
        self._max_bytes = max_bytes
        self._policy = policy

    @classmethod
    def from_settings(cls, settings: Settings, *, sessions: SessionFactory) -> TelegramFiles:
        return cls(
            storage=open_storage(settings), sessions=sessions, max_bytes=settings.files_max_bytes,
            policy=TypePolicy(settings.files_allowed_types),
        )

    async def store(self, bot: Bot, sent: Sent, *, caller: Caller) -> str:
        """Download ``sent`` and store it as a file of ``caller``'s organisation; its id.
        FileTooLarge or UnsupportedFileType (nothing stored) when it may not be one."""
        self._check_size(sent.size)
        content_type = media_type(sent.declared_type, sent.name)
        self._policy.check_type(content_type)
        telegram_file = await bot.get_file(sent.telegram_file_id)
        self._check_size(telegram_file.file_size)
        data = bytes(await telegram_file.download_as_bytearray())
        self._check_size(len(data))
        self._policy.check_content(content_type, data[:SNIFF_BYTES])
        upload = Upload(
            name=sent.name, content_type=content_type, size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), file=io.BytesIO(data),
        )
        async with session_scope(self._sessions) as session:
            row = await files_service.create(session, caller=caller, storage=self._storage, upload=upload)
            return row.id

    def _check_size(self, size: int | None) -> None:
        if size is not None and size > self._max_bytes:
            raise FileTooLarge(f"the file is larger than {self._max_bytes} bytes")


def refusal(error: AgentHubError) -> str:
    """What the Telegram user is told when their file is not taken."""
    return f"Sorry, I can't take that file: {error.message}"
