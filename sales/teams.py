"""What assignment reads, as managers and admins set it: teams with their working hours and SLA,
the rules that route MQLs to teams, and the reps' profiles (team, capacity, absence)."""

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import available_timezones

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries as all_countries

from leadcrm.roles import Role, has_role
from leads.models import Industry
from sales import tasks
from sales.assignment import ASSIGNABLE_ROLES, DEFAULT_SLA_HOURS, _name, may_reassign
from sales.models import AssignmentRule, RepProfile, Team


def _check_calendar(
    *, workdays: list[int], day_starts: time, day_ends: time, time_zone: str, sla_hours: int
) -> None:
    errors = {}
    if not workdays or any(day not in range(7) for day in workdays):
        errors["workdays"] = _("Choose at least one working day.")
    if day_ends <= day_starts:
        errors["day_ends"] = _("The working day must end after it starts.")
    if time_zone not in available_timezones():
        errors["time_zone"] = _("“%(zone)s” is not a known time zone.") % {"zone": time_zone}
    if not 1 <= sla_hours <= 2000:
        errors["sla_hours"] = _("Enter a number of hours from 1 to 2000.")
    if errors:
        raise ValidationError(errors)


def _check_managers(managers: Sequence[AbstractBaseUser]) -> None:
    for user in managers:
        if not user.is_active or not has_role(user, Role.SALES_MANAGER, Role.ADMIN):
            raise ValidationError(
                {"managers": _("%(user)s is not a sales manager.") % {"user": _name(user)}}
            )


@transaction.atomic
def team_save(
    *,
    team_id: int | None = None,
    name: str,
    managers: Sequence[AbstractBaseUser] = (),
    workdays: Sequence[int] = (0, 1, 2, 3, 4),
    day_starts: time = time(9),
    day_ends: time = time(17),
    time_zone: str = "Europe/Berlin",
    sla_hours: int = DEFAULT_SLA_HOURS,
) -> Team:
    """Create a team (``team_id`` None) or change one."""
    name = name.strip()
    workdays = sorted(set(workdays))
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    _check_calendar(
        workdays=workdays,
        day_starts=day_starts,
        day_ends=day_ends,
        time_zone=time_zone,
        sla_hours=sla_hours,
    )
    _check_managers(managers)
    if Team.objects.filter(name__iexact=name).exclude(pk=team_id).exists():
        raise ValidationError({"name": _("Another team already has this name.")})
    team = Team() if team_id is None else Team.objects.select_for_update().get(pk=team_id)
    team.name, team.workdays, team.day_starts, team.day_ends = name, workdays, day_starts, day_ends
    team.time_zone, team.sla_hours = time_zone, sla_hours
    team.save()
    team.managers.set(managers)
    return team


@transaction.atomic
def team_delete(*, team_id: int) -> None:
    """Delete a team with its rules; its reps keep their leads and become team-less."""
    Team.objects.filter(pk=team_id).delete()


def _check_rule(*, name: str, countries: list[str], industries: list[str]) -> None:
    errors = {}
    if not name:
        errors["name"] = _("Enter a name.")
    unknown = [code for code in countries if code not in all_countries]
    if unknown:
        errors["countries"] = _("Unknown country codes: %(codes)s.") % {"codes": ", ".join(unknown)}
    unknown = [value for value in industries if value not in Industry.values or not value]
    if unknown:
        errors["industries"] = _("Unknown industries: %(values)s.") % {"values": ", ".join(unknown)}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def assignment_rule_save(
    *,
    rule_id: int | None = None,
    name: str,
    team: Team,
    position: int = 100,
    countries: Sequence[str] = (),
    industries: Sequence[str] = (),
    active: bool = True,
) -> AssignmentRule:
    """Create a rule (``rule_id`` None) or change one. Empty countries or industries: any."""
    name = name.strip()
    countries = sorted({code.strip().upper() for code in countries if code.strip()})
    industries = sorted(set(industries))
    _check_rule(name=name, countries=countries, industries=industries)
    rule = (
        AssignmentRule()
        if rule_id is None
        else AssignmentRule.objects.select_for_update().get(pk=rule_id)
    )
    rule.name, rule.team, rule.position, rule.active = name, team, position, active
    rule.countries, rule.industries, rule.updated_at = countries, industries, timezone.now()
    rule.save()
    return rule


@transaction.atomic
def assignment_rule_delete(*, rule_id: int) -> None:
    AssignmentRule.objects.filter(pk=rule_id).delete()


UNSET = object()
MAX_ABSENCE = timedelta(days=366)


@transaction.atomic
def rep_profile_update(
    *,
    user: AbstractBaseUser,
    by_user: AbstractBaseUser,
    team: Team | object | None = UNSET,
    capacity: int | object | None = UNSET,
    away: bool | object = UNSET,
    away_until: datetime | object | None = UNSET,
    notify_by_email: bool | object = UNSET,
) -> RepProfile:
    """Change what assignment knows about a rep; arguments left out stay as they are. Reps set
    their own absence and e-mail wish; managers and admins set anything for anyone. A rep who
    joins a team starts at the team's round-robin level (neither skipped nor flooded). A change
    that may make room (team, capacity, back from away) queues the retry of waiting MQLs."""
    manager = may_reassign(by_user)
    if not manager and (user.pk != by_user.pk or team is not UNSET or capacity is not UNSET):
        raise PermissionDenied(_("Only sales managers and admins change teams and capacity."))
    if (team is not UNSET or capacity is not UNSET or away is not UNSET) and (
        not user.is_active or not has_role(user, *ASSIGNABLE_ROLES)
    ):
        raise ValidationError({"user": _("Only sales reps and managers get leads.")})
    if capacity is not UNSET and capacity is not None and not 0 <= capacity <= 10_000:
        raise ValidationError({"capacity": _("Enter a number from 0 to 10000, or leave it empty.")})
    if away_until is not UNSET and away_until is not None:
        now = timezone.now()
        if timezone.is_naive(away_until):
            raise ValidationError({"away_until": _("Enter a date and time.")})
        if not now < away_until <= now + MAX_ABSENCE:
            raise ValidationError(
                {"away_until": _("Enter a time in the future, at most a year from now.")}
            )
    # The team row first, then the profile: the order leads_assign takes them in.
    if team is not UNSET and team is not None:
        team = Team.objects.select_for_update().get(pk=team.pk)
    profile, _created = RepProfile.objects.select_for_update().get_or_create(user=user)
    if team is not UNSET and team != profile.team:
        if team is not None:
            profile.assigned_count = team.level
        profile.team = team
    if capacity is not UNSET:
        profile.capacity = capacity
    if away is not UNSET:
        profile.away = away
        if not away:
            profile.away_until = None
    if away_until is not UNSET:
        profile.away_until = away_until
    if notify_by_email is not UNSET:
        profile.notify_by_email = notify_by_email
    profile.updated_at = timezone.now()
    profile.save()
    if team is not UNSET or capacity is not UNSET or away is False:
        # Maybe room for MQLs that wait: try them now rather than at the next beat.
        transaction.on_commit(tasks.mqls_place_waiting.delay)
    return profile
