"""Character classes for Latin-script EU languages (Python `re` has no \\p{Lu})."""

from __future__ import annotations

UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĪĮŁŃŇŌŐŒŘŚŞŠŢŤŪŮŰŲŸŹŻŽ"
LOWER = "a-zß-öø-ÿāăąćčďđēėęěğīįłńňōőœřśşšţťūůűųźżž"

# A capitalised word with at least one lower-case letter: "Müller", "O'Neill", "Dupont-Moreau".
CAP_WORD = f"[{UPPER}][{LOWER}'’]*[{LOWER}](?:[-'’][{UPPER}{LOWER}][{LOWER}]+)*"

# CAP_WORD without its first character, for patterns that check the character before a word
# only after matching its first letter (`[UPPER](?<!\w.)` + CAP_TAIL): `re` then skips ahead on
# a character set instead of running a look-behind at every position.
CAP_TAIL = f"[{LOWER}'’]*[{LOWER}](?:[-'’][{UPPER}{LOWER}][{LOWER}]+)*"


def is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"
