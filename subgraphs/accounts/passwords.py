"""The password policy applied at registration, and hashing.

A password is refused, before anything is hashed, when it is

- longer than MAX_LENGTH characters (argon2 would hash a megabyte just as
  willingly; nobody types more than this),
- only whitespace, or shorter than MIN_LENGTH characters,
- weak (`is_common`): it has no letter, or, read without case, accents and
  look-alike letters (a Cyrillic "a" for a Latin one), it is one of the 30,000
  most common passwords of zxcvbn's list (the `passwords` frequency list of
  the zxcvbn package, MIT licence, itself drawn from leaked password corpora),
  a run of the alphabet or a keyboard row ("abcdef", "qwertyuiop"), or one
  character repeated -- as it is, without the digits, symbols and spaces at
  its ends ("Password1234!"), with only its letters ("dragon.dragon",
  "pass-word"), or repeated ("Monkeymonkey1!").

zxcvbn's own score is not used: it costs seconds of CPU for a 128-character
random password, and rates some of the above as strong.

The policy applies when a password is chosen; existing hashes are not
re-checked, so accounts made before it keep signing in.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 128
# A sign-in with a longer password cannot match any account made under the policy;
# it is refused without hashing. Looser than MAX_LENGTH so that no password chosen
# before the policy existed is locked out (bar absurd ones).
MAX_LOGIN_LENGTH = 1024

# Cyrillic, Greek, Armenian and Latin letters drawn like a Latin letter in common
# fonts, by name: a customer (or a password list reused with a homoglyph swapped in)
# gains nothing from them. Both cases are listed because they are mapped before case
# folding (the Greek capital mu looks like "M", its lower case does not).
_LOOK_ALIKE_NAMES: dict[str, tuple[str, ...]] = {
    "A": ("CYRILLIC CAPITAL LETTER A", "GREEK CAPITAL LETTER ALPHA"),
    "B": ("CYRILLIC CAPITAL LETTER VE", "GREEK CAPITAL LETTER BETA"),
    "E": ("CYRILLIC CAPITAL LETTER IE", "GREEK CAPITAL LETTER EPSILON"),
    "H": ("CYRILLIC CAPITAL LETTER EN", "GREEK CAPITAL LETTER ETA", "CYRILLIC CAPITAL LETTER SHHA"),
    "I": (
        "CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I",
        "GREEK CAPITAL LETTER IOTA",
        "CYRILLIC LETTER PALOCHKA",
    ),
    "J": ("CYRILLIC CAPITAL LETTER JE", "GREEK CAPITAL LETTER YOT"),
    "K": ("CYRILLIC CAPITAL LETTER KA", "GREEK CAPITAL LETTER KAPPA"),
    "M": ("CYRILLIC CAPITAL LETTER EM", "GREEK CAPITAL LETTER MU"),
    "N": ("GREEK CAPITAL LETTER NU",),
    "O": (
        "CYRILLIC CAPITAL LETTER O",
        "GREEK CAPITAL LETTER OMICRON",
        "ARMENIAN CAPITAL LETTER OH",
    ),
    "P": ("CYRILLIC CAPITAL LETTER ER", "GREEK CAPITAL LETTER RHO"),
    "Q": ("CYRILLIC CAPITAL LETTER QA",),
    "S": ("CYRILLIC CAPITAL LETTER DZE",),
    "T": ("CYRILLIC CAPITAL LETTER TE", "GREEK CAPITAL LETTER TAU"),
    "W": ("CYRILLIC CAPITAL LETTER WE",),
    "X": ("CYRILLIC CAPITAL LETTER HA", "GREEK CAPITAL LETTER CHI"),
    "Y": (
        "CYRILLIC CAPITAL LETTER U",
        "GREEK CAPITAL LETTER UPSILON",
        "CYRILLIC CAPITAL LETTER STRAIGHT U",
    ),
    "Z": ("GREEK CAPITAL LETTER ZETA",),
    "a": ("CYRILLIC SMALL LETTER A", "GREEK SMALL LETTER ALPHA", "LATIN SMALL LETTER ALPHA"),
    "c": ("GREEK LUNATE SIGMA SYMBOL", "CYRILLIC SMALL LETTER ES"),
    "d": ("CYRILLIC SMALL LETTER KOMI DE",),
    "e": ("CYRILLIC SMALL LETTER IE", "GREEK SMALL LETTER EPSILON"),
    "g": ("LATIN SMALL LETTER SCRIPT G",),
    "h": ("CYRILLIC SMALL LETTER SHHA",),
    "i": (
        "CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I",
        "GREEK SMALL LETTER IOTA",
        "LATIN SMALL LETTER DOTLESS I",
        "LATIN SMALL LETTER IOTA",
    ),
    "j": ("CYRILLIC SMALL LETTER JE", "GREEK LETTER YOT", "LATIN SMALL LETTER DOTLESS J"),
    "k": ("CYRILLIC SMALL LETTER KA", "GREEK SMALL LETTER KAPPA"),
    "l": ("CYRILLIC SMALL LETTER PALOCHKA",),
    "n": ("GREEK SMALL LETTER ETA", "ARMENIAN SMALL LETTER VO"),
    "o": ("CYRILLIC SMALL LETTER O", "GREEK SMALL LETTER OMICRON", "ARMENIAN SMALL LETTER OH"),
    "p": ("CYRILLIC SMALL LETTER ER", "GREEK SMALL LETTER RHO"),
    "q": ("CYRILLIC SMALL LETTER QA",),
    "s": ("CYRILLIC SMALL LETTER DZE",),
    "u": ("GREEK SMALL LETTER UPSILON", "ARMENIAN SMALL LETTER SEH"),
    "v": ("GREEK SMALL LETTER NU",),
    "w": ("CYRILLIC SMALL LETTER WE",),
    "x": ("CYRILLIC SMALL LETTER HA", "GREEK SMALL LETTER CHI"),
    "y": (
        "CYRILLIC SMALL LETTER U",
        "CYRILLIC SMALL LETTER STRAIGHT U",
        "GREEK SMALL LETTER GAMMA",
    ),
}
_LOOK_ALIKES = str.maketrans(
    {
        unicodedata.lookup(name): latin
        for latin, names in _LOOK_ALIKE_NAMES.items()
        for name in names
    }
)

# Runs people type instead of choosing: the alphabet, digits and keyboard rows
# (QWERTY, AZERTY, QWERTZ), read either way.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiopasdfghjklzxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertzuiopasdfghjklyxcvbnm",
)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """zxcvbn's list of common passwords, lower-case."""
    listed = frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])
    # A zxcvbn release that renamed or emptied its list must not silently turn the check off.
    if len(listed) < 10_000:
        raise RuntimeError("zxcvbn's common-password list is missing or too short")
    return listed


