"""Rescoring after a rule change, set-based, one range of lead ids per transaction: the
preview (what would change, rolled back), the save (``rescoring_run``), ``rescore_all`` and the
nightly decay; the ledger side is ``scoring.ledger``'s."""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max, Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from leads import services as lead_services
from leads.lifecycle import Stage
from leads.models import Lead, LeadScore
from scoring import ledger, narrowing, proposals
from scoring.models import BehaviourRule, GradeRule, MqlReview, Rescoring, ScoringProfile
from scoring.services import (
    FIT_LOCK,
    MQL_RULE,
    PROMOTABLE,
    _classified_sql,
    _fit_and_score,
    _meets_mql,
    _write_lead_classes,
    active_profile,
)

# Leads per step of a set-based rescoring: one transaction, one step of the progress bar.
CHUNK_SIZE = 50_000
SAMPLE_SIZE = 10


def lead_id_ranges(*, size: int | None = None) -> list[tuple[int, int]]:
    """[lo, hi) ranges of lead ids covering every lead, ``size`` (CHUNK_SIZE) ids each."""
    size = size or CHUNK_SIZE
    bounds = Lead.objects.aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        return []
    return [
        (lo, min(lo + size, bounds["hi"] + 1)) for lo in range(bounds["lo"], bounds["hi"] + 1, size)
    ]


