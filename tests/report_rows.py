"""A report's CSV read back as rows by store."""

import csv
import io


def rows_by_store(text: str) -> dict[str, dict[str, str]]:
    return {row["store_id"]: row for row in csv.DictReader(io.StringIO(text))}
