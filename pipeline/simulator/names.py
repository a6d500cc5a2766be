"""Names, emails and other profile text for synthetic people, apps and orgs.

Unicode names are deliberate (José Müller, Zoë Łukasz, 李雷, Ñandú …): exports and BI tools must survive
them. Emails are ASCII and unique per org by construction: the k-th person created in an org gets the k-th
name of a fixed permutation, with a numeric suffix once the permutation wraps.
"""

from __future__ import annotations

import unicodedata
import zlib

FIRST_NAMES = (
    "José", "Zoë", "Łukasz", "Ñandú", "Søren", "Ólafur", "Małgorzata", "Chloé", "Anaïs", "Björn",
    "Jürgen", "François", "Renée", "Ines", "Priya", "Aarav", "Amara", "Kwame", "Mateo", "Sofía",
    "Hannah", "Oliver", "Emma", "Noah", "Ava", "Liam", "Mia", "Lucas", "Isla", "Ethan",
    "Grace", "Jack", "Ruby", "Leo", "Freya", "Oscar", "Nora", "Felix", "Elena", "Marco",
    "Giulia", "Dmitri", "Katarzyna", "Tomasz", "Aoife", "Siobhán", "Ciarán", "Niamh", "Raúl", "Adaeze",
    "Chidi", "Fatima", "Omar", "Yusuf", "Leila", "Tariq", "Ingrid", "Astrid", "Håkon", "Mikael",
    "Camille", "Théo", "Léa", "Hugo", "Sven", "Pernille", "Dagný", "Ngozi", "Thandiwe", "Sipho",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "García", "Łukasiewicz", "Nguyễn", "Dvořák", "Çelik", "Øvergaard", "Fernández", "O'Brien",
    "Schröder", "Kowalski", "Novák", "Petersen", "Johansson", "Rossi", "Bianchi", "Smith", "Jones",
    "Taylor", "Brown", "Williams", "Wilson", "Patel", "Sharma", "Okafor", "Mensah", "Haddad", "Khan",
    "Silva", "Santos", "Pereira", "Costa", "Dubois", "Lefèvre", "Moreau", "Jakobsen", "Lindqvist",
    "Virtanen", "Mäkinen", "Kaya", "Yılmaz", "Papadakis", "Ivanova", "Horváth", "Nagy", "Murphy",
    "Kelly", "Byrne", "Walsh", "Reyes", "Cruz", "Morales", "Ortiz", "Ramírez", "Adeyemi", "Abubakar",
    "Van der Berg", "De Vries", "Janssen", "Bakker", "Andrés", "Núñez", "Eriksen", "Strøm", "Åberg",
    "Sánchez", "Zieliński", "Wójcik", "Lewandowski", "Kristiansen", "Fitzgerald",
)  # fmt: skip
# Names that are not "first last" in Latin script: (display name, nickname, ASCII email local part).
WHOLE_NAMES = (
    ("李雷", "雷", "lei-li"),
    ("韩梅梅", "梅梅", "meimei-han"),
    ("王芳", "芳", "fang-wang"),
    ("山田太郎", "太郎", "taro-yamada"),
    ("佐藤花子", "花子", "hanako-sato"),
    ("김민준", "민준", "minjun-kim"),
    ("Нина Петрова", "Нина", "nina-petrova"),
    ("Αλέξης Παπαδόπουλος", "Αλέξης", "alexis-papadopoulos"),
    ("أحمد حسن", "أحمد", "ahmed-hassan"),
    ("Ñandú", "Ñandú", "nandu"),
)
# Every 13th person gets a whole name; the rest a first/last combination.
_WHOLE_EVERY = 13
_COMBINATIONS = len(FIRST_NAMES) * len(LAST_NAMES)
# A multiplier coprime with the number of combinations spreads consecutive people over the name space.
_STRIDE = 1009

APP_NAMES = (
    "Jira Automation", "Okta SCIM Provisioning", "Slack for Jira", "GitHub for Jira", "Tempo Timesheets",
    "Zapier", "Jenkins CI", "Opsgenie Integration", "Statuspage Bot", "Confluence Analytics",
    "ScriptRunner", "Microsoft Teams for Jira",
)  # fmt: skip
CUSTOMER_DOMAINS = ("client-corp.com", "example-customer.org", "kunde.de")
UNMANAGED_DOMAINS = ("gmail.com", "outlook.com", "proton.me", "yahoo.co.uk")
ORG_NAMES = ("Acme Robotics", "Globex Corporation", "Initech", "Umbrella Health", "Stark Logistics")

JOB_TITLES = (
    "Software Engineer", "Senior Software Engineer", "Engineering Manager", "Product Manager",
    "Designer", "Support Agent", "Support Lead", "Marketing Specialist", "Accountant", "Data Analyst",
    "QA Engineer", "Technical Writer", "Site Reliability Engineer", "Sales Executive", None,
)  # fmt: skip
DEPARTMENTS = ("Engineering", "Product", "Design", "Support", "Marketing", "Finance", "Sales", None)
TIME_ZONES = (
    "Europe/Berlin", "Europe/London", "Europe/Warsaw", "America/New_York", "America/Los_Angeles",
    "America/Sao_Paulo", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney", "Africa/Lagos", None,
)  # fmt: skip
# Where admins work from (audit event locations). IPs are from documentation ranges (RFC 5737).
LOCATIONS = (
    ("Sydney", "Australia"),
    ("Berlin", "Germany"),
    ("São Paulo", "Brazil"),
    ("Austin", "United States"),
    ("Bengaluru", "India"),
    ("Kraków", "Poland"),
    ("Tokyo", "Japan"),
)

_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "đ": "d", "ı": "i"})


def ascii_slug(text: str) -> str:
    """ASCII for an email: ``"Łukasiewicz"`` → ``"lukasiewicz"``, ``"Van der Berg"`` → ``"vanderberg"``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(char for char in decomposed if char.isascii() and char.isalnum()).lower()


def person(k: int) -> tuple[str, str, str]:
    """(display name, nickname, email local part) of the k-th person created in an org; unique local part."""
    if k % _WHOLE_EVERY == 0:
        round_, index = divmod(k // _WHOLE_EVERY, len(WHOLE_NAMES))
        name, nickname, local = WHOLE_NAMES[index]
        return name, nickname, local + (str(round_ + 1) if round_ else "")
    latin = k - k // _WHOLE_EVERY - 1  # the how-many-th Latin name this is
    round_, combination = divmod(latin, _COMBINATIONS)
    spread = (combination * _STRIDE) % _COMBINATIONS
    first = FIRST_NAMES[spread % len(FIRST_NAMES)]
    last = LAST_NAMES[spread // len(FIRST_NAMES)]
    local = f"{ascii_slug(first)}.{ascii_slug(last)}" + (str(round_ + 1) if round_ else "")
    return f"{first} {last}", first, local


def pick(options: tuple, key: str):
    """A stable choice keyed by a string (for attributes that must not consume RNG draws)."""
    return options[zlib.crc32(key.encode()) % len(options)]
