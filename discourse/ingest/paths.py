"""Turning the PATH arguments of `discourse score-archive` into a fixed list of archive files.

A researcher passes files, directories and glob patterns, often overlapping (`archive/ archive/2024/*.jsonl`).
The result is sorted and de-duplicated so two runs over the same arguments read the same files in the same order
(and so a re-run's output lines up with the previous one's). A spec that matches nothing is an error rather than
a silently empty run: a typo in a path should not produce a "successful" score of zero articles.
"""

from __future__ import annotations

import glob
import gzip
import os
import stat
from pathlib import Path

#: Formats by suffix. Longest suffixes first, so ".jsonl.gz" wins over ".gz". A ".json.gz" is read as JSONL:
#: compressed news dumps are usually one object per line whatever their name says.
FORMAT_BY_SUFFIX: dict[str, str] = {
    ".jsonl.gz": "jsonl",
    ".ndjson.gz": "jsonl",
    ".json.gz": "jsonl",
    ".csv.gz": "csv",
    ".tsv.gz": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".txt.gz": "txt",
    ".txt": "txt",
}

#: Formats read only from files named (or matched by a pattern), never picked up by walking a directory: a
#: README.txt or notes.txt beside an archive is not an article.
NAMED_ONLY = {"txt"}

SUPPORTED_SUFFIXES = tuple(FORMAT_BY_SUFFIX)

_GLOB_CHARS = set("*?[")


def file_format(path: str | Path) -> str | None:
    """The reader a file needs ("jsonl", "csv", "tsv", "parquet" or "txt"), or None when the suffix is not supported."""
    name = str(path).lower()
    for suffix, fmt in FORMAT_BY_SUFFIX.items():
        if name.endswith(suffix):
            return fmt
    return None


def is_gzip(path: str | Path) -> bool:
    return str(path).lower().endswith(".gz")


class PathNotAllowed(ValueError):
    """A file outside the data roots, or not a regular file, where only files inside the roots may be read."""


def resolve_roots(roots) -> list[Path] | None:
    """`roots` as real paths (symlinks resolved), or None when reading is not confined."""
    return None if roots is None else [Path(os.path.realpath(root)) for root in roots]


def confined(path: str | Path, roots: list[Path]) -> Path:
    """The real path of `path` when it is a regular file inside one of `roots` (already resolved); otherwise
    PathNotAllowed. Every symlink on the way is resolved first, so a link inside a root to a file outside it
    (/etc/passwd, /proc/self/environ) is refused, whatever folder expansion or glob produced the name."""
    real = Path(os.path.realpath(path))
    if not any(real.is_relative_to(root) for root in roots):
        raise PathNotAllowed(f"{path} resolves to {real}, outside the data roots")
    try:
        mode = os.stat(real).st_mode
    except OSError as error:
        raise PathNotAllowed(f"{path}: {error.strerror or error}") from error
    if not stat.S_ISREG(mode):
        raise PathNotAllowed(f"{path} is not a regular file")
    return real


def open_raw(path: str | Path, roots: list[Path] | None = None):
    """The file's raw bytes, unbuffered by gzip. With `roots` (resolved, see resolve_roots) the file must be a
    regular file inside a root: its real path is checked, then opened with O_NOFOLLOW (a link swapped in after
    the check is refused, not followed) and O_NONBLOCK (a FIFO cannot hang the reader), and what was opened is
    checked to be a regular file again."""
    if roots is None:
        return open(path, "rb")
    real = confined(path, roots)
    fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PathNotAllowed(f"{path} is not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class _GzipReader(gzip.GzipFile):
    """A GzipFile over a file object it owns: closing it closes the file too (a plain GzipFile given a file
    object leaves it open)."""

    def __init__(self, raw):
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_binary(path: str | Path, roots: list[Path] | None = None):
    """The file's bytes, decompressed when it is gzip (`roots`: see open_raw)."""
    raw = open_raw(path, roots)
    if not is_gzip(path):
        return raw
    try:
        return _GzipReader(raw)
    except BaseException:
        raw.close()
        raise


def _is_supported(path: Path) -> bool:
    # Hidden files (".DS_Store", editor swap files, "._x.jsonl" from macOS archives) are never articles.
    return path.is_file() and not path.name.startswith(".") and file_format(path) is not None


def _files_under(directory: Path) -> list[Path]:
    found = []
    # os.walk with followlinks=False: a symlink loop in a shared archive folder must not hang the run.
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # skip .git, .cache and the like
        for name in files:
            candidate = Path(root) / name
            if _is_supported(candidate) and file_format(candidate) not in NAMED_ONLY:
                found.append(candidate)
    return found


def expand_paths(specs: list[str]) -> list[Path]:
    """Expand files, directories (recursively) and glob patterns into a sorted, de-duplicated list of files.

    Raises FileNotFoundError naming the first spec that yields no supported file, and ValueError for a file named
    explicitly whose format is not supported (naming it is a clear request, so say why it cannot be honoured).
    """
    if isinstance(specs, (str, os.PathLike)):  # a single spec is an easy mistake; treat it as a list of one
        specs = [specs]
    collected: dict[Path, Path] = {}  # resolved path -> path as the user spelled it (for readable output)
    for spec in specs:
        spec_str = os.path.expanduser(str(spec))
        if any(ch in _GLOB_CHARS for ch in spec_str) and not Path(spec_str).exists():
            matches = [Path(m) for m in glob.glob(spec_str, recursive=True)]
            files: list[Path] = []
            for match in matches:
                if match.is_dir():
                    files.extend(_files_under(match))
                elif _is_supported(match):
                    files.append(match)
            if not files:
                if matches:
                    raise FileNotFoundError(
                        f"pattern {spec!r} matched {len(matches)} path(s) but no supported archive file "
                        f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
                raise FileNotFoundError(f"pattern {spec!r} matched no files")
        else:
            path = Path(spec_str)
            if path.is_dir():
                files = _files_under(path)
                if not files:
                    raise FileNotFoundError(
                        f"directory {spec!r} contains no supported archive file "
                        f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
            elif path.is_file():
                if file_format(path) is None:
                    raise ValueError(
                        f"unsupported file type: {spec!r} (supported: {', '.join(SUPPORTED_SUFFIXES)})")
                files = [path]
            else:
                raise FileNotFoundError(f"no such file or directory: {spec!r}")
        for file in files:
            collected.setdefault(file.resolve(), file)
    # Sort on the resolved path: the order must not depend on how (or in which order) the specs were written.
    return [collected[key] for key in sorted(collected, key=str)]


def estimate_records(files: list[Path]) -> int:
    """About how many records `files` hold, for a progress bar's ETA: lines for JSONL and CSV/TSV (a quoted field
    over several lines, or a blank line, counts too; CSV headers are left out), the row count of a Parquet file's
    metadata. A file that cannot be read counts 0; the run itself reports it. Reading is a plain
    newline count, about a second per GB."""
    total = 0
    for path in files:
        try:
            if file_format(path) == "parquet":
                import pyarrow.parquet as pq

                total += pq.ParquetFile(path).metadata.num_rows
                continue
            lines, last = 0, b"\n"
            with open_binary(path) as handle:
                while chunk := handle.read(1 << 20):
                    lines += chunk.count(b"\n")
                    last = chunk[-1:]
            lines += last != b"\n"  # a last line without a newline
            total += max(0, lines - (file_format(path) in ("csv", "tsv")))
        except Exception:  # noqa: BLE001 - an estimate; the reader reports the real problem with a reason
            continue
    return total
