"""Named queries: the questions investigators ask every day, kept as SQL files both engines run.

One `.sql` file per query, named after it. The file's leading `--` comment is the description;
`-- @param NAME TYPE [default EXPR]  text` lines declare the parameters; `{{ ref('model') }}`
names a dbt model and becomes the warehouse's `relation()` (the DuckDB file's schema locally,
the Glue schema on Athena); `:name` marks where a parameter goes.

Parameters are named in the files because one value is often needed in several places (the
same date range on both sides of a join, so Athena prunes partitions on both), and positional
`?` would make the reader count. Rendering turns each `:name` into `?` in order of appearance
and `bind()` builds the matching value list: `?` is the one placeholder syntax DuckDB, Athena's
ExecutionParameters and the Athena console all accept.

Every query filters on the `work_date` partition column (a test checks it): on Athena that is
the difference between scanning a day and scanning the whole history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from tsfraud_assets.resources.warehouse import Warehouse

PARAM_TYPES = ("date", "bigint", "integer", "double", "varchar", "boolean")

_PARAM_LINE = re.compile(
    r"^--\s*@param\s+(?P<name>[A-Za-z_]\w*)\s+(?P<type>\w+)"
    r"(?:\s+default\s+(?P<default>\S+))?(?:\s+(?P<text>.*))?$"
)
_REF = re.compile(r"\{\{\s*ref\(\s*['\"](?P<model>\w+)['\"]\s*\)\s*\}\}")
# Strings, quoted identifiers and comments are matched first so a ':' or '?' inside them is
# left alone; `::` is matched so it can be refused (a DuckDB-only cast that Athena rejects).
_TOKENS = re.compile(
    r"""
    (?P<string>'(?:[^']|'')*')
    | (?P<ident>"(?:[^"]|"")*")
    | (?P<comment>--[^\n]*|/\*.*?\*/)
    | (?P<cast>::)
    | :(?P<param>[A-Za-z_]\w*)
    | (?P<qmark>\?)
    """,
    re.VERBOSE | re.DOTALL,
)
_RELATIVE_DAY = re.compile(r"^today(?:(?P<sign>[+-])(?P<days>\d+))?$")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


class QueryDefinitionError(ValueError):
    """A query file breaks the conventions above; raised when the queries load."""


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str
    description: str
    default: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None

    def coerce(self, value: Any) -> Any:
        """The Python value the warehouses bind: CLI strings are parsed by the declared type,
        typed values are checked, so a wrong value fails here with the parameter's name."""
        try:
            return _coerce(self.type, value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"parameter {self.name} ({self.type}): {exc}") from exc

    def default_value(self, today: dt.date) -> Any:
        if self.default is None:
            raise ValueError(f"parameter {self.name} has no default")
        match = _RELATIVE_DAY.match(self.default)
        if self.type == "date" and match:
            days = int(match.group("days") or 0)
            return today + dt.timedelta(days=-days if match.group("sign") == "-" else days)
        return self.coerce(self.default)


# Widths of the SQL integer types: a value outside them is refused here, where DuckDB would
# quietly widen it and match nothing ("0 rows", exit 0) and Athena would fail the query.
INTEGER_BITS = {"bigint": 64, "integer": 32}
MAX_VALUE_SHOWN = 40


def shown_value(value: Any) -> str:
    """A value as an error message shows it: cut, so a pasted 100k-character value is not
    echoed back in full."""
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > MAX_VALUE_SHOWN:
        text = f"{text[:MAX_VALUE_SHOWN]}… ({len(str(value)):,} characters)"
    return text


