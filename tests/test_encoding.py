import codecs

import pytest

from dprk_archive.encoding import decode_page

PAGE = "<html><head>{meta}<title>Voice of Korea</title></head><body><p>{text}</p></body></html>"
KOREAN_AND_NBSP = "Kim\u00a0Jong Un visited 조선 — “Kalma”"


def page(text=KOREAN_AND_NBSP, meta="", encoding="utf-8"):
    return PAGE.format(meta=meta, text=text).encode(encoding)


def test_utf8_without_any_charset_is_utf8_not_mojibake():
    decoded = decode_page(page(), None)
    assert (decoded.encoding, decoded.decided_by) == ("utf-8", "utf-8")
    assert KOREAN_AND_NBSP in decoded.text


def test_text_html_without_charset_is_not_read_as_latin1():
    # HTTP/1.1's old default for text/* is iso-8859-1; the mirror serves a third of its pages like this.
    decoded = decode_page(page(), "text/html")
    assert (decoded.encoding, decoded.decided_by) == ("utf-8", "utf-8")
    assert "Kim\u00a0Jong" in decoded.text and "Ã" not in decoded.text


@pytest.mark.parametrize(
    "bom, encoding",
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_bom_decides_first(bom, encoding):
    body = bom + page(meta='<meta charset="iso-8859-1">', encoding=encoding)
    decoded = decode_page(body, "text/html; charset=iso-8859-1")
    assert (decoded.encoding, decoded.decided_by) == (encoding, "bom")
    assert KOREAN_AND_NBSP in decoded.text
    assert not decoded.text.startswith("\ufeff")


def test_header_charset_decides_before_meta():
    body = page("Café “quoted”", meta='<meta charset="utf-8">', encoding="cp1252")
    decoded = decode_page(body, 'text/html; charset="windows-1252"')
    assert (decoded.encoding, decoded.decided_by) == ("cp1252", "header")
    assert "Café “quoted”" in decoded.text


def test_iso_8859_1_header_is_read_as_windows_1252():
    # Browsers do the same: 0x93/0x94 are curly quotes, not C1 control characters.
    decoded = decode_page(page("“Kalma”", encoding="cp1252"), "text/html; charset=ISO-8859-1")
    assert (decoded.encoding, decoded.decided_by) == ("cp1252", "header")
    assert "“Kalma”" in decoded.text


def test_header_latin1_that_contradicts_utf8_bytes_loses_to_the_meta_that_agrees():
    # The documented exception: valid multibyte UTF-8 beats a single-byte label; the meta says utf-8.
    decoded = decode_page(page(meta='<meta charset="utf-8">'), "text/html; charset=iso-8859-1")
    assert (decoded.encoding, decoded.decided_by) == ("utf-8", "meta")
    assert KOREAN_AND_NBSP in decoded.text


def test_header_latin1_that_contradicts_utf8_bytes_without_meta_loses_to_the_bytes():
    decoded = decode_page(page(), "text/html; charset=iso-8859-1")
    assert (decoded.encoding, decoded.decided_by) == ("utf-8", "utf-8")
    assert KOREAN_AND_NBSP in decoded.text


def test_header_latin1_on_ascii_bytes_is_kept():
    decoded = decode_page(page("plain text"), "text/html; charset=iso-8859-1")
    assert (decoded.encoding, decoded.decided_by) == ("cp1252", "header")


def test_meta_charset_decides_without_header():
    decoded = decode_page(page("Café", meta='<meta charset="windows-1252">', encoding="cp1252"), "text/html")
    assert (decoded.encoding, decoded.decided_by) == ("cp1252", "meta")
    assert "Café" in decoded.text


def test_meta_http_equiv_form():
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">'
    decoded = decode_page(page("조선중앙통신", meta=meta, encoding="euc-kr"), None)
    assert (decoded.encoding, decoded.decided_by) == ("euc-kr", "meta")
    assert "조선중앙통신" in decoded.text


def test_meta_after_the_first_2kb_is_not_read():
    body = (
        b"<html><head><!--"
        + b"x" * 2100
        + b'--><meta charset="euc-kr"></head><body>'
        + "조선".encode()
        + b"</body></html>"
    )
    decoded = decode_page(body, None)
    assert (decoded.encoding, decoded.decided_by) == ("utf-8", "utf-8")


def test_fallback_is_windows_1252_for_non_utf8_bytes():
    decoded = decode_page(page("“Kalma” café", encoding="cp1252"), None)
    assert (decoded.encoding, decoded.decided_by) == ("cp1252", "fallback")
    assert "“Kalma” café" in decoded.text


def test_fallback_survives_bytes_windows_1252_leaves_undefined():
    decoded = decode_page(b"<html><body>a\x81b\x9dc\xe9</body></html>", None)
    assert decoded.decided_by == "fallback"
    assert "a\x81b\x9dcé" in decoded.text


def test_nul_bytes_are_stripped():
    decoded = decode_page(b"<html><body>Pyong\x00yang\x00\x00</body></html>", None)
    assert "Pyongyang" in decoded.text and "\x00" not in decoded.text


def test_invalid_utf8_under_a_utf8_label_is_replaced_and_counted():
    body = b"<html><body>Kim Jong Un \xff visited \xe2\x80 the farm</body></html>"
    decoded = decode_page(body, "text/html; charset=utf-8")
    assert (decoded.encoding, decoded.decided_by) == ("utf-8", "header")
    assert decoded.replaced == 2
    assert "Kim Jong Un \ufffd visited \ufffd the farm" in decoded.text


def test_genuine_replacement_characters_are_not_counted():
    decoded = decode_page("<html><body>\ufffd</body></html>".encode(), "text/html; charset=utf-8")
    assert decoded.replaced == 0


@pytest.mark.parametrize("label", ["x-unknown-charset", "base64", "rot13", "", "utf-16"])
def test_unknown_or_unusable_charset_names_do_not_crash(label):
    decoded = decode_page(page(meta=f'<meta charset="{label}">'), f"text/html; charset={label}")
    assert (decoded.encoding, decoded.decided_by) == ("utf-8", "utf-8")
    assert KOREAN_AND_NBSP in decoded.text
