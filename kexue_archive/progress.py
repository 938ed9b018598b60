"""How a stage shows its progress: the build passes one function down to each stage
(the CLI's draws tqdm bars on a terminal), so no stage knows about terminals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Progress(Protocol):
    """Wraps a stage's work items to show progress as they are taken (``label``: the stage; ``total``: how many)."""

    def __call__(self, items: Iterable[T], label: str, total: int) -> Iterable[T]: ...


def quietly(items: Iterable[T], label: str, total: int) -> Iterable[T]:
    """Shows nothing."""
    return items