def _coerce(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueError(f"not a date (YYYY-MM-DD): {shown_value(value)}") from None
    if kind in ("bigint", "integer"):
        if isinstance(value, bool):
            raise TypeError("a boolean is not an integer")
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"not a whole number: {value}")
        try:
            number = int(str(value).strip()) if isinstance(value, str) else int(value)
        except ValueError:
            raise ValueError(f"not a whole number: {shown_value(value)}") from None
        bits = INTEGER_BITS[kind]
        if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
            raise ValueError(f"out of range for {kind}: {shown_value(value)}")
        return number
    if kind == "double":
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"not a number: {shown_value(value)}") from None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ValueError(f"not a boolean: {shown_value(value)}")
    return str(value)


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    params: tuple[QueryParam, ...]
    template: str

    @property
    def placeholders(self) -> list[str]:
        """Parameter names in the order their `?` appear in the rendered SQL."""
        return [m.group("param") for m in _TOKENS.finditer(self.template) if m.group("param")]

    @property
    def models(self) -> list[str]:
        """The dbt models the query reads, in order of first mention."""
        return list(dict.fromkeys(m.group("model") for m in _REF.finditer(self.template)))

    def param(self, name: str) -> QueryParam:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)

    def render(self, relation: Callable[[str], str]) -> str:
        """The SQL for one warehouse: models through its `relation()`, parameters as `?`."""
        sql = _REF.sub(lambda m: relation(m.group("model")), self.template)
        return _TOKENS.sub(lambda m: "?" if m.group("param") else m.group(0), sql)

    def bind(self, values: Mapping[str, Any], today: dt.date | None = None) -> list[Any]:
        """The positional values for the rendered SQL's `?`s, defaults filled in."""
        unknown = sorted(set(values) - {p.name for p in self.params})
        if unknown:
            raise ValueError(
                f"query {self.name} has no parameter {', '.join(unknown)}; "
                f"it takes: {self.signature()}"
            )
        today = today or dt.date.today()
        resolved: dict[str, Any] = {}
        for param in self.params:
            if param.name in values:
                resolved[param.name] = param.coerce(values[param.name])
            elif param.required:
                raise ValueError(
                    f"query {self.name} needs parameter {param.name} ({param.type}): "
                    f"{param.description}"
                )
            else:
                resolved[param.name] = param.default_value(today)
        start, end = resolved.get("start_date"), resolved.get("end_date")
        if start is not None and end is not None and start > end:
            raise ValueError(f"query {self.name}: start_date {start} is after end_date {end}")
        return [resolved[name] for name in self.placeholders]

    def signature(self) -> str:
        parts = []
        for p in self.params:
            parts.append(f"{p.name}={p.type}" + (f" (default {p.default})" if p.default else ""))
        return ", ".join(parts) or "no parameters"

    def athena_description(self) -> str:
        """The description saved with the Athena named query: the console shows only `?`
        marks, so it says which value goes into which, in order. Athena allows 1024 chars."""
        order = ", ".join(f"{n} ({self.param(n).type})" for n in self.placeholders)
        text = f"{self.description} Parameters in order of the ? marks: {order or 'none'}."
        if any(p.type == "date" for p in self.params):
            # The console splices the values in as SQL text, as ExecutionParameters do.
            text += " Enter dates as DATE 'YYYY-MM-DD'."
        return text if len(text) <= 1024 else text[:1021] + "..."


def parse_query(name: str, text: str) -> NamedQuery:
    """A NamedQuery from one file's text, checked against the conventions in the docstring."""
    description: list[str] = []
    params: list[QueryParam] = []
    lines = text.splitlines()
    body_start = len(lines)
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith("--"):
            body_start = index
            break
        match = _PARAM_LINE.match(stripped)
        if match:
            params.append(
                QueryParam(
                    name=match.group("name"),
                    type=match.group("type").lower(),
                    description=(match.group("text") or "").strip(),
                    default=match.group("default"),
                )
            )
        elif stripped.lstrip("-").strip():
            description.append(stripped.lstrip("-").strip())
    template = "\n".join(lines[body_start:]).strip() + "\n"
    query = NamedQuery(name, " ".join(description), tuple(params), template)
    _check(query)
    return query


def _check(query: NamedQuery) -> None:
    problems = []
    if not query.description:
        problems.append("no description (leading -- comment)")
    names = [p.name for p in query.params]
    if len(set(names)) != len(names):
        problems.append(f"a parameter is declared twice: {names}")
    for param in query.params:
        if param.type not in PARAM_TYPES:
            problems.append(f"parameter {param.name} has type {param.type}, not {PARAM_TYPES}")
        elif param.default is not None:
            try:
                param.default_value(dt.date(2000, 1, 1))
            except ValueError as exc:
                problems.append(f"bad default: {exc}")
    used = set(query.placeholders)
    if used - set(names):
        problems.append(f"undeclared parameters used: {sorted(used - set(names))}")
    if set(names) - used:
        problems.append(f"declared parameters never used: {sorted(set(names) - used)}")
    for match in _TOKENS.finditer(query.template):
        if match.group("qmark"):
            problems.append("a bare ? (name parameters as :name so their order is explicit)")
        if match.group("cast"):
            problems.append(":: cast (DuckDB only; use cast(x as type))")
    if not query.models:
        problems.append("reads no {{ ref('model') }}")
    if problems:
        raise QueryDefinitionError(f"query {query.name}: " + "; ".join(problems))


