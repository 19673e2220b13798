"""Reading query plans of the partitioned poll table: a plan names each partition's own
index (created from the parent's, named by PostgreSQL), not the parent's."""

import re

from django.db import connection


def leaf_indexes(index: str) -> dict[str, str]:
    """{partition's index: its partition} of a partitioned index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relid::regclass::text, x.indrelid::regclass::text FROM pg_partition_tree(%s::regclass) t"
            " JOIN pg_index x ON x.indexrelid = t.relid WHERE t.isleaf",
            [index],
        )
        return dict(cursor.fetchall())


def indexes_used(plan: str, index: str) -> set[str]:
    """The partitions whose copy of `index` the plan scans."""
    leaves = leaf_indexes(index)
    return {leaves[name] for name in re.findall(r'(?:Index (?:Only )?Scan(?: Backward)? on |"Index Name": ")(\w+)', plan) if name in leaves}


def partitions_scanned(plan: str) -> set[str]:
    """The poll table's partitions a plan reads (by any scan)."""
    return set(re.findall(r"\bon (monitoring_statuspoll_(?:p\d{4}w\d{2}|default))\b", plan))
