"""Shared plumbing for commands that read JSON and answer JSON (``quote``, ``scrap-check``).

Each input gives one JSON object on one line of standard output. Malformed input gives
``{"error": {"code", "field", "message"}}`` and exit status 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

EXIT_MALFORMED = 2


class MalformedInput(Exception):
    """An input that cannot be decided; carries the error object to print."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.error = {"error": {"code": code, "field": field, "message": message}}

    @classmethod
    def of(cls, error: Any) -> MalformedInput:
        """From a domain input error carrying ``code``, ``field`` and ``message`` (the rule engine's, the
        scrapping standard's)."""
        return cls(error.code, error.field, error.message)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def read_inputs(raw_input: str | None, file: str | None) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) of each input: one from --input (or stdin with '-'), or each line of --file."""
    if (raw_input is None) == (file is None):
        raise MalformedInput("usage", "input", "请用 --input 或 --file 之一提供输入")
    if raw_input is not None:
        yield 1, sys.stdin.read() if raw_input == "-" else raw_input
        return
    assert file is not None
    handle = sys.stdin if file == "-" else None
    try:
        lines = handle.read().splitlines() if handle else Path(file).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise MalformedInput("file_unreadable", "file", f"无法读取文件：{exc.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line


def parse(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedInput(
            "invalid_json", "input", f"输入不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）"
        ) from None


def parse_object(text: str) -> dict[str, Any]:
    payload = parse(text)
    if not isinstance(payload, dict):
        raise MalformedInput("invalid_type", "input", "输入应为 JSON 对象")
    return payload


def run(
    decide: Callable[[dict[str, Any]], dict[str, Any]],
    raw_input: str | None,
    file: str | None,
    write: Callable[[str], Any],
) -> int:
    """Decide every input (a JSON object), print one line each; the exit status is 2 if any input was malformed."""
    status = 0
    try:
        for _, text in read_inputs(raw_input, file):
            try:
                write(dumps(decide(parse_object(text))))
            except MalformedInput as exc:
                write(dumps(exc.error))
                status = EXIT_MALFORMED
    except MalformedInput as exc:
        write(dumps(exc.error))
        status = EXIT_MALFORMED
    return status


def answer(decide: Callable[[dict[str, Any]], dict[str, Any]], options: dict[str, Any], stdout: Any) -> None:
    """A command's whole run: its --input or --file through ``decide``, then exit 2 if anything was malformed."""
    status = run(decide, options["raw_input"], options["file"], stdout.write)
    if status:
        stdout.flush()
        sys.exit(status)
