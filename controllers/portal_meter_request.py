"""Meter read requests: the page the request's link opens, without logging
in (the contract's access token), where the meters due are entered all at
once; and the counter of meters due on the portal home."""

import pytz
from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import request
from odoo.tools import consteq

from .portal import INPUT_DATETIME, SerialServicePortal


class MeterRequestPortal(SerialServicePortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "meter_due_count" in counters:
            contracts = self._get_own_meter_contracts()
            due = contracts._get_meters_due() if contracts else {}
            values["meter_due_count"] = sum(len(pairs) for pairs in due.values())
        return values

    def _get_own_meter_contracts(self):
        """The running contracts, sudo, of the user's company that bill
        meters (a portal user has no access to contracts)."""
        partner = request.env.user.partner_id.commercial_partner_id
        if request.env.user._is_public():
            return request.env["sale.subscription"]
        # sudo: contracts of the user's own company only (domain below)
        return (
            request.env["sale.subscription"]
            .sudo()
            .search(
                [
                    ("partner_id", "child_of", partner.id),
                    ("stage_id.type", "=", "in_progress"),
                    ("usage_tariff_ids", "!=", False),
                ]
            )
        )

    @http.route(["/my/meters"], type="http", auth="user", website=True)
    def portal_my_meters(self, **kw):
        """The contracts with meters due, each with the link to its page."""
        contracts = self._get_own_meter_contracts()
        due = contracts._get_meters_due() if contracts else {}
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "meters",
                "meter_contracts": [
                    (contract, len(due[contract]), contract._get_meter_request_url())
                    for contract in contracts
                    if due[contract]
                ],
            }
        )
        return request.render("serial_service.portal_my_meters", values)

    # ------------------------------------------------------------------
    # The request's page: /meter/<contract>/<token>
    # ------------------------------------------------------------------
    def _meter_request_check(self, contract_id, access_token):
        """The contract, sudo, when the token is its own; else 404 (a wrong
        token says nothing about the contract)."""
        # sudo: the visitor is identified by the contract's token only
        contract = request.env["sale.subscription"].sudo().browse(contract_id).exists()
        if (
            not contract
            or not contract.access_token
            or not consteq(contract.access_token, access_token or "")
        ):
            raise NotFound()
        return contract

    @http.route(["/meter/<int:contract_id>"], type="http", auth="public")
    def meter_request_portal_url(self, contract_id, access_token=None, **kw):
        """The contract's portal URL (access_url, the e-mails' View button)
        with the token as a parameter: the request's page."""
        contract = self._meter_request_check(contract_id, access_token)
        return request.redirect(f"/meter/{contract.id}/{access_token}")

    @http.route(
        ["/meter/<int:contract_id>/<string:access_token>"],
        type="http",
        auth="public",
        website=True,
        methods=["GET", "POST"],
    )
    def meter_request_page(self, contract_id, access_token, **post):
        contract = self._meter_request_check(contract_id, access_token)
        pairs = contract._get_requestable_pairs()[contract]
        due = contract._get_meters_due()[contract]
        values = {
            "contract": contract,
            "access_token": access_token,
            "lines": contract._get_meter_request_lines(pairs),
            "due": due,
            "saved": bool(post.get("saved")),
            "error": None,
            "entered": {},
            "reading_date": post.get("reading_date")
            or self._meter_request_now_input(contract),
        }
        if request.httprequest.method == "POST":
            values["entered"] = {
                key: value for key, value in post.items() if key.startswith("value_")
            }
            try:
                with request.env.cr.savepoint():
                    entries = self._parse_meter_request(contract, pairs, post)
                    request.env["serial.meter.reading"]._request_record_readings(
                        contract, entries
                    )
                    request.env.flush_all()
            except (UserError, ValidationError, AccessError) as error:
                request.env.invalidate_all()
                values["error"] = str(error)
            else:
                return request.redirect(f"/meter/{contract.id}/{access_token}?saved=1")
        return request.render("serial_service.portal_meter_request", values)

    def _meter_request_tz(self, contract):
        """The visitor is not logged in: dates are in the meter contact's
        time zone (else the customer's, else UTC)."""
        partner = contract.meter_contact_id or contract.partner_id
        return partner.tz or partner.commercial_partner_id.tz or "UTC"

    def _meter_request_now_input(self, contract):
        tz = pytz.timezone(self._meter_request_tz(contract))
        now_local = pytz.utc.localize(fields.Datetime.now()).astimezone(tz)
        return now_local.strftime(INPUT_DATETIME)

    def _parse_meter_request(self, contract, pairs, post):
        """[(serial, meter, UTC datetime, value)] of the filled fields, each
        read as the portal's reading form reads it; at least one."""
        entries = []
        for lot, meter in pairs:
            raw = (post.get(f"value_{lot.id}_{meter.id}") or "").strip()
            if not raw:
                continue
            meter_sudo, moment, number = self._parse_portal_reading(
                str(meter.id),
                post.get("reading_date"),
                raw,
                tz_name=self._meter_request_tz(contract),
            )
            entries.append((lot, meter_sudo, moment, number))
        if not entries:
            raise ValidationError(request.env._("Enter at least one meter value."))
        return entries
