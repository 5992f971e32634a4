"""Audio and other large contents kept as files under one folder (`VOIPDESK_MEDIA_DIR`), the
database holding their metadata and the file's key.

A file is written (to a temporary name, synced, then renamed) before the transaction that names
it commits, so a committed row never names a missing file; a crash in between leaves a file no
row names, which the owning area's sweep removes. A file is removed after the transaction that
forgets it commits, through the outbox (`forget`), so a rolled-back deletion keeps its audio.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from voipdesk.core.outbox import enqueue, handler

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

DELETE_TOPIC = "files.delete"
# <area>/<yyyy>/<mm>/<32 hex>.<ext>: made here only, so a key read back can be checked.
_KEY = re.compile(r"^[a-z_]+/\d{4}/\d{2}/[0-9a-f]{32}\.[a-z0-9]{1,5}$")


class UnknownFileKey(ValueError):
    """A key this store did not make (never a path to follow)."""


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, area: str, data: bytes, extension: str, now: datetime) -> str:
        """Writes `data` durably and returns its new key."""
        key = f"{area}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{extension}"
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.partial")
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power cut
        finally:
            os.close(directory)
        return key

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, area: str, modified_before: float) -> Iterator[str]:
        """The keys of an area's files last written before `modified_before` (a POSIX time)."""
        base = self.root / area
        if not base.is_dir():
            return
        for path in base.glob("*/*/*"):
            key = path.relative_to(self.root).as_posix()
            if _KEY.match(key) and path.stat().st_mtime < modified_before:
                yield key

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise UnknownFileKey(key)
        return self.root / key


def forget(session: Session, platform: Platform, key: str | None) -> None:
    """Deletes the file once the current transaction has committed (nothing when `key` is None)."""
    if key is not None:
        enqueue(session, DELETE_TOPIC, {"key": key}, platform.now(), dedup_key=f"files:{key}")


@handler(DELETE_TOPIC)
def _delete_file(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    platform.files.delete(payload["key"])  # a file already gone is fine (at least once)
