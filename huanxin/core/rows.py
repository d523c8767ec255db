"""Single-row reads and writes for the hottest request paths, with their SQL built once per process.

``Model.objects.create()`` and ``.filter(...).first()`` compile their statement afresh on every call:
about 0.5 ms of CPU each, several times what PostgreSQL spends running it. A resident's claim issues a
dozen such statements, so on a burst the application server, not the database, is the limit. These
helpers send the statement the ORM would send — every value still prepared by its model field (time
zones, JSON, booleans), field defaults applied by the model's constructor, rows read back through
``Model.from_db`` — without compiling it each time. Only the claim path and the request plumbing it
passes through (audit rows, idempotency records, the signed-in user) use them; everything else stays
on the ORM.

No signals are sent: nothing in this project listens to ``post_save`` of the models written here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.fields import AutoFieldMixin

M = TypeVar("M", bound=models.Model)


# Field kinds whose preparation returns a value of these exact types unchanged; anything else (datetimes,
# JSON, binary, enum members, a bool given to an integer field) goes through the field.
_PLAIN: tuple[tuple[type[models.Field[Any, Any]], tuple[type, ...]], ...] = (
    (models.BooleanField, (bool, type(None))),
    (models.IntegerField, (int, type(None))),
    (models.CharField, (str, type(None))),
    (models.TextField, (str, type(None))),
)


def _plain_types(field: models.Field[Any, Any]) -> tuple[type, ...]:
    """The value types ``field`` passes through unchanged when preparing them for the database."""
    if isinstance(field, models.ForeignKey):
        return _plain_types(field.target_field)
    if isinstance(field, AutoFieldMixin):
        return (int, type(None))
    for kind, types in _PLAIN:
        if isinstance(field, kind):
            return types
    return ()


def _prepared(field: models.Field[Any, Any], plain: tuple[type, ...], value: Any, connection: Any) -> Any:
    return value if type(value) in plain else field.get_db_prep_save(value, connection)


@functools.cache
def _insert_plan(
    model: type[models.Model], vendor: str, skip_conflicts: bool
) -> tuple[str, tuple[tuple[models.Field[Any, Any], tuple[type, ...]], ...]]:
    opts = model._meta
    fields = tuple((f, _plain_types(f)) for f in opts.local_concrete_fields if not f.primary_key)
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f, _ in fields)
    values = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES ({values}) "  # noqa: S608 - names from the model
        f"{'ON CONFLICT DO NOTHING ' if skip_conflicts else ''}RETURNING {quote(str(opts.pk.column))}"
    )
    return sql, fields


def insert(instance: M) -> M:
    """Insert a new instance (built with its constructor, so defaults apply) and set its primary key."""
    inserted = _insert(instance, skip_conflicts=False)
    assert inserted is not None  # without ON CONFLICT a row comes back or the INSERT raised
    return inserted


def insert_unless_conflict(instance: M) -> M | None:
    """Insert unless a unique constraint already holds such a row (``ON CONFLICT DO NOTHING``): None then.

    No exception and so no savepoint is needed to go on after a conflict, inside a transaction or not.
    """
    return _insert(instance, skip_conflicts=True)


def _insert(instance: M, *, skip_conflicts: bool) -> M | None:
    connection = connections[DEFAULT_DB_ALIAS]
    sql, fields = _insert_plan(type(instance), connection.vendor, skip_conflicts)
    params = [_prepared(field, plain, field.pre_save(instance, True), connection) for field, plain in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


@functools.cache
def _insert_select_plan(
    model: type[models.Model], vendor: str, source: str, computed: tuple[str, ...], with_pk: bool
) -> tuple[str, tuple[tuple[models.Field[Any, Any], tuple[type, ...]], ...]]:
    sql, fields = _insert_plan(model, vendor, False)
    head = sql.split(" VALUES ", 1)[0]
    if with_pk:
        pk = model._meta.pk
        assert pk is not None
        quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
        head = head.replace(" (", f" ({quote(str(pk.column))}, ", 1)
        fields = ((pk, _plain_types(pk)), *fields)
    values = ", ".join(
        next(expression for name, expression in zip(computed[::2], computed[1::2], strict=True) if name == f.attname)
        if f.attname in computed[::2]
        else "%s"
        for f, _ in fields
    )
    kept = tuple((f, plain) for f, plain in fields if f.attname not in computed[::2])
    return f"{head} SELECT {values} FROM {source}", kept  # noqa: S608 - names from the model and the caller


def insert_select(
    instance: models.Model, source: str, computed: dict[str, str], *, with_pk: bool = False
) -> tuple[str, list[Any]]:
    """The INSERT of a new instance as ``INSERT ... SELECT ... FROM source`` with its values prepared as
    ``insert`` prepares them, except the columns in ``computed`` (attribute name → SQL expression over
    ``source``), for one statement that writes rows depending on each other (no RETURNING). With
    ``with_pk`` the instance's primary key (taken from its sequence beforehand) is written too."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql, fields = _insert_select_plan(
        type(instance), connection.vendor, source, tuple(item for pair in computed.items() for item in pair), with_pk
    )
    return sql, [_prepared(field, plain, field.pre_save(instance, True), connection) for field, plain in fields]