def _without_jit() -> None:
    """No JIT compilation for the rest of this transaction (PostgreSQL). A range's statements
    are estimated above ``jit_optimize_above_cost`` and ``jit_inline_above_cost``, so each was
    compiled with inlining and optimisation first, about 8 of a behaviour change's 28 s on
    1,000,000 leads (docs/benchmarks.md); they run once, and no faster compiled."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _lock_range(lead_range: tuple[int, int]) -> int | None:
    """Serialise with ``event_score`` and edits, which lock one lead first (SQLite locks the whole
    database for a write anyway); returns how many leads the range has (None on SQLite)."""
    if connection.vendor != "postgresql":
        return None
    table = connection.ops.quote_name(Lead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE "id" >= %s AND "id" < %s'
            f" FOR UPDATE) AS locked",
            list(lead_range),
        )
        return cursor.fetchone()[0]


# Rescoring: preview and apply ------------------------------------------------------------------


@dataclass
class Outcome:
    """What a rescoring changes (or would change): counts, grade moves and samples."""

    leads: int = 0
    grade_changed: int = 0
    rank_changed: int = 0
    temperature_changed: int = 0
    become_mql: int = 0
    flagged: int = 0
    grade_moves: dict[str, int] | None = None
    samples: list[dict] | None = None

    def add(self, other: "Outcome") -> None:
        for name in (
            "leads",
            "grade_changed",
            "rank_changed",
            "temperature_changed",
            "become_mql",
            "flagged",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        moves = dict(self.grade_moves or {})
        for move, count in (other.grade_moves or {}).items():
            moves[move] = moves.get(move, 0) + count
        self.grade_moves = moves
        self.samples = [*(self.samples or []), *(other.samples or [])][:SAMPLE_SIZE]

    def as_dict(self) -> dict:
        return {
            "leads": self.leads,
            "grade_changed": self.grade_changed,
            "rank_changed": self.rank_changed,
            "temperature_changed": self.temperature_changed,
            "become_mql": self.become_mql,
            "flagged": self.flagged,
            "grade_moves": dict(sorted((self.grade_moves or {}).items())),
            "samples": self.samples or [],
        }


# A pass over one range of leads is computed once into this temporary table, then counted,
# sampled and (when saving) written from it: the rules' CASE expressions run once per lead.
PASS_TABLE = "scoring_pass"
FIT_TABLE = "scoring_pass_fit"
BASE_COLUMNS = (
    "id",
    "stage",
    "grade",
    "rank",
    "temperature",
    "behaviour_score",
    "new_fit",
    "new_score",
)
# BASE_COLUMNS from LeadScore, and the stored fit points beside the new ones.
JOINED_COLUMNS = {
    "behaviour_score": F("score__behaviour_score"),
    "fit_points": F("score__fit_points"),
}


def _materialise(selection: QuerySet | tuple[str, list], profile: ScoringProfile) -> None:
    """Store a ``_fit_and_score`` selection (or the SQL of one: ``narrowing.selection_sql``),
    classified, in PASS_TABLE (this connection's own, temporary): first the costly fit and
    score, then grade to temperature from those columns."""
    if isinstance(selection, tuple):
        source_sql, source_params = selection
    else:
        own = [column for column in BASE_COLUMNS if column not in JOINED_COLUMNS]
        values = selection.values(*own, **JOINED_COLUMNS)
        source_sql, source_params = values.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PASS_TABLE}")
        cursor.execute(f"DROP TABLE IF EXISTS {FIT_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {FIT_TABLE} AS {source_sql}", source_params)
        sql, params = _classified_sql(f"SELECT * FROM {FIT_TABLE}", [], profile)
        cursor.execute(f"CREATE TEMPORARY TABLE {PASS_TABLE} AS {sql}", params)
        cursor.execute(f"DROP TABLE {FIT_TABLE}")


def _drop_pass() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PASS_TABLE}")


def _outcome(profile: ScoringProfile, *, samples: int) -> Outcome:
    """Compare the new values in PASS_TABLE with the stored ones, in SQL."""
    grades = list(profile.mql_grades)
    meets = f"(p.new_grade IN ({', '.join(['%s'] * len(grades))}) AND p.new_score >= %s)"
    meets_params = [*grades, profile.mql_min_score]
    promotable = "p.stage IN (%s, %s)"
    reviews = connection.ops.quote_name(MqlReview._meta.db_table)
    leads = connection.ops.quote_name(Lead._meta.db_table)

    def count(condition: str) -> str:
        return f"COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)"

    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT COUNT(*), {count("p.new_grade <> p.grade")}, {count("p.new_rank <> p.rank")},
                       {count("p.new_temperature <> p.temperature")},
                       {count(f"{promotable} AND {meets}")},
                       {count(f"p.stage = %s AND NOT {meets} AND r.id IS NULL")}
                FROM {PASS_TABLE} p LEFT JOIN {reviews} r ON r.lead_id = p.id""",
            [*PROMOTABLE, *meets_params, Stage.MQL, *meets_params],
        )
        row = cursor.fetchone()
        cursor.execute(
            f"""SELECT p.grade, p.new_grade, COUNT(*) FROM {PASS_TABLE} p
                WHERE p.new_grade <> p.grade GROUP BY p.grade, p.new_grade"""
        )
        moves = {f"{old}→{new}": n for old, new, n in cursor.fetchall()}
        rows = []
        if samples:
            cursor.execute(
                f"""SELECT p.id, l.first_name, l.last_name, l.email, p.stage, p.grade,
                           p.new_grade, p.rank, p.new_rank, p.temperature, p.new_temperature,
                           p.behaviour_score, p.new_score
                    FROM {PASS_TABLE} p JOIN {leads} l ON l.id = p.id
                    WHERE p.new_rank <> p.rank OR p.new_temperature <> p.temperature
                       OR ({promotable} AND {meets})
                    ORDER BY p.id LIMIT %s""",
                [*PROMOTABLE, *meets_params, samples],
            )
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return Outcome(
        leads=row[0],
        grade_changed=row[1],
        rank_changed=row[2],
        temperature_changed=row[3],
        become_mql=row[4],
        flagged=row[5],
        grade_moves=moves,
        samples=[
            {
                **sample,
                "behaviour_score": round(float(sample["behaviour_score"]), 2),
                "new_score": round(float(sample["new_score"]), 2),
            }
            for sample in rows
        ],
    )