def normalise(password: str) -> str:
    """`password` as compared with the list: look-alikes made Latin, no accents, case folded."""
    # NFKD first: full-width and mathematical letters become plain ones, and a
    # Cyrillic "yo" becomes "ie" plus a mark, so the look-alike table needs only base letters.
    text = unicodedata.normalize("NFKD", password).translate(_LOOK_ALIKES)
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in text if not unicodedata.category(char).startswith("M"))


def _strip_decoration(text: str) -> str:
    """`text` without the non-letters (digits, symbols, spaces) at either end."""
    start, end = 0, len(text)
    while start < end and not text[start].isalpha():
        start += 1
    while end > start and not text[end - 1].isalpha():
        end -= 1
    return text[start:end]


def _repeated_unit(text: str) -> str | None:
    """The shortest string that `text` is two or more copies of, if any."""
    size = len(text)
    for unit in range(1, size // 2 + 1):
        if size % unit == 0 and text[:unit] * (size // unit) == text:
            return text[:unit]
    return None


def _is_run(text: str) -> bool:
    """True when `text`, a held key counted once ("aaab" is "ab"), is one key or in `_SEQUENCES`."""
    collapsed = "".join(char for i, char in enumerate(text) if i == 0 or text[i - 1] != char)
    if len(collapsed) <= 1:
        return True
    return any(collapsed in run or collapsed in run[::-1] for run in _SEQUENCES)


def _is_weak(text: str) -> bool:
    """True when `text` is listed, a run (`_is_run`), or a weak text repeated."""
    if text in common_passwords() or _is_run(text):
        return True
    unit = _repeated_unit(text)
    # The unit is strictly shorter than `text`, so this recursion ends.
    return unit is not None and _is_weak(_strip_decoration(unit) or unit)


def is_common(password: str) -> bool:
    """True when `password` has no letter or is a listed password, sequence or repeat, decorated.

    Readings of the normalised password are checked: all of it, its core
    (without the non-letters at its ends) and its letters alone (words split by
    spaces, punctuation or digits, joined: "Dragon.dragon" is "dragondragon").
    So is the password merely case-folded, since normalising can turn one
    repeated character into a repeated phrase (U+FDFA is 18 characters).
    """
    folded = normalise(password)
    core = _strip_decoration(folded)
    if not core:
        return True
    letters = "".join(char for char in core if char.isalpha())
    readings = {password.casefold(), folded, core, letters}
    return any(_is_weak(reading) for reading in readings)


def password_problem(password: str) -> str | None:
    """Why `password` may not be chosen (a message for the customer), or None when it may."""
    if len(password) > MAX_LENGTH:
        return f"Password must be at most {MAX_LENGTH} characters"
    if not password.strip():
        return "Password must not be only spaces"
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters"
    if is_common(password):
        return "This password is too common; choose another (a few unrelated words work well)"
    return None


def new_hasher() -> PasswordHasher:
    """An argon2id hasher with argon2-cffi's defaults (RFC 9106's low-memory profile)."""
    return PasswordHasher()
