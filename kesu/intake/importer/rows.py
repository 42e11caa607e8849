"""The first stage of a batch, from the text alone: each row read and checked, then the
classifier, a first triage and the search tokens; in worker processes for large files."""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import django
import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kesu.accounts.models import Department, Role, Store, User
from kesu.complaints.forms import MAX_TEXT, OPERATING_ROLES
from kesu.complaints.models import Channel, Grade, Priority, State
from kesu.customers.contact import national_digits
from kesu.customers.models import Tier
from kesu.errors import InvalidInput
from kesu.intake.importer.files import _cell_text
from kesu.intake.importer.mapping import (
    ALIASES,
    EARLIEST,
    FUTURE_SKEW,
    IMPORTABLE_STATES,
    PARSED,
    TIMES,
    ImportMapping,
)
from kesu.intake.importer.sql import _name, _select
from kesu.intake.models import ImportedRow
from kesu.intake.services import IncomingComplaint, parse_incoming
from kesu.search.tokens import document_tokens
from kesu.triage import classifier
from kesu.triage import services as triage
from kesu.triage.engine import Facts, Prediction, Reading, assess
from kesu.triage.selectors import Setup, current

if TYPE_CHECKING:
    from kesu.intake.importer.writer import _NewCustomer

log = logging.getLogger(__package__)  # the package's logger, kesu.intake.importer


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row: as the user sees it in the file."""

    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class _Row:
    """A good row on its way in."""

    number: int
    source_id: str
    incoming: IncomingComplaint
    store: _Store | None
    received_at: datetime
    state: str
    closed_at: datetime | None
    resolution: str
    # Read from the text alone, in the first stage (_Preparer): the classifier's answer,
    # triage for a customer without history, the search tokens of the complaint's own words.
    prediction: Prediction | None = None
    reading: Reading | None = None
    tokens: str = ""
    phone_digits: str = ""
    # Who held it in the old system, as Kesu knows them (ids).
    department_id: int | None = None
    assignee_id: int | None = None
    # Decided in the batch's transaction.
    customer: int | _NewCustomer | None = None
    tier: str = Tier.REGULAR


@dataclass(frozen=True)
class _Store:
    id: int
    name_zh: str


def _choices(choices: Any) -> dict[str, str]:
    """A TextChoices' codes and its labels in both languages, to its code (case-insensitive)."""
    table: dict[str, str] = {}
    for code, label in choices.choices:
        table[str(code).lower()] = str(code)
        for language in ("en", "zh-hans"):
            with translation.override(language):
                table[str(label).strip().lower()] = str(code)
    return table


