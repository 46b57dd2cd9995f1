"""Give a sorted table's first page the same total order as the pages after it, so paging loses no rows.

Datasette 0.65 orders page 1 of a sorted table by the sort column alone (`order by published desc`) and
every later page by the sort column and then the primary key (views/table.py). Rows that tie on the sort
column (every article of one day) come back on page 1 in whatever order the query plan gives, while the
`_next` token taken from page 1's last row assumes primary-key order among them: at each page boundary
inside a run of ties, rows are skipped or repeated. Paging through `/articles.json`, or a streamed CSV,
silently lost articles. Adding the primary key to page 1's ORDER BY makes the two agree.
"""

from __future__ import annotations

import contextvars
import re

from datasette import hookimpl
from datasette.utils import escape_sqlite
from datasette.views.table import TableView

# Only the table view's own queries are touched; SQL a user writes is run as written.
_in_table_view: contextvars.ContextVar[bool] = contextvars.ContextVar("in_table_view", default=False)

_NAME = r'(?:\[[^\]]+\]|"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)'
# The shape of the table view's page query (views/table.py): one sort term, no tie-breaker, no offset.
_FIRST_PAGE = re.compile(
    rf"^select .+? from (?P<table>{_NAME}) (?:where .+ )?order by (?P<term>{_NAME})(?P<desc> desc)? limit \d+$",
    re.S,
)


def _unquote(name: str) -> str:
    if name.startswith("[") or name.startswith('"'):
        return name[1:-1].replace('""', '"')
    return name


def with_tie_breaker(sql: str, primary_keys: list[str]) -> str:
    """The page query with the primary keys appended to its ORDER BY, or unchanged if it is not one."""
    match = _FIRST_PAGE.match(sql)
    if not match or not primary_keys or _unquote(match["term"]) in primary_keys:
        return sql
    tie_breaker = ", ".join(escape_sqlite(pk) for pk in primary_keys)
    cut = match.end("desc") if match["desc"] else match.end("term")
    return f"{sql[:cut]}, {tie_breaker}{sql[cut:]}"


def _patch_database(db) -> None:
    execute = db.execute
    # An immutable file's tables keep their keys: look them up once, not with two queries on every page.
    known_keys: dict[str, list[str] | None] = {}

    async def tie_breaker(table: str) -> list[str] | None:
        if table in known_keys:
            return known_keys[table]
        # Rowid tables page by rowid, as Datasette's later pages do; views page by offset and are left be.
        keys = (await db.primary_keys(table) or ["rowid"]) if await db.table_exists(table) else None
        if not db.is_mutable:
            known_keys[table] = keys
        return keys

    async def execute_in_total_order(sql, *args, **kwargs):
        match = _FIRST_PAGE.match(sql) if _in_table_view.get() else None
        keys = await tie_breaker(_unquote(match["table"])) if match else None
        if keys:
            sql = with_tie_breaker(sql, keys)
        return await execute(sql, *args, **kwargs)

    db.execute = execute_in_total_order


def _patch_table_view() -> None:
    if getattr(TableView.data, "_marks_table_view", False):
        return
    data = TableView.data

    async def data_in_table_view(self, *args, **kwargs):
        token = _in_table_view.set(True)
        try:
            return await data(self, *args, **kwargs)
        finally:
            _in_table_view.reset(token)

    data_in_table_view._marks_table_view = True
    TableView.data = data_in_table_view


@hookimpl
def startup(datasette):
    _patch_table_view()
    for name, db in datasette.databases.items():
        if not name.startswith("_"):
            _patch_database(db)