def select_columns(model: type[models.Model], alias: str) -> str:
    """Every concrete column of ``model`` qualified by ``alias``, in the order ``from_row`` reads them."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return ", ".join(f"{alias}.{quote(str(f.column))}" for f in model._meta.concrete_fields)


def from_row(model: type[M], values: Sequence[Any]) -> M:
    """A model instance from its ``select_columns`` values, converted as ``get_by`` converts them."""
    connection = connections[DEFAULT_DB_ALIAS]
    _, names, converters = _select_plan(model, "id", connection.vendor)
    converted = [convert(v, connection) if convert else v for convert, v in zip(converters, values, strict=True)]
    return model.from_db(connection.alias, names, converted)


@functools.cache
def _update_plan(
    model: type[models.Model], names: tuple[str, ...], vendor: str
) -> tuple[str, tuple[tuple[models.Field[Any, Any], tuple[type, ...]], ...]]:
    opts = model._meta
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    fields = tuple((f, _plain_types(f)) for f in map(opts.get_field, names) if isinstance(f, models.Field))
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f, _ in fields)
    sql = f"UPDATE {quote(opts.db_table)} SET {assignments} WHERE {quote(str(opts.pk.column))} = %s"  # noqa: S608
    return sql, fields


def update(model: type[models.Model], pk: Any, **values: Any) -> int:
    """Set fields of one row by primary key; returns the number of rows changed (0 or 1)."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql, fields = _update_plan(model, tuple(values), connection.vendor)
    params = [_prepared(field, plain, values[field.name], connection) for field, plain in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, pk])
        return int(cursor.rowcount)


Converter = Callable[[Any, Any], Any]


@functools.cache
def _select_plan(
    model: type[models.Model], column: str, vendor: str
) -> tuple[str, list[str], tuple[Converter | None, ...]]:
    """The SELECT of every concrete column, their attribute names, and per column the function turning
    the driver's value into the field's (SQLite returns datetimes and JSON as text), or None."""
    opts = model._meta
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in opts.concrete_fields)
    sql = f"SELECT {columns} FROM {quote(opts.db_table)} WHERE {quote(column)} = %s LIMIT 1"  # noqa: S608
    converters: list[Converter | None] = []
    for field in opts.concrete_fields:
        col = field.get_col(opts.db_table)
        functions = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
        converters.append(_chain(functions, col) if functions else None)
    return sql, [f.attname for f in opts.concrete_fields], tuple(converters)


def _chain(functions: list[Any], column: Any) -> Converter:
    def convert(value: Any, connection: Any) -> Any:
        for function in functions:
            value = function(value, column, connection)
        return value

    return convert


def get_by(model: type[M], column: str, value: Any) -> M | None:
    """The row whose ``column`` equals ``value`` (a unique column), as a model instance, or None."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql, names, converters = _select_plan(model, column, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    if row is None:
        return None
    values = [convert(value, connection) if convert else value for convert, value in zip(converters, row, strict=True)]
    return model.from_db(connection.alias, names, values)
