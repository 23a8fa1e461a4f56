"""Web pages of network events: the list, an event's page, its form, the sheet.

Every member sees the events of the whole network (public facts) and may
register a company; the host and the co-hosts see the registrations, tick
attendance on the day (big buttons, for a tablet at the reception desk) and
download the registrants as xlsx.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm import permissions
from crm.exports.events import event_registrants_write
from crm.filters.events import EventFilter
from crm.selectors.events import event_attendees_visible_to, events_visible_to
from crm.selectors.visibility import companies_visible_to
from crm.services import events as event_services
from crm.web.common import company_error, company_initial
from crm.web.forms import NewCompanyForm, add_domain_error
from crm.web.forms_events import EventFilterForm, EventForm, RegistrationForm
from support_network.calendar import fiscal_year, fiscal_year_label
from support_network.errors import DomainError
from support_network.web.actors import web_actor


def _event_or_404(actor, pk):
    return get_object_or_404(events_visible_to(actor), pk=pk)


@login_required
@require_GET
def event_list(request):
    """The network's events of a fiscal year (public facts), newest first."""
    actor = web_actor(request)
    form = EventFilterForm(request.GET or None)
    fy = fiscal_year(timezone.localdate())
    kind = ""
    if form.is_bound and form.is_valid():
        fy = form.cleaned_data["fiscal_year"] or fy
        kind = form.cleaned_data["kind"] or ""
    elif not form.is_bound:
        form = EventFilterForm(initial={"fiscal_year": fy})
    params = {"fiscal_year": fy, "kind": kind}
    events = EventFilter(params, queryset=events_visible_to(actor)).qs.order_by(
        "-starts_at", "-id"
    )
    return render(
        request,
        "crm/events/list.html",
        {
            "form": form,
            "events": events,
            "fiscal_year_label": fiscal_year_label(fy),
            "can_create": actor.membership is not None and not actor.is_expert,
        },
    )


def _save_event(request, actor, form, event=None):
    try:
        if event is None:
            return event_services.event_create(actor=actor, **form.service_fields())
        return event_services.event_update(
            actor=actor, event=event, fields=form.service_fields()
        )
    except DomainError as exc:
        aliases = {"starts_at": "starts_on", "ends_at": "ends_time"}
        add_domain_error(form, exc, aliases)
        return None


@login_required
def event_create(request):
    """Register an event hosted by the actor's organisation."""
    actor = web_actor(request)
    if actor.membership is None or actor.is_expert:
        raise PermissionDenied
    form = EventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        event = _save_event(request, actor, form)
        if event is not None:
            messages.success(request, _("イベントを登録しました。"))
            return redirect("crm:event-detail", pk=event.pk)
    return render(request, "crm/events/form.html", {"form": form, "event": None})


@login_required
def event_edit(request, pk: int):
    """Change an event (host organisation only)."""
    actor = web_actor(request)
    event = _event_or_404(actor, pk)
    if not permissions.can_edit_event(actor, event):
        raise PermissionDenied
    local_start = timezone.localtime(event.starts_at)
    initial = {
        "title": event.title,
        "kind": event.kind,
        "starts_on": local_start.date(),
        "starts_time": local_start.time(),
        "ends_time": timezone.localtime(event.ends_at).time()
        if event.ends_at
        else None,
        "place": event.place,
        "is_online": event.is_online,
        "capacity": event.capacity,
        "topics": [t.topic for t in event.topics.all()],
        "cohosts": list(event.cohosts.all()),
    }
    form = EventForm(request.POST or None, initial=initial)
    saved = (
        request.method == "POST"
        and form.is_valid()
        and _save_event(request, actor, form, event) is not None
    )
    if saved:
        messages.success(request, _("イベントを変更しました。"))
        return redirect("crm:event-detail", pk=event.pk)
    return render(request, "crm/events/form.html", {"form": form, "event": event})


@login_required
def event_detail(request, pk: int):
    """An event's facts; for its hosts the registrations and the attendance sheet.

    POST registers a company: picked by the typeahead, or registered inline
    with the registry's duplicate check.
    """
    actor = web_actor(request)
    event = _event_or_404(actor, pk)
    data = request.POST if request.method == "POST" else None
    form = RegistrationForm(data)
    new_company = NewCompanyForm(
        data if data and data.get("new-name") and not data.get("company") else None,
        initial=company_initial(actor),
    )
    can_register = actor.membership is not None and not actor.is_expert
    if data is not None:
        if not can_register:
            raise PermissionDenied
        registered = _register(request, actor, event, form, new_company)
        if registered is not None:
            messages.success(
                request,
                _("%(name)s を参加登録しました。") % {"name": registered.company.name},
            )
            return redirect(reverse("crm:event-detail", args=[event.pk]) + "#attendees")
    attendees = list(event_attendees_visible_to(actor, event))
    return render(
        request,
        "crm/events/detail.html",
        {
            "event": event,
            "form": form,
            "new_company": new_company,
            "attendees": attendees,
            "attended_count": sum(1 for a in attendees if a.is_attended),
            "is_host": permissions.can_keep_attendance(actor, event),
            "can_edit": permissions.can_edit_event(actor, event),
            "can_register": can_register,
        },
    )


def _register(request, actor, event, form, new_company):
    if not form.is_valid():
        return None
    contact = {
        "contact_name": form.cleaned_data.get("contact_name") or "",
        "contact_email": form.cleaned_data.get("contact_email") or "",
    }
    try:
        company_id = form.cleaned_data.get("company")
        if company_id:
            company = companies_visible_to(actor).filter(pk=company_id).first()
            if company is None:
                form.add_error(None, _("企業等が見つかりません。"))
                return None
            return event_services.attendee_register(
                actor=actor, event=event, company=company, **contact
            )
        if new_company.is_bound and new_company.is_valid():
            return event_services.attendee_register_with_new_company(
                actor=actor,
                event=event,
                company_fields=new_company.service_fields(),
                **contact,
            )
        if not new_company.is_bound:
            form.add_error(
                None, _("企業等を検索して選ぶか、新しい企業等を登録してください。")
            )
    except DomainError as exc:
        if exc.field and exc.field in new_company.fields:
            company_error(new_company, exc)
        else:
            add_domain_error(form, exc)
    return None


@login_required
@require_POST
def event_attend(request, pk: int, aid: int):
    """Tick or untick one registration on the attendance sheet."""
    actor = web_actor(request)
    event = _event_or_404(actor, pk)
    attendee = get_object_or_404(event_attendees_visible_to(actor, event), pk=aid)
    try:
        event_services.attendee_attend(
            actor=actor,
            attendee=attendee,
            is_attended=request.POST.get("attended", "1") == "1",
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
    return redirect(reverse("crm:event-detail", args=[event.pk]) + f"#attendee-{aid}")


@login_required
@require_GET
def event_registrants_xlsx(request, pk: int):
    """Send the registrants as an xlsx sheet (hosts and co-hosts)."""
    actor = web_actor(request)
    event = _event_or_404(actor, pk)
    if not permissions.can_keep_attendance(actor, event):
        raise Http404
    directory = Path(tempfile.mkdtemp(prefix="event-registrants-"))
    path = directory / "registrants.xlsx"
    event_registrants_write(actor=actor, event=event, path=path)
    filename = _("参加者名簿_%(date)s.xlsx") % {
        "date": event.starts_on.strftime("%Y%m%d")
    }
    handle = path.open("rb")
    path.unlink()  # the open handle keeps the data until the response is sent
    directory.rmdir()
    return FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
