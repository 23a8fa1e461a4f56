"""The reminder rules: their defaults, their overrides and the merge.

`DEFAULT_RULES` are the rules of the whole network (send time, follow-up
reminders, referral escalation, program milestones; DESIGN.md / issue 5
"Rules"); a deployment may override them with settings.CRM_REMINDERS
(`network_reminder_rules`), and an organisation some of them in its
Organisation.reminder_rules, e.g. remind its staff 5 times instead of 3.
Only known keys may be overridden, each with a value of its kind; the
messages are Japanese because org admins and operators read them in the
admin. `reminder_rules(organisation)` is the one merge the reminder sweep
(crm/services/reminders.py) and programs' milestones use.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from support_network.choices import Role
from support_network.errors import ValidationFailed

logger = logging.getLogger(__name__)

# The network's reminder rules (DESIGN.md / issue 5 "Rules"): follow-ups use
# the rules of the follow-up's organisation, referrals those of the
# receiving organisation, program milestones those of the applying one.
DEFAULT_RULES: dict[str, Any] = {
    "SEND_AT": "09:00",  # JST, business days only
    "FOLLOW_UP_MAX_REMINDERS": 3,
    "FOLLOW_UP_ESCALATE_ROLES": [Role.COORDINATOR.value, Role.MANAGER.value],
    "REFERRAL_REMIND_AFTER_BUSINESS_DAYS": 2,
    "REFERRAL_ESCALATE_AFTER_BUSINESS_DAYS": 3,
    "REFERRAL_EXPIRE_AFTER_BUSINESS_DAYS": 10,
    # Program milestones (programs/reminders.py), in calendar days.
    "PROGRAM_END_NOTICE_DAYS": 14,  # IPAS support ends within 2 weeks
    "PROGRAM_PERIOD_REVIEW_NOTICE_DAYS": 30,  # iAca period ends: review the plan
    "PROGRAM_DAY_QUOTA_ALERT_PERCENT": 80,  # iNat: 72 of 90 days in a fiscal year
    "PROGRAM_PLAN_MISSING_AFTER_DAYS": 14,  # no support plan 2 weeks after start
}


def network_reminder_rules() -> dict[str, Any]:
    """Return the network's rules: DEFAULT_RULES, overridden by settings.CRM_REMINDERS."""
    return {**DEFAULT_RULES, **getattr(settings, "CRM_REMINDERS", {})}


@dataclass(frozen=True)
class RuleSpec:
    """What a rule's value may be: an integer in a range, a time or roles."""

    label: Any
    kind: str = "int"  # "int", "time" or "roles"
    minimum: int = 1
    maximum: int = 60


SPECS: dict[str, RuleSpec] = {
    "SEND_AT": RuleSpec(gettext_lazy("送信時刻（日本時間、営業日のみ）"), kind="time"),
    "FOLLOW_UP_MAX_REMINDERS": RuleSpec(
        gettext_lazy("フォローアップのリマインド回数（期日当日を含む）"), maximum=20
    ),
    "FOLLOW_UP_ESCALATE_ROLES": RuleSpec(
        gettext_lazy("フォローアップのエスカレーション先の役割"), kind="roles"
    ),
    "REFERRAL_REMIND_AFTER_BUSINESS_DAYS": RuleSpec(
        gettext_lazy("紹介の回答催促までの営業日数")
    ),
    "REFERRAL_ESCALATE_AFTER_BUSINESS_DAYS": RuleSpec(
        gettext_lazy("紹介のエスカレーションまでの営業日数")
    ),
    "REFERRAL_EXPIRE_AFTER_BUSINESS_DAYS": RuleSpec(
        gettext_lazy("紹介の期限切れまでの営業日数")
    ),
    "PROGRAM_END_NOTICE_DAYS": RuleSpec(
        gettext_lazy("IPAS の支援終了を知らせる日数（終了日の何日前か）"), maximum=180
    ),
    "PROGRAM_PERIOD_REVIEW_NOTICE_DAYS": RuleSpec(
        gettext_lazy("iAca の支援期の振り返りを知らせる日数（期末の何日前か）"),
        maximum=180,
    ),
    "PROGRAM_DAY_QUOTA_ALERT_PERCENT": RuleSpec(
        gettext_lazy("支援日数の上限に対する警告の割合（%）"), maximum=100
    ),
    "PROGRAM_PLAN_MISSING_AFTER_DAYS": RuleSpec(
        gettext_lazy("支援開始から支援計画の未登録を知らせるまでの日数"), maximum=180
    ),
}

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

# Referral steps must come in this order (reminder, escalation, expiry).
REFERRAL_STEPS = (
    "REFERRAL_REMIND_AFTER_BUSINESS_DAYS",
    "REFERRAL_ESCALATE_AFTER_BUSINESS_DAYS",
    "REFERRAL_EXPIRE_AFTER_BUSINESS_DAYS",
)


def known_rule_keys() -> list[str]:
    """Return the keys an organisation may override (those of the network rules)."""
    return list(network_reminder_rules())


