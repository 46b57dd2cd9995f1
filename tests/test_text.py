from dprk_archive.text import canonical_text, text_hash


def test_cosmetic_changes_do_not_change_the_hash():
    plain = text_hash("Title", None, 'He said "yes" to it.\n\nNext paragraph.')
    cosmetic = text_hash("Title ", "", "He\u00a0said \u201cyes\u201d to  it.\n   Next\tparagraph. ")
    assert plain == cosmetic


def test_a_changed_word_changes_the_hash():
    assert text_hash("Title", None, "The harvest was good.") != text_hash("Title", None, "The harvest was great.")


def test_title_and_body_are_hashed_apart():
    # Moving a word from the title into the body is an edit, not a cosmetic change.
    assert text_hash("A B", None, "C") != text_hash("A", None, "B C")


def test_canonical_text_is_nfc():
    assert canonical_text("Cafe\u0301") == "Caf\u00e9"
