"""Secret masking: which values are masked, and where."""

from __future__ import annotations

import base64
import urllib.parse

import pytest

from gryt.masking import ENCODED_MIN_LENGTH, MASK, Masker, shorten
from gryt.process import StreamMasker


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
    assert masker.longest >= len("token-extended")  # its base64 form is longer


def test_an_empty_masker_changes_nothing() -> None:
    masker = Masker()
    obj = {"a": ["b"]}
    assert not masker
    assert masker.mask_obj(obj) is obj


def test_overlapping_secrets_mask_the_union_of_their_spans() -> None:
    masker = Masker(["abcdef", "defghi", "ghijkl"])
    assert masker.mask("xxabcdefghijklyy abcdef defghi") == f"xx{MASK}yy {MASK} {MASK}"
    assert masker.spans("abcdefghi") == [(0, 9)]


@pytest.mark.parametrize("prefix", [b"", b"u", b"us", b"user:", b"ci-user:"])
@pytest.mark.parametrize("suffix", [b"", b"@", b"@h", b"@host"])
def test_base64_forms_are_masked_at_every_alignment(prefix: bytes, suffix: bytes) -> None:
    """`base64("user:" + token)` (HTTP Basic) and the URL-safe alphabet: no run of the encoded token
    that depends on the token alone stays visible."""
    token = "tok+/" + "Zq9" * 5
    masker = Masker([token])
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        shown = masker.mask(encode(prefix + token.encode() + suffix).decode())
        assert MASK in shown
        # Left visible: what encodes the prefix and suffix, a boundary character on each side, padding.
        assert len(shown) - len(MASK) <= (len(prefix) + len(suffix)) * 4 // 3 + 6, shown


def test_url_encoded_forms_are_masked_and_short_secrets_have_no_encoded_forms() -> None:
    token = "p@ss/word+1 x"
    masker = Masker([token])
    assert masker.mask("a=" + urllib.parse.quote(token, safe="")) == f"a={MASK}"
    assert masker.mask("a=" + urllib.parse.quote_plus(token)) == f"a={MASK}"
    short = "abcdefg"
    assert len(short) < ENCODED_MIN_LENGTH
    assert Masker([short]).mask(base64.b64encode(short.encode()).decode()) == "YWJjZGVmZw=="


def test_a_secret_that_is_not_utf8_is_masked_in_decoded_output() -> None:
    """A value from os.environ holds invalid bytes as surrogate escapes; output decodes them as U+FFFD."""
    raw = b"tok-\xff\xfe-rest-of-it"
    masker = Masker([raw.decode("utf-8", "surrogateescape")])
    output = (b"x " + raw + b" y").decode("utf-8", "replace")
    assert masker.mask(output) == f"x {MASK} y"


def test_streaming_masks_overlapping_secrets_split_over_many_reads() -> None:
    masker = Masker(["ovA-1234SHARED", "SHARED5678-ovB"])
    stream = StreamMasker(masker)
    text = "x=ovA-1234SHARED5678-ovB done\n" * 3
    out = "".join(stream.feed(char) for char in text) + stream.flush()
    assert out == f"x={MASK} done\n" * 3


def test_shorten_masks_first_and_never_cuts_inside_a_token() -> None:
    secret = "ghp_" + "k" * 30
    text = "e" * 190 + " " + secret + " tail"
    assert shorten(text, 200, Masker([secret])) == "e" * 190 + f" {MASK} tail"
    assert shorten(text, 200) == "e" * 190 + " ..."
    assert shorten("short", 200) == "short"