class _Reader:
    """Turns a file row into a _Row, or the problems that keep it out."""

    def __init__(self, mapping: ImportMapping, positions: dict[str, int], width: int) -> None:
        self.mapping = mapping
        self.positions = positions
        self.width = width
        self.now = timezone.now()
        self.stores: dict[str, _Store] = {}
        for pk, code, name_zh, name_en in Store.objects.values_list(
            "pk", "code", "name_zh", "name_en"
        ):
            store = _Store(pk, name_zh)
            for key in (name_en, name_zh, code):
                if key:
                    self.stores[key.lower()] = store
        # Departments by code or name, people by username or display name (one that two
        # people share is kept out: such a row must give the username): (id, active).
        self.departments: dict[str, tuple[int, bool]] = {}
        self.department_names: dict[int, str] = {}
        for pk, code, name_zh, name_en, active in Department.objects.values_list(
            "pk", "code", "name_zh", "name_en", "is_active"
        ):
            self.department_names[pk] = code
            for key in (name_en, name_zh, code):
                if key:
                    self.departments[key.lower()] = (pk, active)
        # With what the assign action checks (complaints.forms.AssignForm): who may hold a
        # case, and in which departments.
        users = list(User.objects.values_list("pk", "username", "display_name", "is_active",
                                              "role"))  # fmt: skip
        self.people: dict[str, tuple[int, bool] | None] = {}
        for pk, username, display_name, active, _role in users:
            key = display_name.strip().lower()
            if key and key != username.lower():
                self.people[key] = None if key in self.people else (pk, active)
        for pk, username, _display, active, _role in users:  # a username wins over a name
            self.people[username.lower()] = (pk, active)
        self.roles = {pk: role for pk, _u, _n, _a, role in users}
        self.names = {pk: username for pk, username, _n, _a, _r in users}
        self.members: dict[int, set[int]] = {}
        for user_id, department_id in User.departments.through.objects.values_list(
            "user_id", "department_id"
        ):
            self.members.setdefault(user_id, set()).add(department_id)
        self.codes = {
            "channel": {**_choices(Channel), **ALIASES["channel"]},
            "state": {**_choices(State), **ALIASES["state"]},
            "grade": _choices(Grade),
            "priority": _choices(Priority),
        }

    def read(self, number: int, cells: Sequence[Any]) -> tuple[str, _Row | list[Problem]]:
        """The row's source id ("" if it has none that can be used) and the row or its problems."""
        problems: list[Problem] = []
        mapping = self.mapping
        if self.width and len(cells) != self.width and any(_cell_text(c) for c in cells):
            reason = _(
                "This row has %(n)s values but the header has %(m)s columns (a line break "
                "or separator inside an unquoted value?)."
            )
            return "", [Problem(number, "", reason % {"n": len(cells), "m": self.width})]
        raw: dict[str, Any] = {}
        for name, position in self.positions.items():
            value = cells[position] if position < len(cells) else None
            timed = name in TIMES and isinstance(value, datetime)
            raw[name] = value if timed else _cell_text(value)
        for name, value in mapping.defaults.items():
            if not raw.get(name):
                raw[name] = value
        for name, table in mapping.values.items():
            value = raw.get(name)
            if isinstance(value, str) and value in table:
                raw[name] = table[value]
        for name in ("channel", "grade", "priority"):
            value = raw.get(name)
            if isinstance(value, str) and value:
                raw[name] = self.codes[name].get(value.lower(), value)

        def fail(name: str, reason: str) -> None:
            problems.append(Problem(number, mapping.column(name), reason))

        source_id = str(raw.get("source_id", ""))
        if not source_id:
            fail("source_id", _("This field is required."))
        elif len(source_id) > 100:
            fail("source_id", _("At most 100 characters."))
            source_id = ""
        received_at = self._when(raw.get("received_at"), "received_at", fail, required=True)
        closed_at = self._when(raw.get("closed_at"), "closed_at", fail)
        occurred = raw.get("occurred_at")
        if occurred:
            raw["occurred_at"] = self._when(occurred, "occurred_at", fail)
        state = self._state(raw.get("state"), closed_at, fail)
        if received_at and closed_at and closed_at < received_at:
            fail(
                "closed_at",
                _("Closed before it was received (%(received)s).")
                % {"received": received_at.astimezone(mapping.zone).strftime("%Y-%m-%d %H:%M")},
            )
        store = None
        store_name = str(raw.get("store") or "")
        if store_name:
            store = self.stores.get(store_name.lower())
            if store is None:
                fail("store", _("No store %(code)s.") % {"code": repr(store_name)})
        department_id = self._holder("department", raw, state, fail)
        assignee_id = self._holder("assignee", raw, state, fail)
        if assignee_id is not None:
            department_id = self._placed(department_id, assignee_id, state, fail)
        submission = {name: raw[name] for name in PARSED if raw.get(name) not in (None, "")}
        try:
            incoming = parse_incoming(submission, staff=True)
        except InvalidInput as error:
            incoming = None
            for wrong in error.errors:
                if wrong.field == "phone" and "phone" not in mapping.columns:
                    fail("email", wrong.message)
                else:
                    fail(wrong.field, wrong.message)
        if problems or incoming is None or received_at is None:
            return source_id, problems
        return source_id, _Row(
            number=number,
            source_id=source_id,
            incoming=incoming,
            store=store,
            received_at=received_at,
            state=state,
            closed_at=closed_at,
            resolution=str(raw.get("resolution") or "")[:MAX_TEXT],
            department_id=department_id,
            assignee_id=assignee_id,
        )

    def _placed(
        self, department_id: int | None, assignee_id: int, state: str, fail: Callable[..., None]
    ) -> int | None:
        """An open complaint's holder must be able to act on it where it is, as when assigned;
        history may show people since moved. A department not given is the holder's only one."""
        own = self.members.get(assignee_id, set())
        if department_id is None and len(own) == 1:
            department_id = next(iter(own))
        if state in (State.RESOLVED, State.CLOSED):
            return department_id
        user = self.names[assignee_id]
        if self.roles[assignee_id] not in OPERATING_ROLES:
            fail("assignee", _("%(user)s cannot hold complaints (role %(role)s).")
                 % {"user": user, "role": Role(self.roles[assignee_id]).label})  # fmt: skip
        elif department_id is None:
            fail("department", _("%(user)s belongs to several departments or none: name the "
                                 "department.") % {"user": user})  # fmt: skip
        elif self.roles[assignee_id] != Role.ADMIN and department_id not in own:
            fail("assignee", _("%(user)s is not a member of %(department)s.")
                 % {"user": user, "department": self.department_names[department_id]})  # fmt: skip
        return department_id

    def _holder(
        self, name: str, raw: dict[str, Any], state: str, fail: Callable[[str, str], None]
    ) -> int | None:
        """The department or person of a row, by code or name; history may name people who
        have left, but an open complaint needs ones who can act on it."""
        text = str(raw.get(name) or "").strip()
        if not text:
            return None
        table = self.departments if name == "department" else self.people
        if text.lower() not in table:
            if name == "department":
                fail(name, _("No department %(code)s.") % {"code": repr(text)})
            else:
                fail(name, _("No user %(name)s.") % {"name": repr(text)})
            return None
        found = table[text.lower()]
        if found is None:
            fail(name, _("Several people are called %(name)s: give the username.") % {
                "name": repr(text)})  # fmt: skip
            return None
        pk, active = found
        if not active and state not in (State.RESOLVED, State.CLOSED):
            fail(name, _("%(name)s is not active; an open complaint needs one who can act on it.")
                 % {"name": repr(text)})  # fmt: skip
            return None
        return pk

    def _when(
        self, value: Any, name: str, fail: Callable[[str, str], None], *, required: bool = False
    ) -> datetime | None:
        if value in (None, ""):
            if required:
                fail(name, _("This field is required."))
            return None
        when = value if isinstance(value, datetime) else self._parse_time(str(value))
        if when is None:
            fail(
                name,
                _('Not a date or time: %(value)s (give "date_format" in the mapping).')
                % {"value": repr(value)},
            )
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.mapping.zone)
        if when > self.now + FUTURE_SKEW:
            fail(name, _("This is in the future."))
            return None
        if when < EARLIEST:
            fail(name, _("Not a plausible date: %(value)s.") % {"value": repr(str(value))})
            return None
        return when

    def _parse_time(self, text: str) -> datetime | None:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
        for pattern in self.mapping.date_formats:
            try:
                return datetime.strptime(text, pattern)  # the zone is set by the caller
            except ValueError:
                continue
        return None

    def _state(
        self, value: Any, closed_at: datetime | None, fail: Callable[[str, str], None]
    ) -> str:
        text = str(value or "").strip()
        if not text:
            return State.CLOSED if closed_at else State.RECEIVED
        state = self.codes["state"].get(text.lower())
        if state is None or state not in IMPORTABLE_STATES:
            fail(
                "state",
                _(
                    "Unknown or unimportable state %(value)s; use one of: %(allowed)s "
                    '(or map it in "values").'
                )
                % {"value": repr(text), "allowed": ", ".join(IMPORTABLE_STATES)},
            )
            return State.RECEIVED
        return state


