"""Customer portal: a customer's serials, their meter history, meter readings
submitted by the customer, and the readings behind the usage lines of an
invoice."""

import math
from collections import defaultdict
from datetime import datetime

import pytz
from werkzeug.exceptions import Forbidden, NotFound

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from odoo.addons.account.controllers.portal import PortalAccount
from odoo.addons.portal.controllers.portal import pager as portal_pager

# readings shown on a serial's page, newest first
HISTORY_LIMIT = 100
# the format of an <input type="datetime-local">
INPUT_DATETIME = "%Y-%m-%dT%H:%M"
# the largest id PostgreSQL's integer column holds
MAX_RECORD_ID = 2**31 - 1


class SerialServicePortal(PortalAccount):
    """Extends the invoice portal (PortalAccount, itself a CustomerPortal) so
    that the invoice page also gets the readings of its usage lines."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "serial_count" in counters:
            Lot = request.env["stock.lot"]
            values["serial_count"] = (
                Lot.search_count(self._get_own_company_domain())
                if Lot.has_access("read")
                else 0
            )
        return values

    # ------------------------------------------------------------------
    # My equipment
    # ------------------------------------------------------------------
    def _get_own_company_domain(self):
        """The serials or jobs of the user's company (its commercial partner):
        the portal record rules say the same for portal users, this domain
        keeps an employee's /my pages to their own company's too."""
        partner = request.env.user.partner_id.commercial_partner_id
        return [("customer_id", "child_of", partner.id)]

    def _get_serials_searchbar_sortings(self):
        return {
            "name": {"label": request.env._("Serial Number"), "order": "name, id"},
            "product": {
                "label": request.env._("Product"),
                "order": "product_id, name, id",
            },
            "warranty": {
                "label": request.env._("Warranty End"),
                "order": "warranty_end_date, name, id",
            },
        }

    @http.route(
        ["/my/serials", "/my/serials/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_serials(self, page=1, sortby=None, **kw):
        values = self._prepare_portal_layout_values()
        Lot = request.env["stock.lot"]
        domain = self._get_own_company_domain()
        sortings = self._get_serials_searchbar_sortings()
        if sortby not in sortings:
            sortby = "name"
        total = Lot.search_count(domain) if Lot.has_access("read") else 0
        pager = portal_pager(
            url="/my/serials",
            url_args={"sortby": sortby},
            total=total,
            page=page,
            step=self._items_per_page,
        )
        lots = (
            Lot.search(
                domain,
                order=sortings[sortby]["order"],
                limit=self._items_per_page,
                offset=pager["offset"],
            )
            if total
            else Lot
        )
        request.session["my_serials_history"] = lots.ids[:100]
        values.update(
            {
                # sudo: these serials passed the user's record rules; sudo only
                # reads their product, site and contract (no portal access)
                "serials": lots.sudo(),
                "page_name": "serial",
                "pager": pager,
                "default_url": "/my/serials",
                "searchbar_sortings": sortings,
                "sortby": sortby,
            }
        )
        return request.render("serial_service.portal_my_serials", values)

    @http.route(["/my/serials/<int:lot_id>"], type="http", auth="user", website=True)
    def portal_my_serial(self, lot_id, reading_saved=None, **kw):
        lot_sudo = self._portal_check_own("stock.lot", lot_id)
        values = self._serial_get_page_view_values(
            lot_sudo, reading_saved=bool(reading_saved), **kw
        )
        return request.render("serial_service.portal_my_serial", values)

    @http.route(
        ["/my/serials/<int:lot_id>/reading"],
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def portal_my_serial_reading(
        self, lot_id, meter_id=None, reading_date=None, value=None, **kw
    ):
        """Record the reading the customer typed; a refused one comes back on
        the page with its reason, and nothing is written."""
        lot_sudo = self._portal_check_own("stock.lot", lot_id)
        self._portal_check_may_record_reading(lot_sudo)

        def record():
            meter, moment, number = self._parse_portal_reading(
                meter_id, reading_date, value
            )
            return request.env["serial.meter.reading"]._portal_record_reading(
                request.env["stock.lot"].browse(lot_sudo.id), meter, moment, number
            )

        _reading, refused_page = self._serial_form_submit(
            lot_sudo,
            record,
            "reading_error",
            reading_input={
                "meter_id": meter_id,
                "reading_date": reading_date,
                "value": value,
            },
        )
        return refused_page or request.redirect(
            f"/my/serials/{lot_sudo.id}?reading_saved=1"
        )

    def _portal_may_record_reading(self, lot_sudo):
        """A reading is recorded here for the customer who owns the serial (a
        portal user of its company), or for an employee allowed to record
        readings in the back office (not billing users, consultants or stock
        users: they only read them)."""
        if request.env.user._is_internal():
            return request.env["serial.meter.reading"].has_access("create")
        return bool(lot_sudo.filtered_domain(self._get_own_company_domain()))

    def _portal_check_may_record_reading(self, lot_sudo):
        """403 for an employee who may not record readings, 404 for a portal
        user whose serial it is not (it is not even said to exist)."""
        if not self._portal_may_record_reading(lot_sudo):
            raise Forbidden() if request.env.user._is_internal() else NotFound()

    def _serial_form_submit(self, lot_sudo, submit, error_key, **page_values):
        """(result of submit(), None), or (None, the serial's page with the
        reason under error_key) when submit() refuses the form: it runs in a
        savepoint, so that nothing of a refused form is written."""
        try:
            with request.env.cr.savepoint():
                result = submit()
                request.env.flush_all()
        except (UserError, ValidationError, AccessError) as error:
            request.env.invalidate_all()
            values = self._serial_get_page_view_values(
                lot_sudo, **{error_key: str(error)}, **page_values
            )
            return None, request.render("serial_service.portal_my_serial", values)
        return result, None

    def _portal_check_own(self, model_name, record_id):
        """The record, sudo, if the user may read it (their own serial or
        job); else 404: another customer's record is not even said to
        exist."""
        try:
            return self._document_check_access(model_name, record_id)
        except (AccessError, MissingError) as error:
            raise NotFound() from error

    @staticmethod
    def _parse_portal_id(text):
        """The record id a form sends, or None: plain ASCII digits only (not
        the other digits str.isdigit() accepts, as "²"), within the
        database's integers."""
        text = str(text or "").strip()
        if not (text.isascii() and text.isdecimal()) or len(text) > 10:
            return None
        number = int(text)
        return number if 0 < number <= MAX_RECORD_ID else None

    def _parse_portal_reading(self, meter_id, reading_date, value, tz_name=None):
        """(meter, UTC datetime, number) of the submitted form, or a
        ValidationError in the customer's words; the date is in tz_name (the
        user's by default)."""
        env = request.env
        meter = env["serial.meter.type"]
        meter_id = self._parse_portal_id(meter_id)
        if meter_id:
            meter = meter.browse(meter_id).exists()
        if not meter:
            raise ValidationError(env._("Choose the meter you read."))
        try:
            local = datetime.strptime(reading_date or "", INPUT_DATETIME)
        except ValueError as error:
            raise ValidationError(
                env._("Enter the date and time you read the meter.")
            ) from error
        tz = pytz.timezone(tz_name or env.user.tz or "UTC")
        moment = tz.localize(local).astimezone(pytz.utc).replace(tzinfo=None)
        try:
            number = float((value or "").strip())
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            # float() reads "nan", "inf" and "1e400" (infinite) too
            raise ValidationError(
                env._(
                    "The meter value must be a number, without spaces or "
                    "thousands separators (e.g. 125400)."
                )
            )
        return meter, moment, number

    def _serial_get_page_view_values(self, lot_sudo, **kwargs):
        Reading = request.env["serial.meter.reading"]
        # as the user: the record rules give the readings of their own serial
        domain = [("lot_id", "=", lot_sudo.id)]
        readings = (
            Reading.search(domain, limit=HISTORY_LIMIT)
            if Reading.has_access("read")
            else Reading
        )
        tz = pytz.timezone(request.env.user.tz or "UTC")
        now_local = pytz.utc.localize(fields.Datetime.now()).astimezone(tz)
        values = {
            "page_name": "serial",
            "serial": lot_sudo,
            "contract": lot_sudo.running_subscription_id,
            "meters": lot_sudo.product_id.meter_type_ids,
            "can_record_reading": self._portal_may_record_reading(lot_sudo),
            "readings": readings,
            "reading_total": Reading.search_count(domain) if readings else 0,
            "history_limit": HISTORY_LIMIT,
            "reading_error": kwargs.pop("reading_error", None),
            "reading_saved": kwargs.pop("reading_saved", False),
            "reading_input": kwargs.pop("reading_input", None)
            or {"reading_date": now_local.strftime(INPUT_DATETIME)},
        }
        return self._get_page_view_values(
            lot_sudo, None, values, "my_serials_history", False, **kwargs
        )

    # ------------------------------------------------------------------
    # Invoices: the readings behind the usage lines
    # ------------------------------------------------------------------
    def _invoice_get_page_view_values(self, invoice, access_token, **kwargs):
        values = super()._invoice_get_page_view_values(invoice, access_token, **kwargs)
        values["usage_reading_groups"] = self._get_invoice_usage_readings(invoice)
        return values

    def _get_invoice_usage_readings(self, invoice_sudo):
        """[(invoice line, its readings)] for the usage lines of the invoice
        that carry readings, in line order."""
        lines = invoice_sudo.invoice_line_ids
        Reading = request.env["serial.meter.reading"]
        domain = [("invoice_line_id", "in", lines.ids)]
        if request.env.user._is_public():
            # sudo: the visitor holds this invoice's access token; only the
            # readings billed on its lines, of its own customer's serials
            customer = invoice_sudo.commercial_partner_id
            readings = Reading.sudo().search(
                [*domain, ("lot_id.customer_id", "child_of", customer.id)]
            )
        elif Reading.has_access("read"):
            # as the user: the record rules give their own serials' readings
            readings = Reading.search(domain)
        else:
            readings = Reading
        by_line = defaultdict(readings.browse)
        for reading in readings.sorted(
            lambda r: (r.lot_id.name, r.meter_type_id.id, r.reading_date)
        ):
            by_line[reading.invoice_line_id.id] |= reading
        return [(line, by_line[line.id]) for line in lines if line.id in by_line]
