"""Strict reading of catalogue TOML: every key must be known and well typed, or the file is refused.

A typo in a catalogue file (``cap_fne``) must fail loudly at load time, never silently fall back to a
default that pays the wrong amount.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

_NO_DEFAULT: Final[Any] = object()


class CatalogueError(ValueError):
    """A catalogue file that does not describe a valid rule set."""


class Table:
    """A TOML table read key by key; finish() refuses any key nobody asked for."""

    __slots__ = ("_data", "_path", "_used")

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        """Wrap the parsed table found at path (used in error messages)."""
        self._data = data
        self._path = path
        self._used: set[str] = set()

    @property
    def path(self) -> str:
        """The dotted location of this table in the file."""
        return self._path

    def where(self, key: str) -> str:
        """The dotted location of one key of this table."""
        return f"{self._path}.{key}" if self._path else key

    def has(self, key: str) -> bool:
        """Whether the key is present."""
        return key in self._data

    def names(self) -> Iterator[str]:
        """The keys present, in file order (for tables keyed by category code)."""
        return iter(self._data)

    def _take(self, key: str, default: Any) -> Any:
        """Return the raw value and mark the key as used."""
        self._used.add(key)
        if key in self._data:
            return self._data[key]
        if default is _NO_DEFAULT:
            raise CatalogueError(f"{self.where(key)}: required key is missing")
        return default

    def text(self, key: str, default: Any = _NO_DEFAULT) -> str:
        """Read a non-empty string."""
        value = self._take(key, default)
        if not isinstance(value, str) or not value.strip():
            raise CatalogueError(f"{self.where(key)}: expected a non-empty string")
        return value

    def optional_text(self, key: str) -> str | None:
        """Read a non-empty string that may be absent."""
        if not self.has(key):
            self._used.add(key)
            return None
        return self.text(key)

    def integer(self, key: str, default: Any = _NO_DEFAULT, *, minimum: int = 0) -> int:
        """Read an integer no smaller than minimum (booleans refused)."""
        value = self._take(key, default)
        if type(value) is not int or value < minimum:
            raise CatalogueError(f"{self.where(key)}: expected an integer >= {minimum}")
        return value

    def optional_integer(self, key: str, *, minimum: int = 0) -> int | None:
        """Read an integer that may be absent."""
        if not self.has(key):
            self._used.add(key)
            return None
        return self.integer(key, minimum=minimum)

    def flag(self, key: str, default: Any = _NO_DEFAULT) -> bool:
        """Read a boolean."""
        value = self._take(key, default)
        if type(value) is not bool:
            raise CatalogueError(f"{self.where(key)}: expected true or false")
        return value

    def day(self, key: str, default: Any = _NO_DEFAULT) -> date:
        """Read a TOML local date (not a datetime)."""
        value = self._take(key, default)
        if not isinstance(value, date) or isinstance(value, datetime):
            raise CatalogueError(f"{self.where(key)}: expected a date such as 2025-01-01")
        return value

    def optional_day(self, key: str) -> date | None:
        """Read a TOML local date that may be absent."""
        if not self.has(key):
            self._used.add(key)
            return None
        return self.day(key)

    def decimal(self, key: str) -> Decimal:
        """Read a non-negative number (integer or float) as an exact Decimal."""
        value = self._take(key, _NO_DEFAULT)
        if type(value) is int:
            number = Decimal(value)
        elif type(value) is float:
            number = Decimal(repr(value))
        else:
            raise CatalogueError(f"{self.where(key)}: expected a number")
        if not number.is_finite() or number < 0:
            raise CatalogueError(f"{self.where(key)}: expected a finite number >= 0")
        return number

    def optional_decimal(self, key: str) -> Decimal | None:
        """Read a non-negative number that may be absent."""
        if not self.has(key):
            self._used.add(key)
            return None
        return self.decimal(key)

    def texts(self, key: str, default: Any = _NO_DEFAULT) -> tuple[str, ...]:
        """Read an array of non-empty strings."""
        value = self._take(key, default)
        if not isinstance(value, list | tuple) or not all(isinstance(item, str) and item for item in value):
            raise CatalogueError(f"{self.where(key)}: expected an array of strings")
        return tuple(value)

    def table(self, key: str) -> Table:
        """Read a required sub-table."""
        value = self._take(key, _NO_DEFAULT)
        if not isinstance(value, Mapping):
            raise CatalogueError(f"{self.where(key)}: expected a table")
        return Table(value, self.where(key))

    def optional_table(self, key: str) -> Table | None:
        """Read a sub-table that may be absent."""
        if not self.has(key):
            self._used.add(key)
            return None
        return self.table(key)

    def tables(self, key: str, *, required: bool = True) -> list[Table]:
        """Read an array of tables ([[key]] in TOML)."""
        value = self._take(key, _NO_DEFAULT if required else [])
        if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
            raise CatalogueError(f"{self.where(key)}: expected an array of tables")
        return [Table(item, f"{self.where(key)}[{index}]") for index, item in enumerate(value)]

    def raw(self, key: str) -> Any:
        """Read a value of any TOML type (for conditions that compare input fields to values)."""
        return self._take(key, _NO_DEFAULT)

    def finish(self) -> None:
        """Refuse keys that no reader asked for: they are typos or rules the engine would ignore."""
        unknown = [key for key in self._data if key not in self._used]
        if unknown:
            where = self._path or "top level"
            raise CatalogueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")


def refuse(path: str, problem: str) -> CatalogueError:
    """Build the error for a catalogue value that is well typed but makes no sense."""
    return CatalogueError(f"{path}: {problem}")