# --- The first stage, here or in worker processes -------------------------------------------------


@dataclass
class _Prepared:
    """A batch after the first stage: rows read, each row's source id, good rows, problems."""

    read: int
    ids: list[tuple[int, str]]  # (row number, source id) of every row read
    rows: list[_Row]
    problems: list[Problem]


class _Preparer:
    """The first stage of a batch, from the text alone: read and check the rows, ask the
    classifier, triage each as if its customer had no history, tokenise it for search.

    It writes nothing and reads little (which rows are already imported: a re-run reads no
    texts), so it runs in worker processes on large files while the importer's own process
    writes (_Workers).
    """

    def __init__(
        self, mapping: ImportMapping, positions: dict[str, int], width: int, triage: bool
    ) -> None:
        self.reader = _Reader(mapping, positions, width)
        self.source = mapping.source
        self.triage = triage

    def prepare(self, batch: list[tuple[int, Sequence[Any]]]) -> _Prepared:
        done = _Prepared(0, [], [], [])
        for number, cells in batch:
            if not any(c not in (None, "") for c in cells):
                continue  # an empty line is no row
            done.read += 1
            source_id, result = self.reader.read(number, cells)
            done.ids.append((number, source_id))
            if isinstance(result, _Row):
                done.rows.append(result)
            else:
                done.problems.extend(result)
        if self.triage and done.rows:
            # Rows imported before need no reading: the writer skips them. (One imported since
            # is read for nothing; the writer's own look is the one that counts.)
            there = _imported(self.source, [row.source_id for row in done.rows])
            _read_texts([row for row in done.rows if row.source_id not in there])
        return done


def _read_texts(rows: list[_Row]) -> None:
    """Each row's prediction, first triage and own search tokens (see _Row)."""
    if not rows:
        return
    setup: Setup = current()
    texts = [_text(row.incoming) for row in rows]
    predictions = _predict_all(
        [t for t, row in zip(texts, rows, strict=True) if not row.incoming.assessment.category]
    )
    for text, row in zip(texts, rows, strict=True):
        i = row.incoming
        row.prediction = None if i.assessment.category else next(predictions, None)
        row.reading = assess(_facts(row, text, (), Tier.REGULAR), setup, row.prediction)
        # What search.services.document_text() reads of the complaint itself, in its order.
        own = (i.subject, i.description, i.product, i.order_ref, i.demand_detail)
        row.tokens = " ".join(document_tokens(" ".join(part for part in own if part)))
        row.phone_digits = national_digits(i.phone) if i.phone else ""