@cache
def load_queries() -> dict[str, NamedQuery]:
    """Every named query shipped in this package, by name."""
    found = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            name = entry.name.removesuffix(".sql")
            found[name] = parse_query(name, entry.read_text(encoding="utf-8"))
    return found


def get_query(name: str) -> NamedQuery:
    queries = load_queries()
    if name not in queries:
        raise KeyError(f"no named query {name!r}; there are: {', '.join(sorted(queries))}")
    return queries[name]


def run_named_query(
    warehouse: Warehouse,
    query: str | NamedQuery,
    values: Mapping[str, Any] | None = None,
    *,
    today: dt.date | None = None,
    max_age_minutes: int | None = None,
) -> pd.DataFrame:
    """Run a named query on a warehouse: render for its engine, bind, query."""
    named = get_query(query) if isinstance(query, str) else query
    params = named.bind(values or {}, today=today)
    return warehouse.query(
        named.render(warehouse.relation), params, max_age_minutes=max_age_minutes
    )


# --------------------------------------------------------------------------------------------
# Athena saved ("named") queries, so analysts find them in the console beside the tables
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    name: str
    named_query_id: str
    action: str  # created | updated | replaced | unchanged


def _existing_named_queries(client: Any, workgroup: str) -> dict[str, dict[str, Any]]:
    ids: list[str] = []
    kwargs: dict[str, Any] = {"WorkGroup": workgroup, "MaxResults": 50}
    while True:
        page = client.list_named_queries(**kwargs)
        ids.extend(page.get("NamedQueryIds", []))
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    existing: dict[str, dict[str, Any]] = {}
    for named_query_id in ids:
        detail = client.get_named_query(NamedQueryId=named_query_id)["NamedQuery"]
        existing.setdefault(detail["Name"], detail)  # Athena allows duplicates: keep the first
    return existing


def register_named_queries(
    client: Any,
    *,
    workgroup: str,
    database: str,
    relation: Callable[[str], str],
    queries: Iterable[NamedQuery] | None = None,
) -> list[Registration]:
    """Save the named queries in an Athena workgroup, idempotently.

    Athena keys named queries by id, not name, and happily stores two with the same name, so
    this looks the names up first: a missing query is created, a changed one updated in place
    (replaced when its database changed, which UpdateNamedQuery cannot do), an equal one left.
    """
    existing = _existing_named_queries(client, workgroup)
    done = []
    for query in queries if queries is not None else load_queries().values():
        sql = query.render(relation)
        description = query.athena_description()
        found = existing.get(query.name)
        if found is None or found.get("Database") != database:
            if found is not None:
                client.delete_named_query(NamedQueryId=found["NamedQueryId"])
            token = hashlib.sha256(f"{workgroup}\0{database}\0{query.name}\0{sql}".encode())
            created = client.create_named_query(
                Name=query.name,
                Description=description,
                Database=database,
                QueryString=sql,
                WorkGroup=workgroup,
                ClientRequestToken=token.hexdigest(),
            )
            action = "created" if found is None else "replaced"
            done.append(Registration(query.name, created["NamedQueryId"], action))
        elif found.get("QueryString") != sql or found.get("Description") != description:
            client.update_named_query(
                NamedQueryId=found["NamedQueryId"],
                Name=query.name,
                Description=description,
                QueryString=sql,
            )
            done.append(Registration(query.name, found["NamedQueryId"], "updated"))
        else:
            done.append(Registration(query.name, found["NamedQueryId"], "unchanged"))
    return done


__all__ = [
    "NamedQuery",
    "QueryDefinitionError",
    "QueryParam",
    "Registration",
    "get_query",
    "load_queries",
    "parse_query",
    "register_named_queries",
    "run_named_query",
]
