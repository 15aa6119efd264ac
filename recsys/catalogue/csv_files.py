"""CSV files as shops export them: a UTF-8 byte-order mark, Windows line ends, commas, semicolons or tabs between
fields (sniffed from the header line), quoted fields across lines. Bytes that are not UTF-8 are read as Windows-1252,
the other encoding spreadsheet exports use, and said so once."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

csv.field_size_limit(16 * 1024 * 1024)  # a product description may be long HTML; a field past this is a broken file


@dataclass
class CsvTable:
    """The header and the records of one CSV file, with the line each record starts on."""

    header: list[str]
    records: Iterator[tuple[int, dict[str, str]]]
    notes: list[str] = field(default_factory=list)


def _encoding(path: Path) -> tuple[str, str | None]:
    """utf-8-sig when the whole file decodes as UTF-8 (checked a block at a time), else cp1252."""
    try:
        with path.open("rb") as fh:
            utf8 = codecs.getincrementaldecoder("utf-8")()
            while block := fh.read(1 << 20):
                utf8.decode(block)
            utf8.decode(b"", final=True)
        return "utf-8-sig", None
    except UnicodeDecodeError as exc:
        return "cp1252", f"not UTF-8 (first bad byte at offset {exc.start}); read as Windows-1252"


def read_csv(path: Path) -> CsvTable:
    """Open `path` as a table; the delimiter is sniffed from the header line (comma, semicolon, tab or pipe)."""
    encoding, note = _encoding(path)
    with path.open(newline="", encoding=encoding, errors="replace") as fh:
        first = fh.readline()
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    header = next(csv.reader([first], dialect), [])

    def records() -> Iterator[tuple[int, dict[str, str]]]:
        with path.open(newline="", encoding=encoding, errors="replace") as fh:
            reader = csv.DictReader(fh, dialect=dialect)
            start = 2
            for row in reader:
                yield start, {(k or "").strip(): (v if isinstance(v, str) else "") for k, v in row.items() if k}
                start = reader.line_num + 1

    return CsvTable([h.strip().lstrip("\ufeff") for h in header], records(), [note] if note else [])
