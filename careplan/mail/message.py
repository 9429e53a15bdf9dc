"""Building e-mails that cannot carry injected headers, and their iCalendar part."""
from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from functools import lru_cache
from email._policybase import Compat32
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr

from flask_mailman import EmailMultiAlternatives
from icalendar import Calendar, Event, Timezone, vCalAddress

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


def one_line(text: str) -> str:
    """Any line break or control character becomes a space: names and subjects stay one header line."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip("> ") or "localhost"


class _Lines(Compat32):
    """The library's policy (compat32), but a short one-line ASCII header is written as it is: passing each
    through email.header.Header, which returns it unchanged, was a tenth of an e-mail's CPU in the
    dispatcher (issue 19). Anything longer or not ASCII is folded and encoded as before."""

    def _fold(self, name, value, sanitize):
        if (isinstance(value, str) and value.isascii() and len(name) + len(value) + 2 <= self.max_line_length
                and not _CONTROL.search(value)):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


_LINES = _Lines()


class ClinicEmail(EmailMultiAlternatives):
    """Flask-Mailman encodes a non-ASCII subject without counting "Subject: ", so the header folds before
    its first word and readers show the subject with a leading space ("Rappel" for a French patient). The
    encoded words are made here knowing the header's name; `subject` stays readable for the outbox.

    Each multipart gets its boundary here, random (128 bits, so never in a part's text): the generator's
    own makes a new regular expression per part to check its text for it."""

    def message(self, *args, **kwargs):
        readable = self.subject
        if not readable.isascii():
            self.subject = " ".join(Header(readable, "utf-8", header_name="Subject").encode().split())
        try:
            message = super().message(*args, **kwargs)
        finally:
            self.subject = readable
        message.policy = _LINES
        for part in message.walk():
            if part.is_multipart():
                part.set_boundary(f"==============={secrets.token_hex(16)}==")
        return message


def build(*, kind: str, message_id: str, sender: str, to_name: str, to_email: str, subject: str,
          text: str, html: str, calendar: str | None = None,
          calendar_method: str | None = None) -> ClinicEmail:
    """A Flask-Mailman message: text and HTML alternatives, and the iCalendar part when given. Names and
    subjects are made one line here; Flask-Mailman refuses any header with a line break, a second guard."""
    message = ClinicEmail(
        subject=one_line(subject), body=text, from_email=sender,
        to=[formataddr((one_line(to_name), one_line(to_email)))],
        headers={"Message-ID": message_id, "X-Careplan-Kind": kind})
    message.attach_alternative(html, "text/html")
    if calendar is not None:
        part = MIMEText(calendar, "calendar", "utf-8")
        part.set_param("method", calendar_method or "PUBLISH")
        part.add_header("Content-Disposition", "attachment", filename="appointment.ics")
        message.attach(part)
    return message


def calendar(events: list[dict], *, method: str, organizer: str, attendee: str, stamp: datetime) -> str:
    """A VCALENDAR of the given events; each needs uid, sequence, start, end (aware, clinic zone), summary,
    location and cancelled."""
    cal = Calendar()
    cal.add("prodid", "-//careplan//appointments//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    for item in events:
        event = Event()
        event.add("uid", item["uid"])
        event.add("sequence", item["sequence"])
        event.add("dtstamp", stamp)
        event.add("dtstart", item["start"])
        event.add("dtend", item["end"])
        event.add("summary", one_line(item["summary"]))
        if item["location"]:
            event.add("location", one_line(item["location"]))
        event.add("status", "CANCELLED" if item["cancelled"] else "CONFIRMED")
        event.add("organizer", vCalAddress(f"mailto:{organizer}"))
        event.add("attendee", vCalAddress(f"mailto:{attendee}"))
        cal.add_component(event)
    # VTIMEZONE blocks for the TZIDs used, so calendars place the event right across DST; the rules of the
    # years around the events suffice (the default spans 1970-2038 and would bloat every e-mail).
    first_year = min(e["start"] for e in events).year - 1
    last_year = max(e["end"] for e in events).year + 1
    zones = "".join(vtimezone_text(tzid, first_year, last_year) for tzid in sorted(cal.get_missing_tzids()))
    # Spliced in as text where add_component would have put them (before the first event): serialising the
    # zone's transitions again for every e-mail was 40% of building the calendar part (issue 19).
    text = cal.to_ical().decode()
    at = text.find("BEGIN:VEVENT\r\n")
    return text[:at] + zones + text[at:] if zones and at >= 0 else text


@lru_cache(maxsize=32)
def vtimezone_text(tzid: str, first_year: int, last_year: int) -> str:
    """The VTIMEZONE block of `vtimezone`, serialised once per process ("" for an unknown zone)."""
    zone = vtimezone(tzid, first_year, last_year)
    return zone.to_ical().decode() if zone is not None else ""


@lru_cache(maxsize=32)
def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone | None:
    """A zone's VTIMEZONE over whole years, built once per process: working out the transitions took most
    of the time of composing an e-mail (the dispatcher composes thousands)."""
    try:
        return Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31))
    except ValueError:
        return None
