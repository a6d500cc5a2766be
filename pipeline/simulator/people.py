"""Making synthetic accounts and their habits; shared by generation and day-by-day evolution."""

from __future__ import annotations

import math
import random
import uuid
import zlib
from datetime import datetime, timedelta

from pipeline.simulator.model import Org, SeatKey, User
from pipeline.simulator.names import (
    APP_NAMES,
    CUSTOMER_DOMAINS,
    DEPARTMENTS,
    JOB_TITLES,
    TIME_ZONES,
    UNMANAGED_DOMAINS,
    person,
    pick,
)

# Chance per day that one seat a user uses sees activity, by persona: (weekday, weekend).
DAILY_ACTIVITY = {
    "daily": (0.85, 0.08),
    "weekly": (0.25, 0.03),
    "monthly": (0.05, 0.005),
    "rare": (0.008, 0.002),
}
# Regular people's habits (weights). `never` only fits people who need no invite to be members (IdP sync).
PERSONA_WEIGHTS = {"daily": 45, "weekly": 18, "monthly": 10, "rare": 8, "dormant": 12, "never": 7}
# Share of a user's seats they actually use, besides their main one.
SEAT_USE_PERCENT = 75


def span(*, days: float = 0, hours: float = 0, seconds: float = 0) -> timedelta:
    """A random duration cut to whole seconds: every simulated time is a whole second, so the API's
    timestamps, the warehouse and the truth agree exactly."""
    return timedelta(seconds=int(days * 86400 + hours * 3600 + seconds))


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def new_account_id(rng: random.Random) -> str:
    """Real account ids are 24 lowercase hex (older accounts) or ``712020:<uuid>``."""
    if rng.random() < 0.6:
        return f"{rng.getrandbits(96):024x}"
    return f"712020:{new_uuid(rng)}"


def created_so_far(org: Org) -> int:
    """How many accounts the org has ever had: the index of the next one (keeps names and emails unique)."""
    return len(org.users) + len(org.removed_users)


def new_person(
    org: Org,
    rng: random.Random,
    k: int,
    added_to_org: datetime,
    *,
    unmanaged: bool = False,
    hidden_email: bool = False,
    customer: bool = False,
) -> User:
    """The k-th human (or customer) account of an org, with a profile; lifecycle fields left at defaults."""
    name, nickname, local = person(k)
    if customer:
        domain = pick(CUSTOMER_DOMAINS, local)
    elif unmanaged:
        domain = pick(UNMANAGED_DOMAINS, local)
    else:
        domain = org.domain
    managed = not (unmanaged or customer)
    return User(
        account_id=new_account_id(rng),
        account_type="customer" if customer else "atlassian",
        name=name,
        nickname=nickname,
        email=None if hidden_email else f"{local}@{domain}",
        email_verified=True,
        claim_status="managed" if managed else "unmanaged",
        management_source=None,
        platform_roles=[],
        mfa_enabled=rng.random() < (0.75 if managed else 0.3),
        added_to_org=added_to_org,
        job_title=None if customer else pick(JOB_TITLES, local),
        department=None if customer else pick(DEPARTMENTS, local + "/dept"),
        time_zone=pick(TIME_ZONES, local + "/tz"),
        persona="customer" if customer else "never",
    )


def new_app(rng: random.Random, number: int, added_to_org: datetime) -> User:
    """An app (bot) account: no email, never active in a product."""
    base = APP_NAMES[number % len(APP_NAMES)]
    round_ = number // len(APP_NAMES)
    name = base + (f" {round_ + 1}" if round_ else "")
    return User(
        account_id=new_account_id(rng),
        account_type="app",
        name=name,
        nickname=name,
        email=None,
        email_verified=False,
        claim_status="unmanaged",
        management_source=None,
        platform_roles=[],
        mfa_enabled=False,
        added_to_org=added_to_org,
        persona="bot",
    )


def draw_persona(rng: random.Random, *, may_be_never: bool) -> str:
    personas = [name for name in PERSONA_WEIGHTS if may_be_never or name != "never"]
    return rng.choices(personas, weights=[PERSONA_WEIGHTS[name] for name in personas])[0]


def accept_delay(rng: random.Random) -> timedelta:
    """Invite to first use: median ~8 hours, a long tail of days (capped at two weeks)."""
    hours = math.exp(rng.gauss(math.log(8), 1.3))
    return span(hours=min(14 * 24, max(0.2, hours)))


def uses_seat(user: User, seat: SeatKey, main: SeatKey) -> bool:
    """Whether a user ever uses this seat: their main one always, most others (stable, costs no RNG draw)."""
    if seat == main:
        return True
    key = f"{user.account_id}|{seat[0]}|{seat[1]}".encode()
    return zlib.crc32(key) % 100 < SEAT_USE_PERCENT


def main_seat(user: User, seats: set[SeatKey]) -> SeatKey | None:
    """The seat a user uses first and always: a stable choice among their seats."""
    if not seats:
        return None
    ordered = sorted(seats)
    return ordered[zlib.crc32(user.account_id.encode()) % len(ordered)]
