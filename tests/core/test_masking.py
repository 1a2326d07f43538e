"""Secret masking: which values are masked, and where."""

from __future__ import annotations

from gryt.masking import MASK, Masker


def test_secrets_are_masked_in_text_and_nested_results() -> None:
    masker = Masker(["s3cr3t-token"])
    result = {"stdout": "token=s3cr3t-token", "s3cr3t-token": ["x s3cr3t-token", ("s3cr3t-token",)], "n": 3}
    assert masker.mask_obj(result) == {"stdout": f"token={MASK}", MASK: [f"x {MASK}", (MASK,)], "n": 3}


def test_each_line_of_a_multi_line_secret_is_masked_on_its_own() -> None:
    masker = Masker(["first-line\nsecond-line"])
    assert masker.mask("a second-line b") == f"a {MASK} b"


def test_short_values_are_not_masked_and_longest_match_wins() -> None:
    masker = Masker(["abc", "token", "token-extended"])
    assert masker.mask("abc token-extended token") == f"abc {MASK} {MASK}"
    assert "abc" not in masker
    assert masker.longest == len("token-extended")


def test_an_empty_masker_changes_nothing() -> None:
    masker = Masker()
    obj = {"a": ["b"]}
    assert not masker
    assert masker.mask_obj(obj) is obj
