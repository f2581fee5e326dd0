from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

# a meter read within this many days is not asked for, when the template
# sends no requests of its own (meter_request_days = 0)
RECENT_READ_DAYS = 7


class SaleSubscription(models.Model):
    """Meter read requests (DESIGN.md, "Meter reads to review, and reads to
    ask for"): the meters due on a contract, the e-mail that asks the
    customer for them with a tokenised link, the daily run that sends it
    `meter_request_days` before each invoice date with one reminder."""

    _name = "sale.subscription"
    _inherit = ["sale.subscription", "portal.mixin"]

    meter_contact_id = fields.Many2one(
        "res.partner",
        string="Meter Contact",
        domain="[('id', 'child_of', commercial_partner_id)]",
        help="Who gets the meter read requests; empty: the customer.",
    )
    meter_request_date = fields.Date(
        string="Meter Request For",
        readonly=True,
        copy=False,
        help="The invoice date the last meter read request asked for.",
    )
    meter_request_sent_date = fields.Date(
        string="Meter Request Sent", readonly=True, copy=False
    )
    meter_reminder_sent_date = fields.Date(
        string="Meter Reminder Sent",
        readonly=True,
        copy=False,
        help="When the reminder of the last request was sent (one per request).",
    )

    # --- portal: the contract's page is its meter request page ---
    def _compute_access_url(self):
        # replaces portal.mixin's placeholder ("#")
        for contract in self:
            contract.access_url = f"/meter/{contract.id}"

    # --- meters due -----------------------------------------------------------
    def _get_requestable_pairs(self):
        """{contract: [(serial, meter)]}: its covered serials x the meters of
        its tariffs that the serial's product carries (the ones a customer may
        enter)."""
        result = {}
        for contract in self:
            meters = contract.usage_tariff_ids.meter_type_id
            result[contract] = [
                (lot, meter)
                for lot in contract.covered_lot_ids.sorted("name")
                for meter in meters
                if meter in lot.product_id.meter_type_ids
            ]
        return result

    def _get_meters_due(self, today=None):
        """{contract: [(serial, meter)]} of the meters to ask for: requestable,
        and with no real reading (not an estimate, not superseded) in the last
        `meter_request_days` days (RECENT_READ_DAYS when 0), e.g. sent by the
        device or entered since the request. One query."""
        today = today or fields.Date.context_today(self)
        requestable = self._get_requestable_pairs()
        lots = self.covered_lot_ids
        meters = self.usage_tariff_ids.meter_type_id
        if not lots or not meters:
            return {contract: [] for contract in self}
        Reading = self.env["serial.meter.reading"]
        Reading.flush_model()
        oldest = min(
            today - timedelta(days=c.template_id.meter_request_days or RECENT_READ_DAYS)
            for c in self
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT lot_id, meter_type_id, MAX(reading_date)
                  FROM serial_meter_reading
                 WHERE lot_id = ANY(%s) AND meter_type_id = ANY(%s)
                   AND source != 'estimate' AND superseded_by_id IS NULL
                   AND reading_date >= %s
              GROUP BY lot_id, meter_type_id
                """,
                lots.ids,
                meters.ids,
                fields.Datetime.to_datetime(oldest),
            )
        )
        last_read = {(lot, meter): moment.date() for lot, meter, moment in rows}
        result = {}
        for contract, pairs in requestable.items():
            since = today - timedelta(
                days=contract.template_id.meter_request_days or RECENT_READ_DAYS
            )
            result[contract] = [
                (lot, meter)
                for lot, meter in pairs
                if last_read.get((lot.id, meter.id), oldest - timedelta(days=1)) < since
            ]
        return result

    def _get_meter_request_lines(self, pairs):
        """What the e-mail and the page list for the meters due: serial,
        product, meter and the last real reading, read once."""
        self.ensure_one()
        if not pairs:
            return []
        lots = self.env["stock.lot"].union(*(lot for lot, _meter in pairs))
        meters = self.env["serial.meter.type"].union(*(m for _lot, m in pairs))
        last = self.env["serial.meter.reading"]._get_last_real_readings(lots, meters)
        return [
            {
                "lot": lot,
                "meter": meter,
                "last": last.get((lot.id, meter.id)),
            }
            for lot, meter in pairs
        ]

    def _get_meter_request_url(self):
        self.ensure_one()
        self._portal_ensure_token()
        return f"{self.get_base_url()}/meter/{self.id}/{self.access_token}"

    # --- sending -----------------------------------------------------------------
    def action_send_meter_request(self):
        """E-mail the meter contact now the meters due on each contract, with
        the link to enter them (service managers, billing users, and those
        who may change the contracts)."""
        if not self.has_access("write"):
            self.env["serial.meter.reading"]._check_may_review()
        due = self._get_meters_due()
        to_send = self.filtered(lambda c: due[c])
        if not to_send:
            raise UserError(
                self.env._(
                    "No meter is due on %(contracts)s: every meter of the covered "
                    "serials was read recently (or the contract bills no meter).",
                    contracts=", ".join(self.mapped("name")),
                )
            )
        to_send._send_meter_request(due)
        return True

    def _send_meter_request(self, due, reminder=False):
        """Post the request (or its reminder) on each contract, e-mailed to
        its meter contact, and note what was sent for the period."""
        template = self.env.ref("serial_service.mail_template_meter_request")
        today = fields.Date.context_today(self)
        for contract in self:
            contract._portal_ensure_token()
            # sudo: sending the request is part of billing the contract; a
            # billing user may not write contracts, and the template is ours
            contract.sudo().with_context(
                meter_request_lines=contract._get_meter_request_lines(due[contract]),
                meter_request_url=contract._get_meter_request_url(),
                meter_request_reminder=reminder,
            ).message_post_with_source(
                template, subtype_xmlid="mail.mt_comment", message_type="comment"
            )
        vals = (
            {"meter_reminder_sent_date": today}
            if reminder
            else {
                "meter_request_sent_date": today,
                "meter_reminder_sent_date": False,
            }
        )
        for contract in self:
            # sudo: as above, the tracking fields of the request only
            contract.sudo().write(
                dict(vals, meter_request_date=contract.recurring_next_date)
                if not reminder
                else vals
            )

    # --- the daily run -----------------------------------------------------------
    @api.model
    def _cron_send_meter_requests(self):
        """Daily: a request to every running contract whose template asks
        for reads, from `meter_request_days` before its invoice date, once per
        invoice date; one reminder half way (at least a day later) if meters
        are still due. Nothing is sent where no meter is due."""
        today = fields.Date.context_today(self)
        contracts = self.search(
            [
                ("template_id.meter_request_days", ">", 0),
                ("stage_id.type", "=", "in_progress"),
                ("recurring_next_date", ">=", today),
                ("usage_tariff_ids", "!=", False),
                ("covered_lot_ids", "!=", False),
            ]
        ).filtered(lambda c: c._is_running_on(today))
        requests, reminders = self.browse(), self.browse()
        for contract in contracts:
            days = contract.template_id.meter_request_days
            if contract.meter_request_date != contract.recurring_next_date:
                if today >= contract.recurring_next_date - timedelta(days=days):
                    requests |= contract
            elif (
                not contract.meter_reminder_sent_date
                and today
                >= contract.meter_request_sent_date + timedelta(days=max(days // 2, 1))
                and today < contract.recurring_next_date
            ):
                reminders |= contract
        due = (requests | reminders)._get_meters_due(today)
        by_kind = defaultdict(lambda: self.browse())
        for contract in requests | reminders:
            if due[contract]:
                by_kind[contract in reminders] |= contract
        for reminder, batch in by_kind.items():
            for contract in batch:
                try:
                    with self.env.cr.savepoint():
                        contract._send_meter_request(due, reminder=reminder)
                except (UserError, ValueError) as error:
                    # one contract's mail that cannot be made (no e-mail
                    # address...) stops no other; the reason is left on it
                    contract.sudo().activity_schedule(
                        "mail.mail_activity_data_warning",
                        summary=self.env._("Meter read request not sent"),
                        note=str(error),
                    )
        return True
