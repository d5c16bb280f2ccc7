"""Pure rules for sender names: 46elks' format, and the folding used to compare names.

Names are compared folded: case, accents, punctuation and common look-alike digits are
removed (`Swed-Bank`, `SWEDB4NK` and `swedbank` fold alike), so a deny-list entry also
catches the spellings a smisher would try.
"""

from __future__ import annotations

import re
import unicodedata

from messaging.text import is_sender_id

# 46elks' rule (messaging.text.SENDER_ID), in words for the pages.
FORMAT_HELP = "3 to 11 letters (A to Z, no å, ä, ö) and digits, starting with a letter, no spaces"

# Digits that read as letters in a sender name; `l` and `1` both fold to `i`.
LOOK_ALIKES = str.maketrans({"0": "o", "1": "i", "l": "i", "3": "e", "4": "a", "5": "s", "7": "t"})


def is_sender_name(value: str) -> bool:
    return is_sender_id(value)


def name_key(value: str) -> str:
    """How a tenant's names are told apart: case-insensitively (`Acme` and `ACME` are one)."""
    return value.strip().casefold()


def fold(value: str) -> str:
    """Lower case, accents dropped, only letters and digits, look-alike digits as letters."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", plain).translate(LOOK_ALIKES)


def deny_matches(name: str, term: str, *, exact: bool) -> bool:
    """Whether a requested name hits a deny-list term (both folded)."""
    folded, folded_term = fold(name), fold(term)
    if not folded_term:
        return False
    return folded == folded_term if exact else folded_term in folded