def _imported(source: str, ids: Sequence[str]) -> set[str]:
    """Which of these source ids are imported already."""
    table = _name(ImportedRow)  # names from the model; the ids are parameters
    sql = f"SELECT source_id FROM {table} WHERE source = %s AND source_id {{values}}"  # noqa: S608
    return {source_id for (source_id,) in _select(sql, [source], ids)}


def _facts(row: _Row, text: str, earlier: tuple[datetime, ...], tier: str) -> Facts:
    a = row.incoming.assessment
    return Facts(
        text=text,
        amount=row.incoming.amount,
        tier=tier,
        earlier=earlier,
        at=row.received_at,
        nature=a.nature,
        category=a.category,
        grade=a.grade,
        priority=a.priority,
    )


# A worker process's preparer, made by its first batch (see _Workers).
_worker: _Preparer | None = None


def _prepare_in_worker(setup: tuple[Any, ...], batch: list[tuple[int, Sequence[Any]]]) -> _Prepared:
    global _worker
    if _worker is None:
        database, language, *preparer_args = setup
        # The importer's own database (a test's, say) for the triage setup and the model.
        connection.settings_dict["NAME"] = database
        translation.activate(language)
        _worker = _Preparer(*preparer_args)
    return _worker.prepare(batch)


class _Workers:
    """The first stage in worker processes, batches handed back in the file's order.

    Spawned, not forked: the importer may run inside a threaded server, and a child must not
    share its database connections. A few batches are in flight at a time, so a file of a
    million rows is never read ahead into memory.
    """

    def __init__(self, count: int, preparer_args: tuple[Any, ...]) -> None:
        language = translation.get_language() or settings.LANGUAGE_CODE
        self.setup = (connection.settings_dict["NAME"], language, *preparer_args)
        # Django is set up before this module is imported there (it imports models).
        self.pool = multiprocessing.get_context("spawn").Pool(count, initializer=django.setup)
        self.in_flight = 2 * count + 1

    def map(self, batches: Iterable[list[tuple[int, Sequence[Any]]]]) -> Iterator[_Prepared]:
        pending: deque[Any] = deque()
        try:
            for batch in batches:
                pending.append(self.pool.apply_async(_prepare_in_worker, (self.setup, batch)))
                if len(pending) >= self.in_flight:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()
        finally:
            self.pool.terminate()
            self.pool.join()


def _text(incoming: IncomingComplaint) -> str:
    return triage.text_of(incoming.subject, incoming.description, incoming.demand_detail)


def _predict_all(texts: list[str]) -> Iterator[Prediction | None]:
    """The active category classifier's answer for each text, read as one matrix.

    The same numbers as the one-text path (classifier.Loaded.predict), with scikit-learn's
    per-call overhead paid once per batch. No model, or a failing one: None for each.
    """
    try:
        loaded = classifier.active(triage.CATEGORY_MODEL)
        if loaded is None or not texts:
            return iter([None] * len(texts))
        matrix = loaded.pipeline.named_steps["features"].transform(texts).tocsr()
        scores = np.asarray(matrix @ loaded.coef.T) + loaded.intercept
        if scores.shape[1] == 1:  # two labels: one score, for the second
            scores = np.column_stack([-scores[:, 0], scores[:, 0]])
        z = loaded.scale * scores
        z -= z.max(axis=1, keepdims=True)
        probabilities = np.exp(z)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
    except Exception:  # a broken model must never cost an import
        log.exception("The category classifier failed; the import goes on without it.")
        return iter([None] * len(texts))
    return _predictions(loaded, matrix, probabilities)


def _predictions(
    loaded: classifier.Loaded, matrix: Any, probabilities: np.ndarray
) -> Iterator[Prediction]:
    for i in range(matrix.shape[0]):
        best = int(probabilities[i].argmax())
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        columns, values = matrix.indices[start:end], matrix.data[start:end].astype(np.float64)
        if not len(columns):
            yield Prediction(loaded.classes[best], 0.0, (), loaded.label)
            continue
        coef = loaded.coef
        weights = coef[0] * (1 if best == 1 else -1) if len(coef) == 1 else coef[best]
        contributions = values * weights[columns]
        order = np.argsort(-contributions)[:5]
        words = [loaded._term(int(columns[j])) for j in order if contributions[j] > 0]
        yield Prediction(
            loaded.classes[best],
            float(probabilities[i, best]),
            tuple(dict.fromkeys(w for w in words if w)),
            loaded.label,
        )