def _spec(key: str) -> RuleSpec:
    if key in SPECS:
        return SPECS[key]
    # A key added to CRM_REMINDERS without a spec: its default tells the kind.
    default = network_reminder_rules()[key]
    if isinstance(default, list | tuple):
        return RuleSpec(key, kind="roles")
    if isinstance(default, str):
        return RuleSpec(key, kind="time")
    return RuleSpec(key, maximum=10_000)


def _clean_value(key: str, value: Any) -> Any:
    spec = _spec(key)
    if spec.kind == "time":
        if not isinstance(value, str) or not _TIME.match(value.strip()):
            raise ValueError(
                _(
                    "「%(key)s」（%(label)s）には 09:00 のような時刻"
                    "（日本時間、HH:MM）を入力してください。"
                )
                % {"key": key, "label": spec.label}
            )
        hour, minute = value.strip().split(":")
        return f"{int(hour):02d}:{minute}"
    if spec.kind == "roles":
        if (
            not isinstance(value, list)
            or not value
            or any(v not in Role.values for v in value)
        ):
            raise ValueError(
                _(
                    "「%(key)s」（%(label)s）には役割のリストを1つ以上入力してください"
                    "（使える役割: %(roles)s）。"
                )
                % {"key": key, "label": spec.label, "roles": "、".join(Role.values)}
            )
        return list(dict.fromkeys(value))
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not spec.minimum <= value <= spec.maximum
    ):
        raise ValueError(
            _(
                "「%(key)s」（%(label)s）には%(min)s以上%(max)s以下の整数を"
                "入力してください（入力: %(value)s）。"
            )
            % {
                "key": key,
                "label": spec.label,
                "min": spec.minimum,
                "max": spec.maximum,
                "value": value,
            }
        )
    return value


def reminder_rules_errors(value: Any) -> tuple[dict[str, Any], list[str]]:
    """Return (the cleaned overrides, the Japanese messages of what is wrong)."""
    if value in (None, ""):
        return {}, []
    if not isinstance(value, Mapping):
        return {}, [
            _(
                'リマインドの設定は {"FOLLOW_UP_MAX_REMINDERS": 5} のような'
                "JSON オブジェクトで入力してください。"
            )
        ]
    known = known_rule_keys()
    cleaned: dict[str, Any] = {}
    errors: list[str] = []
    for key, raw in value.items():
        if key not in known:
            errors.append(
                _(
                    "「%(key)s」は設定できる項目ではありません（設定できる項目: %(keys)s）。"
                )
                % {"key": key, "keys": "、".join(known)}
            )
            continue
        try:
            cleaned[key] = _clean_value(key, raw)
        except ValueError as exc:
            errors.append(str(exc))
    if not errors:
        merged = {**network_reminder_rules(), **cleaned}
        steps = [merged.get(k) for k in REFERRAL_STEPS]
        if (
            all(isinstance(s, int) for s in steps)
            and not steps[0] < steps[1] < steps[2]
        ):
            errors.append(
                _(
                    "紹介の回答催促・エスカレーション・期限切れの営業日数は、この順に"
                    "大きくしてください（この組織の値: 催促 %(remind)s、"
                    "エスカレーション %(escalate)s、期限切れ %(expire)s）。"
                )
                % {"remind": steps[0], "escalate": steps[1], "expire": steps[2]}
            )
    return cleaned, errors


def validate_reminder_rules(value: Any) -> None:
    """Model/form validator of Organisation.reminder_rules (Django ValidationError)."""
    _cleaned, errors = reminder_rules_errors(value)
    if errors:
        raise ValidationError(errors, code="invalid_reminder_rules")


def reminder_rules_clean(value: Any) -> dict[str, Any]:
    """Return the cleaned overrides, or raise ValidationFailed (400, field reminder_rules)."""
    cleaned, errors = reminder_rules_errors(value)
    if errors:
        raise ValidationFailed(" ".join(errors), field="reminder_rules")
    return cleaned


def reminder_rules_help() -> str:
    """Return the admin's help text: each key, its meaning and network default."""
    lines = [
        _(
            "空欄（{}）なら全国共通の設定に従います。変える項目だけを"
            '{"FOLLOW_UP_MAX_REMINDERS": 5} のように JSON で指定します。'
        )
    ]
    for key in known_rule_keys():
        lines.append(
            f"{key}: {_spec(key).label}（全国共通: {network_reminder_rules()[key]}）"
        )
    return "\n".join(lines)


def reminder_overrides_valid(organisation_id: int, raw: Any) -> dict[str, Any]:
    """Return the valid part of an organisation's stored overrides.

    The admin and the model refuse bad values; a value written around them
    (shell, SQL) is ignored with a warning rather than stopping the sweep.
    """
    cleaned, errors = reminder_rules_errors(raw)
    if errors:
        logger.warning(
            "organisation %s: reminder_rules ignored: %s", organisation_id, errors
        )
        return {}
    return cleaned


def reminder_rules(organisation: Any = None) -> dict[str, Any]:
    """Return the reminder rules of an organisation (or the network's).

    DEFAULT_RULES, overridden by settings.CRM_REMINDERS, overridden by the
    organisation's own valid `reminder_rules`.
    """
    rules = network_reminder_rules()
    if organisation is not None and organisation.reminder_rules:
        rules.update(
            reminder_overrides_valid(organisation.pk, organisation.reminder_rules)
        )
    return rules
