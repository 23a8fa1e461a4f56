"""The personal-data items the system holds (保有個人情報), declared once.

One declaration per model field that holds personal data: what it is for,
where it comes from, who receives it and how long it is kept. The retention
sweep and the erase request (crm/services/retention.py,
crm/services/personal_requests.py) anonymise exactly these fields, and the
個人情報ファイル簿 draft (crm/selectors/personal_data.py) is generated from
them, so what is filed and what is erased cannot drift apart.

Pure data (no Django): the labels of models and fields are read from the
models' metadata by the selector.
"""

from __future__ import annotations

from dataclasses import dataclass

# The one marker that replaces an anonymised text (APPI art. 35; retention).
ANONYMISED_MARKER = "（保存期間経過により削除）"
ERASED_MARKER = "（本人の求めにより削除）"

# How the value is replaced: "marker" writes the marker into a non-empty
# text, "blank" empties it (e-mail, phone, kana: a marker is no valid value).
MARKER = "marker"
BLANK = "blank"

RETENTION_TEXT = "案件終了後、組織の保存期間（既定: 終了した年度の翌年度から5年度）"
PROVISION_RETENTION = "提供日から3年（個人情報保護法施行規則第21条）"


@dataclass(frozen=True)
class PersonalItem:
    """One personal-data field: model (`app.Model`), field and its 台帳 entry."""

    model: str
    field: str
    purpose: str
    source: str
    recipients: str
    retention: str = RETENTION_TEXT
    how: str = MARKER
    # False: listed in the 個人情報ファイル簿, not rewritten by the sweep
    # (e.g. a record deleted as a whole after its legal period).
    is_anonymised: bool = True


_CONTACT_PURPOSE = "相談・支援のための連絡、第三者提供（紹介）の記録"
_CONTACT_SOURCE = "本人または所属する企業等からの申告"
_SHARED = "本人の同意がある場合の紹介先の支援機関"
_RECORD_PURPOSE = (
    "知財経営支援の相談対応・支援の継続・紹介、統計（個人を識別しない集計）"
)
_RECORD_SOURCE = "相談時の本人からの聴取、支援担当者の記録"

_EVENT_PURPOSE = "イベント（セミナー等）の参加登録・出欠の管理、参加後の相談の集計"
_EVENT_SOURCE = "参加申込時の本人または企業等からの申告"
_EVENT_RECIPIENTS = "イベントの主催・共催組織"
_EVENT_RETENTION = "開催した年度の翌年度から主催組織の保存期間（既定: 5年度）"
_SURVEY_PURPOSE = "支援満足度の把握と支援の改善"
_SURVEY_SOURCE = "満足度調査への本人の回答"
_SURVEY_RECIPIENTS = "調査した組織の管理者・組織管理者"
_SURVEY_RETENTION = "調査の年度の翌年度から調査した組織の保存期間（既定: 5年度）"

PERSONAL_ITEMS: tuple[PersonalItem, ...] = (
    PersonalItem("crm.Contact", "name", _CONTACT_PURPOSE, _CONTACT_SOURCE, _SHARED),
    PersonalItem(
        "crm.Contact",
        "name_kana",
        _CONTACT_PURPOSE,
        _CONTACT_SOURCE,
        _SHARED,
        how=BLANK,
    ),
    PersonalItem(
        "crm.Contact", "title", _CONTACT_PURPOSE, _CONTACT_SOURCE, _SHARED, how=BLANK
    ),
    PersonalItem(
        "crm.Contact", "email", _CONTACT_PURPOSE, _CONTACT_SOURCE, _SHARED, how=BLANK
    ),
    PersonalItem(
        "crm.Contact", "phone", _CONTACT_PURPOSE, _CONTACT_SOURCE, _SHARED, how=BLANK
    ),
    PersonalItem("crm.Case", "title", _RECORD_PURPOSE, _RECORD_SOURCE, _SHARED),
    PersonalItem("crm.Case", "closing_note", _RECORD_PURPOSE, _RECORD_SOURCE, _SHARED),
    PersonalItem(
        "crm.Consultation", "summary", _RECORD_PURPOSE, _RECORD_SOURCE, _SHARED
    ),
    PersonalItem(
        "crm.Consultation", "advice", _RECORD_PURPOSE, _RECORD_SOURCE, _SHARED
    ),
    PersonalItem(
        "crm.Consultation", "next_action", _RECORD_PURPOSE, _RECORD_SOURCE, _SHARED
    ),
    PersonalItem(
        "crm.Referral", "reason", _RECORD_PURPOSE, _RECORD_SOURCE, "紹介先の支援機関"
    ),
    PersonalItem(
        "crm.Referral",
        "answer_note",
        _RECORD_PURPOSE,
        "紹介先の支援機関",
        "紹介元の支援機関",
    ),
    PersonalItem(
        "crm.Referral",
        "outcome_note",
        _RECORD_PURPOSE,
        "紹介先の支援機関",
        "紹介元の支援機関",
    ),
    PersonalItem("crm.Outcome", "note", _RECORD_PURPOSE, _RECORD_SOURCE, _SHARED),
    PersonalItem("crm.FollowUp", "note", _RECORD_PURPOSE, _RECORD_SOURCE, "なし"),
    PersonalItem(
        "crm.ProvisionRecord",
        "contacts",
        "第三者提供の記録（個人情報保護法第29条）",
        "紹介の送信時に自動作成",
        "なし（本人の開示請求に応じて開示）",
        retention=PROVISION_RETENTION,
        is_anonymised=False,
    ),
    PersonalItem(
        "crm.EventAttendee",
        "contact_name",
        _EVENT_PURPOSE,
        _EVENT_SOURCE,
        _EVENT_RECIPIENTS,
        retention=_EVENT_RETENTION,
    ),
    PersonalItem(
        "crm.EventAttendee",
        "contact_email",
        _EVENT_PURPOSE,
        _EVENT_SOURCE,
        _EVENT_RECIPIENTS,
        retention=_EVENT_RETENTION,
        how=BLANK,
    ),
    PersonalItem(
        "crm.Survey",
        "comment",
        _SURVEY_PURPOSE,
        _SURVEY_SOURCE,
        _SURVEY_RECIPIENTS,
        retention=_SURVEY_RETENTION,
    ),
)


def personal_fields(model: str) -> tuple[PersonalItem, ...]:
    """Return the anonymised items of one model (`app.Model`)."""
    return tuple(
        item for item in PERSONAL_ITEMS if item.model == model and item.is_anonymised
    )
