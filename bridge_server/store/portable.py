"""SQL that SQLite and PostgreSQL both understand, for the few JSON questions the services ask.

The embedded store is SQLite; studio mode runs the same statements on PostgreSQL. Each construct
below compiles to the SQLite function the services used before, and to its PostgreSQL
equivalent (JSONB), so one statement serves both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType


class json_canonical(FunctionElement[Any]):
    """A JSON value in a form where equal JSON compares equal (SQLite json(), PG jsonb)."""

    name = "json_canonical"
    inherit_cache = True
    type = NullType()


@compiles(json_canonical, "sqlite")
def _canonical_sqlite(element: json_canonical, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json({compiler.process(element.clauses, **kw)})"


@compiles(json_canonical, "postgresql")
def _canonical_pg(element: json_canonical, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(CAST({compiler.process(element.clauses, **kw)} AS TEXT) AS JSONB)"


def json_value(value: Any) -> json_canonical:
    """A Python value as canonical JSON, to compare with a stored JSON column."""
    return json_canonical(literal(json.dumps(value)))


class json_array_has_any(FunctionElement[bool]):
    """True when the JSON array under a key of a JSON column holds any of some strings."""

    name = "json_array_has_any"
    inherit_cache = True
    type = Boolean()


def array_has_any(column: Any, key: str, values: Iterable[str]) -> json_array_has_any:
    """SQL: `column[key]` is a JSON array holding at least one of `values`."""
    return json_array_has_any(column, literal(key), *(literal(str(v)) for v in values))


@compiles(json_array_has_any, "sqlite")
def _has_any_sqlite(element: json_array_has_any, compiler: SQLCompiler, **kw: Any) -> str:
    column, key, *values = [compiler.process(c, **kw) for c in element.clauses]
    return (
        f"EXISTS (SELECT 1 FROM json_each({column}, '$.' || {key}) "
        f"WHERE value IN ({', '.join(values)}))"
    )


@compiles(json_array_has_any, "postgresql")
def _has_any_pg(element: json_array_has_any, compiler: SQLCompiler, **kw: Any) -> str:
    column, key, *values = [compiler.process(c, **kw) for c in element.clauses]
    return (
        f"jsonb_exists_any(CAST(CAST({column} AS TEXT) AS JSONB) -> {key}, "
        f"ARRAY[{', '.join(values)}]::TEXT[])"
    )


class json_at(FunctionElement[Any]):
    """The value at a `$.a.b` path of a JSON column: SQLite's json_extract (numbers as numbers,
    objects as JSON text); on PostgreSQL the text of the value (`#>>`)."""

    name = "json_at"
    inherit_cache = True
    type = NullType()


class json_number(FunctionElement[Any]):
    """The number at a `$.a.b` path of a JSON column (for comparisons in SQL), or NULL."""

    name = "json_number"
    inherit_cache = True
    type = NullType()


def _pg_path(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    column, path = list(element.clauses)
    keys = str(path.value).removeprefix("$.").split(".")
    return (
        f"(CAST(CAST({compiler.process(column, **kw)} AS TEXT) AS JSONB) "
        f"#>> '{{{','.join(keys)}}}')"
    )


@compiles(json_at, "sqlite")
@compiles(json_number, "sqlite")
def _at_sqlite(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_extract({compiler.process(element.clauses, **kw)})"


@compiles(json_at, "postgresql")
def _at_pg(element: json_at, compiler: SQLCompiler, **kw: Any) -> str:
    return _pg_path(element, compiler, **kw)


@compiles(json_number, "postgresql")
def _number_pg(element: json_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({_pg_path(element, compiler, **kw)} AS DOUBLE PRECISION)"


def dialect_insert(s: AsyncSession, entity: Any) -> Any:
    """An INSERT with the dialect's `on_conflict_do_nothing` (SQLite's or PostgreSQL's)."""
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)