def _verdicts_outside_pass(profile: ScoringProfile, lead_range: tuple[int, int]) -> tuple[int, int]:
    """The MQL rule and the review flags run over every lead of a range, classified again or
    not: of the leads not in PASS_TABLE (grade and score as stored), how many the save will
    promote and how many it will flag (what ``_outcome`` counts for those in it)."""
    grades = list(profile.mql_grades)
    meets = f'(l."grade" IN ({", ".join(["%s"] * len(grades))}) AND s."behaviour_score" >= %s)'
    meets_params = [*grades, profile.mql_min_score]
    leads = connection.ops.quote_name(Lead._meta.db_table)
    scores = connection.ops.quote_name(LeadScore._meta.db_table)
    reviews = connection.ops.quote_name(MqlReview._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT COALESCE(SUM(CASE WHEN l."stage" <> %s THEN 1 ELSE 0 END), 0),
                       COALESCE(SUM(CASE WHEN l."stage" = %s THEN 1 ELSE 0 END), 0)
                FROM {leads} l JOIN {scores} s ON s."lead_id" = l."id"
                WHERE l."id" >= %s AND l."id" < %s
                  AND NOT EXISTS (SELECT 1 FROM {PASS_TABLE} p WHERE p.id = l."id")
                  AND ((l."stage" IN (%s, %s) AND {meets})
                       OR (l."stage" = %s AND NOT {meets}
                           AND NOT EXISTS (SELECT 1 FROM {reviews} r WHERE r."lead_id" = l."id")))
            """,
            [
                Stage.MQL,
                Stage.MQL,
                *lead_range,
                *PROMOTABLE,
                *meets_params,
                Stage.MQL,
                *meets_params,
            ],
        )
        promoted, flagged = cursor.fetchone()
    return promoted, flagged


def _write_pass(*, refit: bool = True) -> int:
    """Write fit points (if computed again), grade, rank and temperature from PASS_TABLE where
    they changed; returns how many leads changed grade, rank or temperature."""
    scores = connection.ops.quote_name(LeadScore._meta.db_table)
    with connection.cursor() as cursor:
        if refit:
            cursor.execute(
                f"""UPDATE {scores} SET "fit_points" = p.new_fit FROM {PASS_TABLE} p
                    WHERE {scores}."lead_id" = p.id AND p.new_fit <> p.fit_points"""
            )
    # The pass holds the stored values too: the few leads that change are picked there, then
    # found by primary key.
    return _write_lead_classes(
        PASS_TABLE,
        [],
        changed="s.grade <> s.new_grade OR s.rank <> s.new_rank "
        "OR s.temperature <> s.new_temperature",
        candidates=(f"SELECT id FROM {PASS_TABLE} WHERE temperature <> new_temperature", ()),
    )


def _report_progress(rescoring: Rescoring, done: int, total: int) -> None:
    cache.set(f"scoring:rescoring:{rescoring.pk}", (done, total), timeout=24 * 3600)


def rescoring_progress(*, rescoring: Rescoring) -> tuple[int, int]:
    """(steps done, steps in all) of a running rescoring; (1, 1) once it has finished."""
    if rescoring.status in {Rescoring.Status.DONE, Rescoring.Status.FAILED}:
        return (1, 1)
    return cache.get(f"scoring:rescoring:{rescoring.pk}") or (0, 1)


@transaction.atomic
def rescoring_start(
    *, kind: str, proposal: dict, by_user: AbstractBaseUser, base_version: int | None = None
) -> Rescoring:
    """Validate a proposed profile (``scoring.proposals``) and queue its preview or its save.
    ``base_version`` is the version the user edited; a save over a newer one is refused."""
    from scoring import tasks

    profile = active_profile()
    cleaned = proposals.clean(proposal, profile=profile)
    base = profile.version if base_version is None else base_version
    if base != profile.version:
        raise ValidationError({"base_version": _stale_message()})
    rescoring = Rescoring.objects.create(
        profile=profile, kind=kind, base_version=base, proposal=cleaned, created_by=by_user
    )
    transaction.on_commit(lambda: tasks.rescoring_run.delay(rescoring.pk))
    return rescoring


def _stale_message() -> str:
    return _("Someone saved the scoring rules meanwhile. Reload them and make your change again.")


def rescoring_save_preview(*, preview_id: int, by_user: AbstractBaseUser) -> Rescoring:
    """Save exactly what a finished preview showed."""
    preview = Rescoring.objects.get(pk=preview_id, kind=Rescoring.Kind.PREVIEW)
    if preview.status != Rescoring.Status.DONE:
        raise ValidationError({"preview": _("The preview has not finished yet.")})
    return rescoring_start(
        kind=Rescoring.Kind.APPLY,
        proposal=preview.proposal,
        by_user=by_user,
        base_version=preview.base_version,
    )


def rescoring_run(*, rescoring_id: int) -> None:
    """Run a queued preview or save (the Celery task). A finished one is left alone; one that was
    interrupted (a worker lost) runs again: every step is idempotent."""
    with transaction.atomic():
        rescoring = Rescoring.objects.select_for_update().get(pk=rescoring_id)
        if rescoring.status in {Rescoring.Status.DONE, Rescoring.Status.FAILED}:
            return
        resumed = rescoring.status == Rescoring.Status.RUNNING
        rescoring.status = Rescoring.Status.RUNNING
        rescoring.started_at = rescoring.started_at or timezone.now()
        rescoring.save(update_fields=["status", "started_at"])
    try:
        if rescoring.kind == Rescoring.Kind.PREVIEW:
            outcome = _preview(rescoring)
        else:
            outcome = _apply(rescoring, resumed=resumed)
    except _Stale:
        _finish(rescoring, status=Rescoring.Status.FAILED, error=_stale_message())
        return
    except Exception as exc:
        _finish(rescoring, status=Rescoring.Status.FAILED, error=str(exc))
        raise
    _finish(rescoring, status=Rescoring.Status.DONE, result=outcome.as_dict())


class _Stale(Exception):
    pass


class _Rollback(Exception):
    pass


def _finish(rescoring: Rescoring, *, status: str, result: dict | None = None, error: str = ""):
    Rescoring.objects.filter(pk=rescoring.pk).update(
        status=status, result=result or {}, error=error, finished_at=timezone.now()
    )
    rescoring.status = status


def _preview(rescoring: Rescoring) -> Outcome:
    """Everything the save would do up to the point of writing leads, in a transaction that is
    rolled back; the new behaviour scores are computed, not stored, so no lead is locked."""
    outcome = Outcome()
    now = timezone.now()
    try:
        with _fit_lock(shared=True), transaction.atomic():
            _without_jit()
            profile = ScoringProfile.objects.select_for_update().get(pk=rescoring.profile_id)
            if profile.version != rescoring.base_version:
                raise _Stale
            written = proposals.write(profile=profile, proposal=rescoring.proposal, by_user=None)
            profile.refresh_from_db()
            grade_rules = list(profile.grade_rules.all())
            narrow = _narrows(written.profile_before, decay_all=written.decay_all, refit=False)
            ranges = lead_id_ranges()
            for done, lead_range in enumerate(ranges, start=1):
                # The preview derives the repointed rules' rows too: slower, but it needs no
                # stored score changed.
                ledger.ledger_rebuild(
                    rules=[*written.rebuild, *written.repoint],
                    lead_range=lead_range,
                    half_life_days=profile.half_life_days,
                    now=now,
                )
                lo, hi = lead_range
                in_range = Lead.objects.filter(id__gte=lo, id__lt=hi)
                score = ledger.decayed_score_of_lead(
                    half_life_days=profile.half_life_days, now=now, every_lead=written.decay_all
                )
                leads = in_range.count()
                every_lead = not narrow
                if narrow:
                    narrowing.changed_create()
                    narrowing.record_touched()
                    narrowing.record_fit_deltas(leads=in_range, fit_changes=written.fit_changes)
                    every_lead = narrowing.mostly_changed(leads_in_range=leads)
                    selection = narrowing.selection_sql(
                        lead_range=lead_range,
                        profile=profile,
                        before=written.profile_before,
                        score_sql=score.sql,
                        score_params=list(score.params),
                        every_lead=every_lead,
                    )
                else:
                    selection = _fit_and_score(in_range, grade_rules, score=score)
                _materialise(selection, profile)
                missing = SAMPLE_SIZE - len(outcome.samples or [])
                range_outcome = _outcome(profile, samples=missing)
                range_outcome.leads = leads
                if not every_lead:
                    promoted, flagged = _verdicts_outside_pass(profile, lead_range)
                    range_outcome.become_mql += promoted
                    range_outcome.flagged += flagged
                outcome.add(range_outcome)
                _drop_pass()
                ledger.drop_touched()
                narrowing.changed_drop()
                _report_progress(rescoring, done, len(ranges))  # as the save counts: when done
            raise _Rollback
    except _Rollback:
        pass
    return outcome


def _apply(rescoring: Rescoring, *, resumed: bool) -> Outcome:
    with _fit_lock(shared=False):
        return _apply_locked(rescoring, resumed=resumed)


@contextmanager
def _fit_lock(*, shared: bool) -> Iterator[None]:
    """``services.FIT_LOCK`` for the whole save (exclusive: no lead graded meanwhile, no other
    save) or preview (shared: it reads fit points as the rules in force left them)."""
    if connection.vendor != "postgresql":
        yield
        return
    suffix = "_shared" if shared else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_lock{suffix}(%s)", [FIT_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_unlock{suffix}(%s)", [FIT_LOCK])


def _apply_locked(rescoring: Rescoring, *, resumed: bool) -> Outcome:
    with transaction.atomic():
        profile = ScoringProfile.objects.select_for_update().get(pk=rescoring.profile_id)
        if resumed and profile.version == rescoring.base_version + 1:
            # Interrupted after the save: derive every ledger row again (exact, if slower).
            written = proposals.Written(
                rebuild=list(profile.behaviour_rules.all()), decay_all=True, refit=True
            )
        elif profile.version != rescoring.base_version:
            raise _Stale
        else:
            written = proposals.write(
                profile=profile, proposal=rescoring.proposal, by_user=rescoring.created_by
            )
    profile.refresh_from_db()
    return rescore_all(
        profile=profile,
        rebuild=written.rebuild,
        repoint=written.repoint,
        decay_all=written.decay_all,
        refit=written.refit,
        fit_changes=written.fit_changes,
        profile_before=written.profile_before,
        rescoring=rescoring,
    )


def rescore_all(
    *,
    profile: ScoringProfile | None = None,
    rebuild: list[BehaviourRule] | None = None,
    repoint: list[BehaviourRule] | None = None,
    decay_all: bool = True,
    refit: bool = True,
    rescoring: Rescoring | None = None,
    now: datetime | None = None,
    decay_stored: bool = False,
    samples: bool = True,
    fit_changes: list[proposals.FitChange] | None = None,
    profile_before: dict[str, Any] | None = None,
) -> Outcome:
    """Every lead, set-based, one id range per transaction: give the ledger rows of the
    ``repoint`` rules their rule's new points and derive those of the ``rebuild`` rules again,
    decay the scores to ``now`` (every lead's, or unless ``decay_all`` only those whose ledger
    changed: a rule change leaves the others' daily decay to the nightly job; with
    ``decay_stored``, from the stored scores without reading the ledger, as the nightly job does
    when no rule changed), compute fit points again (``refit``: from every grade rule; else
    moved by ``fit_changes``), write grade, rank and temperature, promote who now qualifies for
    MQL and flag MQLs that no longer do. Given the profile as it was (``profile_before``) and no
    score decayed anew, only the leads ``scoring.narrowing`` finds are classified again."""
    profile = profile or active_profile()
    grade_rules = list(profile.grade_rules.all())
    narrow = _narrows(profile_before, decay_all=decay_all or decay_stored, refit=refit)
    # Every lead classified again anyway (every score decays anew): its fit from every rule.
    refit = refit or (bool(fit_changes) and not narrow)
    ranges = lead_id_ranges()
    now = now or timezone.now()

    def rescore(lead_range: tuple[int, int]) -> Outcome:
        return _rescore_range(
            lead_range=lead_range,
            profile=profile,
            grade_rules=grade_rules,
            rebuild=rebuild or [],
            repoint=repoint or [],
            decay_all=decay_all,
            refit=refit,
            decay_stored=decay_stored,
            now=now,
            samples=SAMPLE_SIZE if samples else 0,
            fit_changes=(fit_changes or []) if narrow else [],
            profile_before=profile_before if narrow else None,
        )

    outcomes: dict[tuple[int, int], Outcome] = {}
    for lead_range, range_outcome in _each_range(ranges, rescore):
        outcomes[lead_range] = range_outcome
        if rescoring is not None:
            _report_progress(rescoring, len(outcomes), len(ranges))
    outcome = Outcome()
    for lead_range in ranges:  # in id order, so the samples are the first ranges' as before
        outcome.add(outcomes[lead_range])
    return outcome


def _each_range(
    ranges: list[tuple[int, int]], rescore: Callable[[tuple[int, int]], Outcome]
) -> Iterator[tuple[tuple[int, int], Outcome]]:
    """Each range and its outcome, as they finish. On PostgreSQL outside a transaction,
    LEADCRM_RESCORE_CONNECTIONS ranges at a time, each in a thread and so a connection of its
    own: the ranges hold disjoint leads, each its own transaction, and one connection keeps
    one core of the server busy. One after another on SQLite (one writer at a time) and inside
    a transaction (another connection could not see its rows; a test's, say)."""
    workers = min(settings.LEADCRM_RESCORE_CONNECTIONS, len(ranges))
    if connection.vendor != "postgresql" or connection.in_atomic_block or workers < 2:
        for lead_range in ranges:
            yield lead_range, rescore(lead_range)
        return

    def in_own_connection(lead_range: tuple[int, int]) -> Outcome:
        try:
            return rescore(lead_range)
        finally:
            connection.close()  # this thread's

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rescore") as pool:
        futures = {pool.submit(in_own_connection, lead_range): lead_range for lead_range in ranges}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:  # a range failed (or the caller stopped): start no other
            for future in futures:
                future.cancel()


@transaction.atomic
def _rescore_range(
    *,
    lead_range: tuple[int, int],
    profile: ScoringProfile,
    grade_rules: list[GradeRule],
    rebuild: list[BehaviourRule],
    repoint: list[BehaviourRule],
    decay_all: bool,
    refit: bool,
    decay_stored: bool,
    now: datetime,
    samples: int,
    fit_changes: list[proposals.FitChange],
    profile_before: dict[str, Any] | None,
) -> Outcome:
    """One range in one transaction; narrowed (``profile_before`` given) to the leads whose fit
    or score changes and those the new thresholds can move."""
    _without_jit()
    leads = _lock_range(lead_range)
    lo, hi = lead_range
    in_range = Lead.objects.filter(id__gte=lo, id__lt=hi)
    if narrow := profile_before is not None:
        narrowing.changed_create()
    if repoint:
        narrowing.repoint(
            rules=repoint,
            lead_range=lead_range,
            profile=profile,
            before=profile_before,
            now=now,
            adjust_scores=not decay_all,
        )
    ledger.ledger_rebuild(
        rules=rebuild, lead_range=lead_range, half_life_days=profile.half_life_days, now=now
    )
    if decay_stored and not rebuild:
        ledger.decay_stored_scores(
            lead_range=lead_range, half_life_days=profile.half_life_days, now=now
        )
    else:
        ledger.refresh_behaviour_scores(
            lead_range=lead_range,
            half_life_days=profile.half_life_days,
            now=now,
            every_lead=decay_all,
        )
    if leads is None:
        leads = in_range.count()
    if narrow:
        narrowing.record_touched()
        narrowing.record_fit_deltas(leads=in_range, fit_changes=fit_changes)
        scores = connection.ops.quote_name(LeadScore._meta.db_table)
        selection = narrowing.selection_sql(
            lead_range=lead_range,
            profile=profile,
            before=profile_before,
            score_sql=f'{scores}."behaviour_score"',
            score_params=[],
            every_lead=narrowing.mostly_changed(leads_in_range=leads),
        )
    elif refit:
        selection = _fit_and_score(in_range, grade_rules)
    else:  # an unchanged fit: as stored
        selection = in_range.order_by().annotate(
            new_fit=F("score__fit_points"), new_score=F("score__behaviour_score")
        )
    _materialise(selection, profile)
    outcome = _outcome(profile, samples=samples)
    outcome.leads = leads
    _write_pass(refit=refit or bool(fit_changes))
    # Bounded on the score table's side too: the MQL verdicts read the range's high scores.
    scored_in_range = in_range.filter(score__lead_id__gte=lo, score__lead_id__lt=hi)
    outcome.become_mql = lead_services.leads_transition_by_rule(
        leads=scored_in_range.filter(stage__in=PROMOTABLE).filter(_meets_mql(profile)),
        to_stage=Stage.MQL,
        by_rule=MQL_RULE,
    )
    outcome.flagged = _flag_cooled_mqls(scored_in_range, profile)
    _drop_pass()
    ledger.drop_touched()
    narrowing.changed_drop()
    return outcome


def _narrows(profile_before: dict[str, Any] | None, *, decay_all: bool, refit: bool) -> bool:
    """Whether a rescoring can classify only the leads ``scoring.narrowing`` finds: it knows the
    profile as it was, and no score is decayed anew nor every fit computed again."""
    return profile_before is not None and not decay_all and not refit


def _flag_cooled_mqls(leads: QuerySet[Lead], profile: ScoringProfile) -> int:
    """MQLs below the MQL condition are put up for review, not moved back; a flag whose lead
    qualifies again is withdrawn."""
    MqlReview.objects.filter(lead__in=leads.filter(_meets_mql(profile))).delete()
    below = leads.filter(stage=Stage.MQL, mql_review__isnull=True).exclude(_meets_mql(profile))
    flagged = MqlReview.objects.bulk_create(
        MqlReview(lead_id=lead_id, behaviour_score=round(score, 2), grade=grade)
        for lead_id, score, grade in below.values_list("id", "score__behaviour_score", "grade")
    )
    return len(flagged)


def leads_refresh_decay() -> dict[str, int]:
    """Nightly, set-based: decayed scores as of now for every lead (from the stored ones), then
    rank and temperature from them and the stored fit (fit changes with a lead's or company's
    edit, when it is computed at once), then the MQL rule; MQLs that cooled below the MQL
    condition are flagged for review."""
    outcome = rescore_all(profile=active_profile(), decay_stored=True, refit=False, samples=False)
    return {
        "ranks_changed": outcome.rank_changed,
        "promoted": outcome.become_mql,
        "flagged": outcome.flagged,
    }
