"""What a load did: counts, rejected rows (in memory and in the rejects file),
progress, and `load_envelope`, the frame every load runs in (timing, rejects file
published only once the data has committed, cleanup on failure)."""

from __future__ import annotations

import sys
import time as time_module
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from monitoring.kernel.humanize import count
from monitoring.kernel.people_csv import PeopleCsvWriter, spreadsheet_safe

#: Rejections kept in memory on a result (all of them go to the rejects file).
MAX_REJECTIONS_KEPT = 1000
REJECTS_HEADER = ("file", "line", "field", "reason", "raw")
#: Characters of a rejected row kept in the rejects file (a 10 MB line is not copied).
MAX_RAW_CHARS = 1000


class LoadError(Exception):
    """The whole file is refused (unreadable, empty, missing or duplicated column)."""


@dataclass(frozen=True)
class Rejection:
    """One rejected row. `line` is the physical line in the file (header = 1);
    `index` is the item's position (from 0) for live polls."""

    file: str | None
    line: int | None
    field: str
    reason: str
    raw: str = ""
    index: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else f"item {self.index}"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.reason}"


@dataclass
class FileLoadResult:
    """What one load did. Rows: loaded + replaced + unchanged + superseded + skipped +
    rejected = rows read (for hours and special hours, `removed` counts stored shifts
    deleted; for expected revenue, stored hours deleted)."""

    kind: str
    file: str | None
    rows: int = 0
    loaded: int = 0
    replaced: int = 0
    unchanged: int = 0
    superseded: int = 0
    skipped: int = 0
    rejected: int = 0
    removed: int = 0
    stores_created: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    rejects_path: Path | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        name = Path(self.file).name if self.file else "recordPolls"
        parts = [f"loaded {self.loaded}", f"replaced {self.replaced}", f"unchanged {self.unchanged}"]
        if self.superseded:
            parts.append(f"superseded {self.superseded}")
        if self.skipped:
            parts.append(f"skipped {self.skipped}")
        if self.kind in ("hours", "special_hours", "revenue"):
            parts.append(f"removed {self.removed}")
        parts.append(f"rejected {self.rejected}")
        parts.append(f"new stores {self.stores_created}")
        return f"{name} ({self.kind}): {count(self.rows, 'row', grouped=False)}: " + ", ".join(parts) + f" in {self.seconds:.1f} s"


class Progress:
    """A progress bar on stderr when asked (an interactive `load_data`)."""

    def __init__(self, *, enabled: bool, total: int, desc: str) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="B", unit_scale=True, desc=desc, file=sys.stderr, leave=False)

    def update(self, amount: int) -> None:
        if self.bar is not None:
            self.bar.update(amount)

    def phase(self, name: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(name)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class RejectSink:
    """Collects rejections: a count, the first few in memory, all in a temporary
    CSV that becomes the rejects file once the transaction has committed. Store ids of
    rows rejected for another field are kept too (their stores still exist, docs/rules.md §2)."""

    def __init__(self, path: Path | None, *, keep_all: bool = False) -> None:
        self.path = Path(path) if path else None
        self.keep = sys.maxsize if keep_all else MAX_REJECTIONS_KEPT
        self.count = 0
        self.kept: list[Rejection] = []
        self.store_ids: set[str] = set()
        self._tmp: Path | None = None
        self._handle = None
        self._writer: PeopleCsvWriter | None = None

    def add(self, rejection: Rejection, store_id: str | None = None) -> None:
        self.count += 1
        if len(self.kept) < self.keep:
            self.kept.append(rejection)
        if store_id:
            self.store_ids.add(store_id)
        if self.path is not None:
            if self._writer is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._tmp = self.path.with_name(self.path.name + f".{uuid.uuid4().hex[:8]}.tmp")
                self._handle = self._tmp.open("w", newline="", encoding="utf-8", errors="backslashreplace")
                self._writer = PeopleCsvWriter(self._handle)
                self._writer.writerow(REJECTS_HEADER)
            index_or_line = rejection.line if rejection.line is not None else rejection.index
            raw = rejection.raw if len(rejection.raw) <= MAX_RAW_CHARS else rejection.raw[:MAX_RAW_CHARS] + "…"
            self._writer.writerow(
                [
                    spreadsheet_safe(rejection.file or ""),
                    index_or_line,
                    rejection.field,
                    spreadsheet_safe(rejection.reason),
                    spreadsheet_safe(raw.replace("\x00", "\\x00")),
                ]
            )

    def commit(self) -> Path | None:
        """Publishes the rejects file (or removes a stale one when nothing was rejected)."""
        if self.path is None:
            return None
        if self._handle is None:
            if self.path.exists():
                self.path.unlink()
            return None
        self._handle.close()
        self._tmp.replace(self.path)
        return self.path

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._tmp.unlink(missing_ok=True)


@dataclass
class Load:
    """One load in progress: its result, its rejections, its progress bar."""

    result: FileLoadResult
    rejects: RejectSink
    progress: Progress


@contextmanager
def load_envelope(
    *, kind: str, path: Path | None, rejects_path: Path | str | None = None, progress: bool = False,
    keep_all_rejections: bool = False,
) -> Iterator[Load]:
    """The frame of every load: on success the rejections go on the result and the
    rejects file is published (the caller's transaction has committed by then); on any
    failure the temporary rejects file is removed and nothing is published."""
    started = time_module.perf_counter()
    load = Load(
        result=FileLoadResult(kind=kind, file=str(path) if path is not None else None),
        rejects=RejectSink(Path(rejects_path) if rejects_path else None, keep_all=keep_all_rejections),
        progress=Progress(
            enabled=progress and path is not None, total=path.stat().st_size if progress and path else 0,
            desc=path.name if path is not None else "",
        ),
    )
    try:
        yield load
    except BaseException:
        load.rejects.discard()
        raise
    finally:
        load.progress.close()
    load.result.rejected = load.rejects.count
    load.result.rejections = load.rejects.kept
    load.result.rejects_path = load.rejects.commit()
    load.result.seconds = time_module.perf_counter() - started
