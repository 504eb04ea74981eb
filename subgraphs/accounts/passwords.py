"""The password policy applied at registration, and hashing.

A password is refused, before anything is hashed, when it is

- longer than MAX_LENGTH characters (argon2 would hash a megabyte just as
  willingly; nobody types more than this),
- only whitespace, or shorter than MIN_LENGTH characters,
- common: case-insensitively one of the 30,000 most common passwords of
  zxcvbn's list (the `passwords` frequency list of the zxcvbn package, MIT
  licence, itself drawn from leaked password corpora), or such a password with
  digits, symbols or spaces added at either end ("Password1234!"), or
  repeated ("qwertyqwerty"), or one character repeated.

The policy applies when a password is chosen; existing hashes are not
re-checked, so accounts made before it keep signing in.
"""

from __future__ import annotations

import string
from functools import lru_cache

from argon2 import PasswordHasher
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 128
# A sign-in with a longer password cannot match any account made under the policy;
# it is refused without hashing. Looser than MAX_LENGTH so that no password chosen
# before the policy existed is locked out (bar absurd ones).
MAX_LOGIN_LENGTH = 1024

# Stripped from both ends before the list look-up: "Summer2024!!" is "summer".
_DECORATION = string.digits + string.punctuation + string.whitespace


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """zxcvbn's list of common passwords, lower-case."""
    listed = frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])
    # A zxcvbn release that renamed or emptied its list must not silently turn the check off.
    if len(listed) < 10_000:
        raise RuntimeError("zxcvbn's common-password list is missing or too short")
    return listed


def _repeated_unit(text: str) -> str | None:
    """The shortest string that `text` is two or more copies of, if any."""
    size = len(text)
    for unit in range(1, size // 2 + 1):
        if size % unit == 0 and text[:unit] * (size // unit) == text:
            return text[:unit]
    return None


def is_common(password: str) -> bool:
    """True when `password` is a listed common password, decorated or repeated."""
    listed = common_passwords()
    folded = password.casefold()
    core = folded.strip(_DECORATION)
    unit = _repeated_unit(folded)
    if unit is not None and (len(unit) == 1 or unit.strip(_DECORATION) in listed):
        return True
    return folded in listed or core in listed


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
