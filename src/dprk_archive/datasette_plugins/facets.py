"""Fast facets for the articles table: precomputed counts, one-pass live counts, a region join facet.

Why (docs/facets.md has the measurements): at 300,000 articles Datasette's array facet over a JSON
column took seconds, its date facet scans every row, and six separate facet queries each re-run the
page's filters. Here region is a join table filtered with `?_region=`; the counts for the views people
land on (no filter, or one facet value clicked) were computed at build time into facet_counts; and
any other view counts all its facets in one query over the matching rows, computed once.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args

REGION_ARG = "_region"
ARTICLES = "articles"
# The one many-to-many facet: `counted: {column: region, through: article_regions}`.
THROUGH = {"article_regions": ("article_id", "region")}
# Above this many matching rows, one combined query may outrun the facet time limit as a whole;
# separate queries then let the cheap facets finish even if the region one times out.
COMBINED_MAX_ROWS = 100_000

# Query-string arguments that change how rows are shown, not which articles are counted.
_NEUTRAL_ARGS = {
    "_sort", "_sort_desc", "_size", "_labels", "_nocount", "_nofacet", "_nosuggest", "_next", "_col", "_nocol",
    "_shape", "_json", "_extra", "_trace", "_context", "_facet_size", "_timelimit", "_stream", "_dl",
}
# Plain equality filters on these columns have precomputed counts (build.FILTER_COLUMNS).
_SCOPE_COLUMNS = {"year", "month", "outlet", "category"}


def _counts_scope(request) -> tuple[str, str] | None:
    """The facet_counts scope of a view: ("", "") unfiltered, ("region", name), ("year", "2020") ... or None."""
    scope = ("", "")
    for key in request.args:
        if key in _NEUTRAL_ARGS or key.startswith("_facet"):
            continue
        if key == REGION_ARG:
            name = "region"
        elif key in _SCOPE_COLUMNS:
            name = key
        else:
            return None
        values = request.args.getlist(key)
        if len(values) != 1 or scope != ("", ""):
            return None
        scope = (name, values[0])
    return scope


class CountedFacet(Facet):
    """Column facets (`counted: month`, or `{column, order: recent, as: date, through: TABLE}`), counted fast."""

    type = "counted"

    def _configs(self) -> list[dict]:
        configs = []
        for source_and_config in self.get_configs():
            config = dict(source_and_config["config"])
            config["column"] = config.get("column") or config["simple"]
            config["source"] = source_and_config["source"]
            if config.get("through") and (config["through"] not in THROUGH or self.table != ARTICLES):
                continue
            configs.append(config)
        return configs

    async def facet_results(self):
        configs = self._configs()
        if not configs:
            return [], []
        limit = self.get_facet_size() + 1
        rows, timed_out = await self._precomputed(configs, limit)
        if rows is None:
            rows, timed_out = await self._live(configs, limit)
        results = [self._result(c, rows[c["column"]], limit - 1) for c in configs if c["column"] in rows]
        return results, timed_out

    async def _precomputed(self, configs, limit):
        scope = _counts_scope(self.request)
        db = self.ds.get_database(self.database)
        if scope is None or self.table != ARTICLES or not await db.table_exists("facet_counts"):
            return None, []
        rows = {}
        for config in configs:
            order = "value desc" if config.get("order") == "recent" else "count desc, value"
            rows[config["column"]] = (
                await self.ds.execute(
                    self.database,
                    f"select value, count from facet_counts where filter = :filter and filter_value = :value "
                    f"and facet = :facet order by {order} limit {limit}",
                    {"filter": scope[0], "value": scope[1], "facet": config["column"]},
                )
            ).rows
        # Nothing stored at all can also mean a value written differently (year=2020.0): count it live.
        if not any(rows.values()):
            return None, []
        return rows, []

    def _count_sql(self, config, source: str) -> str:
        name = config["column"]
        if config.get("through"):
            key, value = THROUGH[config["through"]]
            return (
                f"select '{name}' as facet, {escape_sqlite(value)} as value, count(*) as count "
                f"from {escape_sqlite(config['through'])} where {escape_sqlite(key)} in (select id from {source}) "
                f"group by {escape_sqlite(value)}"
            )
        col = escape_sqlite(name)
        # "+col": group with a temporary b-tree rather than walk this column's index, which SQLite
        # prefers and which then reads every row to test the filters (178 ms against 57 ms for
        # category under outlet and region filters at 300,000 articles).
        return (
            f"select '{name}' as facet, {col} as value, count(*) as count from {source} "
            f"where {col} is not null group by +{col}"
        )

    def _ranked_sql(self, counts_sql: str, limit: int) -> str:
        return (
            f"select facet, value, count from (select facet, value, count, "
            f"row_number() over (partition by facet order by count desc, value) as by_count, "
            f"row_number() over (partition by facet order by value desc) as by_recent from ({counts_sql})) "
            f"where by_count <= {limit} or by_recent <= {limit}"
        )

    async def _live(self, configs, limit):
        rows = {c["column"]: [] for c in configs}
        timed_out = []
        row_count = self.row_count
        plain = [c for c in configs if not c.get("through")]
        if row_count is not None and row_count <= COMBINED_MAX_ROWS:
            # The filters (a full-text match, a region join) run once, not once per facet: the rows
            # they keep are materialized, then every facet is a group-by over that small table.
            columns = ", ".join(["id"] + [escape_sqlite(c["column"]) for c in plain])
            counts = " union all ".join(self._count_sql(c, "m") for c in configs)
            sql = f"with m as materialized (select {columns} from ({self.sql})) " + self._ranked_sql(counts, limit)
            batches = [(configs, sql)]
        else:
            batches = [([c], self._ranked_sql(self._count_sql(c, f"({self.sql})"), limit)) for c in configs]
        for batch, sql in batches:
            try:
                result = await self.ds.execute(
                    self.database, sql, self.params, truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                )
            except QueryInterrupted:
                timed_out.extend(c["column"] for c in batch)
                for c in batch:
                    rows.pop(c["column"], None)
                continue
            for row in result.rows:
                rows[row["facet"]].append(row)
        for config in configs:
            if config["column"] in rows:
                if config.get("order") == "recent":
                    rows[config["column"]].sort(key=lambda r: r["value"], reverse=True)
                else:
                    rows[config["column"]].sort(key=lambda r: (-r["count"], str(r["value"])))
                rows[config["column"]] = rows[config["column"]][:limit]
        return rows, timed_out

    def _result(self, config, rows, facet_size):
        name = config["column"]
        arg = REGION_ARG if config.get("through") else name
        pairs = self.get_querystring_pairs()
        values = []
        for row in rows[:facet_size]:
            value = row["value"]
            selected = (arg, str(value)) in pairs
            if selected:
                toggle = path_with_removed_args(self.request, {arg: str(value)})
            else:
                toggle = path_with_added_args(self.request, {arg: value})
            values.append(
                {
                    "value": value,
                    "label": value,
                    "count": row["count"],
                    "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(toggle)),
                    "selected": selected,
                }
            )
        return {
            "name": name,
            "type": config.get("as", "column"),
            "hideable": config["source"] != "metadata",
            "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet_counted": name})),
            "results": values,
            "truncated": len(rows) > facet_size,
        }


@hookimpl
def register_facet_classes():
    """The counted facet type."""
    return [CountedFacet]


@hookimpl(specname="filters_from_request", trylast=True)
def search_filter(request, database, table, datasette):
    """`?_search=` on articles through articles_fts, planned so that the newest matches come first cheaply."""
    if table != ARTICLES:
        return None

    async def inner():
        db = datasette.get_database(database)
        if not await db.table_exists("articles_fts"):
            return None
        # articles_fts reads its text through the articles_full view, so Datasette does not see it
        # as the articles table's index and adds no search clause of its own; this one differs in
        # the unary +: SQLite then walks the date index and stops at a page of matches, instead of
        # fetching and sorting every match (10 ms against 196 ms for a word in 37% of 300,000).
        # trylast: this hook's supports_search must be the last word on the page's search box.
        q = request.args.get("_search")
        if not q:
            return FilterArguments([], extra_context={"supports_search": True})
        raw = request.args.get("_searchmode") == "raw"
        match = ":search" if raw else "escape_fts(:search)"
        return FilterArguments(
            [f"+rowid in (select rowid from articles_fts where articles_fts match {match})"],
            {"search": q},
            [f'search matches "{q}"'],
            {"supports_search": True, "search": q},
        )

    return inner


@hookimpl
def filters_from_request(request, database, table, datasette):
    """`?_region=Kangwon` keeps articles naming that region (repeat it to require several)."""
    if table != ARTICLES or REGION_ARG not in request.args:
        return None
    clauses, params, descriptions = [], {}, []
    for i, region in enumerate(request.args.getlist(REGION_ARG)):
        # The unary + stops SQLite from driving the query from this IN list: it then walks the
        # date index in page order and checks membership, instead of sorting every match (150 ms
        # for Pyongyang at 300,000 articles, against 13 ms).
        clauses.append(f"+id in (select article_id from article_regions where region = :region_{i})")
        params[f"region_{i}"] = region
        descriptions.append(f'region is "{region}"')
    return FilterArguments(clauses, params, descriptions)

