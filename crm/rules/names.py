"""Name normalisation and the keys companies are matched and searched by.

``normalise_name`` gives the stored ``name_norm``; ``name_key`` and ``kana_key`` drop the
legal form (株式会社, (株), カブシキガイシャ …) so every width, kana and legal-form spelling
of a name gives one key: duplicate candidates and search match on them
(reference/text_normalization.md). Pure Python, no Django.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

__all__ = [
    "ZERO_WIDTH",
    "kana_key",
    "name_key",
    "normalise_name",
    "search_keys",
]

# Characters NFKC keeps but that are invisible in a form field.
ZERO_WIDTH = "\u180e\u200b\u200c\u200d\u2060\ufeff"
# NFKC turns FULLWIDTH TILDE into "~" but keeps WAVE DASH; the pair is the classic
# Shift-JIS round-trip confusion, so both become "~"
# (reference/text_normalization.md §3).
_TILDES = str.maketrans({"\u301c": "~"})
# Dash look-alikes left after NFKC (which already maps U+FF0D and U+FE63 to "-").
_NAME_DASHES = frozenset(
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2e3a\u2e3b"
)
_LONG_VOWEL = "\u30fc"  # ー KATAKANA-HIRAGANA PROLONGED SOUND MARK
_WHITESPACE = re.compile(f"[\\s{re.escape(ZERO_WIDTH)}]+")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _is_katakana_letter(char: str) -> bool:
    """Return whether *char* is a katakana letter (ァ–ヺ, ㇰ–ㇿ) or ー."""
    return "\u30a1" <= char <= "\u30fa" or "\u31f0" <= char <= "\u31ff" or char == "ー"


def _is_ascii_alnum(char: str) -> bool:
    """Return whether *char* is an ASCII letter or digit."""
    return char.isascii() and char.isalnum()


def _unify_dashes(text: str) -> str:
    """Apply the dash rule of reference/text_normalization.md §3.

    A dash-like character right after a katakana letter or ー, and not followed by an
    ASCII letter or digit, is a mistyped long vowel (ｺ-ﾋ- → コーヒー); every other one
    is a hyphen (Ａ－１ → A-1, テスト-1 stays). The previous character is read from the
    output, so a run of dashes after katakana becomes a run of ー.
    """
    out: list[str] = []
    for i, char in enumerate(text):
        if char in _NAME_DASHES:
            after_kana = bool(out) and _is_katakana_letter(out[-1])
            before_alnum = i + 1 < len(text) and _is_ascii_alnum(text[i + 1])
            char = _LONG_VOWEL if after_kana and not before_alnum else "-"
        out.append(char)
    return "".join(out)


def normalise_name(value: str) -> str:
    """Return the ``name_norm`` search key of an organisation name.

    Steps (reference/text_normalization.md §1, §3): NFKC (full-width ASCII and
    half-width kana, ㈱ → (株)), WAVE DASH and FULLWIDTH TILDE unified, every space
    removed (including U+3000, NBSP and zero-width ones), the dash rule applied and
    ASCII upper-cased. Hiragana is kept as typed; ``kana_key`` is the reading key.
    """
    text = unicodedata.normalize("NFKC", value).translate(_TILDES)
    # Spaces go before the dash rule so that "コーヒー - 1" and "コーヒー-1" agree.
    text = _WHITESPACE.sub("", text)
    return _unify_dashes(text).translate(_ASCII_UPPER)


# Legal-form designators (法人格) as written, abbreviated and read in katakana
# (reference/text_normalization.md §2). They may precede (前株) or follow (後株) the
# name; the key must ignore both. Abbreviations are only matched in parentheses: a bare
# "同" or "名" is part of many real names.
_LEGAL_FORMS: tuple[str, ...] = (
    # Companies (会社).
    "株式会社", "(株)", "カブシキガイシャ", "カブシキカイシャ",
    "有限会社", "(有)", "ユウゲンガイシャ", "ユウゲンカイシャ",
    "合同会社", "(同)", "ゴウドウガイシャ", "ゴウドウカイシャ",
    "合資会社", "(資)", "ゴウシガイシャ", "ゴウシカイシャ",
    "合名会社", "(名)", "ゴウメイガイシャ", "ゴウメイカイシャ",
    # Associations and foundations (社団・財団).
    "一般社団法人", "(一社)", "イッパンシャダンホウジン",
    "一般財団法人", "(一財)", "イッパンザイダンホウジン",
    "公益社団法人", "(公社)", "コウエキシャダンホウジン",
    "公益財団法人", "(公財)", "コウエキザイダンホウジン",
    "社団法人", "(社)", "シャダンホウジン",
    "財団法人", "(財)", "ザイダンホウジン",
    # Other non-profit and public bodies.
    "特定非営利活動法人", "トクテイヒエイリカツドウホウジン",
    "NPO法人", "エヌピーオーホウジン",
    "医療法人社団", "イリョウホウジンシャダン",
    "医療法人財団", "イリョウホウジンザイダン",
    "医療法人", "イリョウホウジン",
    "社会福祉法人", "シャカイフクシホウジン",
    "学校法人", "ガッコウホウジン",
    "宗教法人", "シュウキョウホウジン",
    "独立行政法人", "ドクリツギョウセイホウジン",
    "国立研究開発法人", "コクリツケンキュウカイハツホウジン",
    "国立大学法人", "コクリツダイガクホウジン",
    "公立大学法人", "コウリツダイガクホウジン",
    # Co-operatives and partnerships. ㈿ (U+323F) is NFKC "(協)".
    "事業協同組合", "ジギョウキョウドウクミアイ",
    "協同組合", "(協)", "キョウドウクミアイ",
    "有限責任事業組合", "ユウゲンセキニンジギョウクミアイ",
    # Professional corporations (士業法人); 特許業務法人 is the pre-2022 name of
    # 弁理士法人 and still appears in old records.
    "弁理士法人", "ベンリシホウジン",
    "特許業務法人", "トッキョギョウムホウジン",
    "弁護士法人", "ベンゴシホウジン",
    "税理士法人", "ゼイリシホウジン",
    "監査法人", "カンサホウジン",
)  # fmt: skip

# Longest first so that 一般社団法人 wins over 社団法人 and 医療法人社団 over 医療法人.
# The patterns go through normalise_name themselves so that they match its output.
_LEGAL_FORM_PATTERN = re.compile(
    "|".join(
        re.escape(form)
        for form in sorted({normalise_name(f) for f in _LEGAL_FORMS}, key=len)[::-1]
    )
)


def _strip_legal_forms(normalised: str) -> str:
    """Remove legal-form designators from a normalised name, unless nothing is left."""
    stripped = _LEGAL_FORM_PATTERN.sub("", normalised)
    return stripped or normalised


def name_key(value: str) -> str:
    """Return the duplicate-detection key: ``normalise_name`` without legal forms.

    株式会社テスト, テスト株式会社, ㈱テスト, (株)ﾃｽﾄ and カブシキガイシャテスト all
    give テスト. A key only proposes duplicate candidates; 法人番号 confirms them
    (reference/text_normalization.md §4). A name that is nothing but a legal form keeps
    it, so the key is never empty for a non-empty name.
    """
    return _strip_legal_forms(normalise_name(value))


def kana_key(value: str) -> str:
    """Return the reading key: ``name_key`` with hiragana turned into katakana first.

    てすと, ﾃｽﾄ and テスト all give テスト, which also matches NTA's furigana column
    (katakana without the legal form; reference/houjin_bangou.md §4). Kanji are kept.
    """
    # hira2kata runs after NFKC and before the dash rule so that こ-ひ- → コーヒー.
    katakana = jaconv.hira2kata(unicodedata.normalize("NFKC", value))
    return _strip_legal_forms(normalise_name(katakana))


def search_keys(query: str) -> tuple[str, str]:
    """Return ``(name_key(query), kana_key(query))`` to match against stored keys."""
    return name_key(query), kana_key(query)
