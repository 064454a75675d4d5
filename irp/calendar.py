"""Deadline arithmetic over a business-day calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from models.policy import WEEKDAYS, Calendar, Duration


def is_business_day(day: date, calendar: Calendar) -> bool:
    """Tell whether a date is neither a weekend day nor a holiday."""
    return WEEKDAYS[day.weekday()] not in calendar.weekend and day not in calendar.holidays


def add_duration(start: datetime, duration: Duration, calendar: Calendar) -> datetime:
    """Return the instant a duration after `start`; business days keep the local time of day."""
    if not duration.business_days:
        return start + duration.length

    zone = ZoneInfo(calendar.time_zone)
    local = start.astimezone(zone)
    day = local.date()
    remaining = duration.business_days
    while remaining:
        day += timedelta(days=1)
        if is_business_day(day, calendar):
            remaining -= 1
    wall_clock = datetime.combine(day, local.timetz().replace(tzinfo=None))
    return wall_clock.replace(tzinfo=zone).astimezone(start.tzinfo)


def fraction_of(start: datetime, due: datetime, fraction: float) -> datetime:
    """Return the instant a fraction of the way from `start` to `due`."""
    return start + (due - start) * fraction
