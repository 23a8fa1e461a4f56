"""Export requests (DESIGN.md "Statistics and exports", issue 7).

`export_request` validates a request, records an `Export` row and queues
`crm.export_build` (`export_enqueue`) once the transaction commits.

Who may request what:
- row-level kinds (consultations, referrals, enrolments): every member except
  experts, who only log their own support; the rows are those the requester
  may see (visibility rules 3–4: the same selectors as the API);
- consultation_statistics: whoever may see statistics (crm.statistics.reach
  decides and raises 403 otherwise).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.exports.kinds import export_kinds
from crm.models import (
    Export,
)
from crm.services.audit import audit_record
from support_network.actors import Actor
from support_network.calendar import fiscal_year_parse
from support_network.choices import Role
from support_network.errors import (
    Conflict,
    PermissionDenied,
    ValidationFailed,
)

logger = logging.getLogger(__name__)

# Files are kept 7 days, then deleted by the daily clean-up.
EXPORT_TTL = timedelta(days=7)
# A requester may have this many exports waiting or running at once.
MAX_ACTIVE_PER_USER = 3


def _choice(value, choices, field: str, message: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValidationFailed(message, field=field)
    return value


def export_request(
    *,
    actor: Actor,
    kind: str,
    fiscal_year,
    format: str,
    encoding: str | None = "utf-8-sig",
    params: dict | None = None,
    now: datetime | None = None,
) -> Export:
    """Record an export request and queue its build (202 in the API).

    Raises ValidationFailed (400, with field) for a bad kind, format,
    encoding, fiscal year or params; PermissionDenied (403) for experts and,
    for statistics, for actors who may not see statistics; Conflict (409)
    when the requester already has MAX_ACTIVE_PER_USER exports under way.
    """
    now = now or timezone.now()
    actor.require_membership()
    registered = export_kinds()
    kind = _choice(
        kind,
        registered,
        "kind",
        _("種類は %(kinds)s のいずれかです。") % {"kinds": ", ".join(registered)},
    )
    spec = registered[kind]
    format = _choice(
        format,
        spec.formats,
        "format",
        _("形式は %(formats)s のいずれかです。")
        % {"formats": " / ".join(spec.formats)},
    )
    encoding = _choice(
        encoding or Export.Encoding.UTF8_BOM,
        Export.Encoding.values,
        "encoding",
        _("文字コードは utf-8-sig（BOM 付き UTF-8）または cp932（Shift_JIS）です。"),
    )
    if format != Export.Format.CSV:
        encoding = Export.Encoding.UTF8_BOM  # xlsx and zip are always Unicode
    year = fiscal_year_parse(fiscal_year, now=now)
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationFailed(
            _("条件（params）はオブジェクトで指定してください。"), field="params"
        )
    if spec.row_level and actor.role == Role.EXPERT and not actor.is_superuser:
        raise PermissionDenied(
            _("専門家の役割ではデータを出力できません。"), code="export_not_allowed"
        )
    # Each kind keeps only the params it understands (row-level kinds: none).
    params = (
        spec.check(actor=actor, fiscal_year=year, params=params)
        if spec.check is not None
        else {}
    )

    with transaction.atomic():
        # One requester's requests queue here (a row lock on their user), so
        # the count below cannot be read by two of them at once: 20 parallel
        # requests used to create 8 exports (issue 26 item 7).
        list(
            get_user_model()
            .objects.select_for_update(no_key=True)
            .filter(pk=actor.user.pk)
            .values_list("pk", flat=True)
        )
        active = Export.objects.filter(
            requested_by_id=actor.user.pk,
            status__in=[Export.Status.PENDING, Export.Status.RUNNING],
            created_at__gte=now - timedelta(hours=1),
        ).count()
        if active >= MAX_ACTIVE_PER_USER:
            raise Conflict(
                _(
                    "作成中のエクスポートが %(n)d 件あります。"
                    "完了してから依頼してください。"
                )
                % {"n": active},
                code="too_many_exports",
            )
        export = Export.objects.create(
            requested_by=actor.user,
            organisation=actor.organisation,
            role=actor.role,
            kind=kind,
            fiscal_year=year,
            format=format,
            encoding=encoding,
            params=params,
            created_at=now,
            expires_at=now + EXPORT_TTL,
        )
        audit_record(
            actor=actor,
            action="export.create",
            obj=export,
            data={
                "kind": kind,
                "fiscal_year": year,
                "format": format,
                "encoding": encoding,
                "params": params,
            },
            now=now,
        )
        transaction.on_commit(lambda: export_enqueue(export_id=export.pk))
    return export


def export_enqueue(*, export_id: int) -> bool:
    """Queue the build of an export; never raise (crm.tasks.enqueue's policy).

    With the broker down the export stays pending; exports_reclaim queues it
    again once it has waited EXPORT_REQUEUE_AFTER and the broker is back.
    """
    from crm.tasks import enqueue, export_build_task

    return enqueue(export_build_task, what=f"export {export_id}", export_id=export_id)
