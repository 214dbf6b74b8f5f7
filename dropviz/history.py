"""A run's scalar metrics, one row per recorded frame, in bounded memory; and the one rule that thins rows for a chart.

A History keeps its last `recent` rows in full. Older rows are thinned: each row has a number (0 for the first
row recorded, then 1, 2, ...), and of the rows that leave the recent window only those whose number is a
multiple of `stride` stay. When more than `older` of them have piled up, the stride doubles and every other one
goes. Row 0 is a multiple of every stride, so the first row always stays; the last row is always recent.
Some rows stay whatever their number: both rows around a change of p (the last with the old p and the first with
the new one, so a chart bends exactly at the marker) and any row appended with pin=True (the Trainer pins a
diverged frame).

So a History holds at most recent + older + (pinned) rows however long the run, and every row it holds is a row
that was recorded: nothing is averaged or interpolated. At the defaults, and about 250 bytes a row, that is
about 2 MB per Trainer.

A row reads like the dict it replaces (row["test_loss"], row.get("p"), dict(row), row == {...}) in half the memory.
"""
from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping, Sequence

KEYS = ("step", "p", "train_loss", "clean_train_loss", "test_loss", "train_acc", "test_acc")
_KEY_SET = frozenset(KEYS)
RECENT = 5000  # rows kept in full: at 25 iterations per frame the last 125,000 iterations, at 1 the last 5,000
OLDER = 4000   # thinned rows before the stride doubles


class Row(Mapping):
    """The scalar metrics of one recorded frame, read by key: row["test_loss"]."""
    __slots__ = KEYS

    def __init__(self, step: int, p: float, train_loss: float, clean_train_loss: float, test_loss: float,
                 train_acc: float, test_acc: float):
        self.step, self.p = step, p
        self.train_loss, self.clean_train_loss, self.test_loss = train_loss, clean_train_loss, test_loss
        self.train_acc, self.test_acc = train_acc, test_acc

    @classmethod
    def of(cls, source) -> Row:
        """The row of anything with these attributes (a Frame)."""
        return cls(*(getattr(source, key) for key in KEYS))

    def __getitem__(self, key: str):
        if key not in _KEY_SET:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(KEYS)

    def __len__(self) -> int:
        return len(KEYS)

    def __repr__(self) -> str:
        return f"Row({dict(self)!r})"


class History(Sequence):
    """Rows in the order recorded: the recent ones in full, older ones thinned (see the module's docstring)."""

    def __init__(self, recent: int = RECENT, older: int = OLDER):
        if recent < 1 or older < 1:
            raise ValueError(f"recent={recent}, older={older}: both must be at least 1")
        self.recent, self.older = recent, older
        self.stride = 1                      # the older rows kept: numbers that are multiples of it
        self._recent: deque[Row] = deque()   # the last `recent` rows
        self._older: list[Row] = []          # thinned rows before them, oldest first
        self._numbers: list[int] = []        # the numbers of the rows in _older
        self._pinned: set[int] = set()       # numbers of rows that are never thinned out
        self._thinnable = 0                  # rows in _older that are not pinned
        self._count = 0                      # rows ever appended: the next row's number

    @property
    def recorded(self) -> int:
        """How many rows were ever appended (len() is how many are kept)."""
        return self._count

    def append(self, row: Row, pin: bool = False) -> None:
        number = self._count
        if self._recent and row["p"] != self._recent[-1]["p"]:
            self._pinned.update((number - 1, number))  # the previous row is still recent: it can still be pinned
        if pin:
            self._pinned.add(number)
        self._recent.append(row)
        self._count += 1
        if len(self._recent) > self.recent:
            self._retire(self._count - len(self._recent), self._recent.popleft())

    def drop_after(self, step: int) -> None:
        """Forget the rows recorded after iteration `step` (a run gone back to it: dropviz/live/session.py rewinds
        one to the frame its browser showed). Only recent rows can go; older ones raise ValueError."""
        while self._recent and self._recent[-1]["step"] > step:
            self._recent.pop()
            self._count -= 1
            self._pinned.discard(self._count)
        if self._older and self._older[-1]["step"] > step and not self._recent:
            raise ValueError(f"rows after iteration {step} are no longer recent: a History forgets only recent rows")

    def _retire(self, number: int, row: Row) -> None:
        """A row leaves the recent window: it stays, thinned, or goes."""
        pinned = number in self._pinned
        if not pinned and number % self.stride:
            return
        self._older.append(row)
        self._numbers.append(number)
        if pinned:
            return
        self._thinnable += 1
        while self._thinnable > self.older:  # pinned rows can keep a halving from halving: then again
            self.stride *= 2
            keep = [i for i, n in enumerate(self._numbers) if n % self.stride == 0 or n in self._pinned]
            self._older = [self._older[i] for i in keep]
            self._numbers = [self._numbers[i] for i in keep]
            self._thinnable = sum(n not in self._pinned for n in self._numbers)

    def __len__(self) -> int:
        return len(self._older) + len(self._recent)

    def __iter__(self):
        return itertools.chain(self._older, self._recent)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(self)[index]
        n, k = len(self), len(self._older)
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError(f"History index {index} out of range for {n} rows")
        return self._older[i] if i < k else self._recent[i - k]

    def __repr__(self) -> str:
        return f"History({len(self)} of {self._count} rows, stride {self.stride})"


def thin(rows: Sequence, max_points: int) -> list:
    """At most max_points (at least 2) of `rows`, for a chart: the first and every k-th after it (k a power of
    two, so the rows kept stay put as rows are added), and the last. Rows, never averages."""
    if max_points < 2:
        raise ValueError(f"max_points={max_points} is out of range: expected at least 2")
    n = len(rows)
    if n <= max_points:
        return list(rows)
    stride = 2
    while (n - 1) // stride + 2 > max_points:
        stride *= 2
    kept = list(rows[::stride])
    if (n - 1) % stride:
        kept.append(rows[-1])
    return kept
