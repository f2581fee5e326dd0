from collections import defaultdict

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.tools import SQL

# sequence of the usage lines on an invoice, so they can be found again
USAGE_SEQUENCE = 10000


class SaleSubscription(models.Model):
    """Usage billing around subscription_oca's invoice and order: estimates
    made before, the readings to bill (held ones kept back and named in the
    chatter), and the readings marked billed after. The lines themselves:
    sale_subscription_usage_pricing."""

    _inherit = "sale.subscription"

    # --- invoice and order values (never write) ----------------------------
    def _prepare_account_move(self, line_ids):
        values = super()._prepare_account_move(line_ids)
        if not self.env.context.get("serial_usage_lines_added"):
            values["invoice_line_ids"] = list(values.get("invoice_line_ids") or []) + [
                Command.create(vals) for vals, _readings in self._get_usage_lines()
            ]
        return values

    def _prepare_sale_order(self, line_ids=False):
        values = super()._prepare_sale_order(line_ids=line_ids)
        values["order_line"] = list(values.get("order_line") or []) + [
            Command.create(self._usage_vals_for_order(vals))
            for vals, _readings in self._get_usage_lines()
        ]
        return values

    @api.model
    def _usage_vals_for_order(self, vals):
        return {
            "product_id": vals["product_id"],
            "name": vals["name"],
            "product_uom_qty": vals["quantity"],
            "price_unit": vals["price_unit"],
            "sequence": vals["sequence"],
        }

    # --- creating the invoice or order: estimates before, links after -------
    def create_invoice(self):
        if self._may_create_billing_document("account.move"):
            # serials with nothing new to bill are billed on an estimate
            self._create_usage_estimates()
        invoice = super().create_invoice()
        if invoice:
            self._link_usage_readings(invoice.invoice_line_ids)
            self._log_held_usage()
        return invoice

    def create_sale_order(self):
        if self._may_create_billing_document("sale.order"):
            self._create_usage_estimates()
        order = super().create_sale_order()
        if order:
            self._log_held_usage()
        return order

    def generate_invoice(self):
        day = self.recurring_next_date
        res = super().generate_invoice()
        if self.template_id.invoicing_mode == "sale_and_invoice":
            order = self.sale_order_ids.sorted("id")[-1:]
            # invoices from orders are numbered anew: go through the order lines
            by_sequence = {
                line.sequence: line.invoice_lines[:1]
                for line in order.order_line
                if line.sequence >= USAGE_SEQUENCE
            }
            self._link_usage_readings_by_sequence(by_sequence, day)
        return res

    def _may_create_billing_document(self, model):
        """subscription_oca's own test before it creates an invoice or an
        order: who may create them, or who may change the contracts."""
        return self.env[model].has_access("create") or self.has_access("write")

    def _get_usage_day(self):
        self.ensure_one()
        return self.recurring_next_date or fields.Date.context_today(self)

    def _create_usage_estimates(self):
        """Estimated readings (source `estimate`) for the covered serials and
        tariff meters of these contracts with nothing new to bill up to each
        one's invoice date: they are billed like any reading, and trued up by
        the next real one. One read per invoice date."""
        Reading = self.env["serial.meter.reading"]
        by_day = defaultdict(lambda: self.browse())
        for contract in self:
            by_day[contract._get_usage_day()] |= contract
        vals_list = []
        for day, contracts in by_day.items():
            pairs = {
                (lot.id, meter.id)
                for contract in contracts
                for lot in contract.covered_lot_ids
                for meter in contract.usage_tariff_ids.meter_type_id
            }
            vals_list += [
                vals
                for vals in Reading._prepare_estimate_vals(
                    contracts.covered_lot_ids,
                    contracts.usage_tariff_ids.meter_type_id,
                    day,
                )
                # never one for a serial and meter held for review either: its
                # reading to review is not billed, and is either up to the day
                # (nothing estimated with a reading to bill) or after it (nothing
                # estimated before a later reading)
                if (vals["lot_id"], vals["meter_type_id"]) in pairs
            ]
        # sudo: estimating is part of invoicing the contract, whoever may
        # invoice it (a billing clerk records no readings)
        return Reading.sudo().create(vals_list) if vals_list else Reading

    # --- readings to bill ---------------------------------------------------
    def _read_unbilled_readings(self, until=None):
        """The readings not yet billed of these contracts' serials and tariff
        meters up to the latest of their invoice dates (or until), in one read
        (each contract keeps its own: `_get_usage_lines`)."""
        Reading = self.env["serial.meter.reading"]
        meters = self.usage_tariff_ids.meter_type_id
        if not meters or not self.covered_lot_ids:
            return Reading
        until = until or max(contract._get_usage_day() for contract in self)
        return Reading.search(
            [
                ("lot_id", "in", self.covered_lot_ids.ids),
                ("meter_type_id", "in", meters.ids),
                ("invoice_line_id", "=", False),
                # a superseded reading is never billed
                ("superseded_by_id", "=", False),
                (
                    "reading_date",
                    "<",
                    fields.Datetime.to_datetime(until) + relativedelta(days=1),
                ),
            ],
            order="reading_date, id",
        )

    def _read_last_billed_readings(self):
        """{(serial, meter): its last billed reading} for these contracts'
        serials and tariff meters, in one query: where a period's usage
        starts from."""
        Reading = self.env["serial.meter.reading"]
        lots, meters = self.covered_lot_ids, self.usage_tariff_ids.meter_type_id
        if not lots or not meters:
            return {}
        Reading.flush_model(
            ["lot_id", "meter_type_id", "reading_date", "invoice_line_id"]
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ON (lot_id, meter_type_id) id
                  FROM serial_meter_reading
                 WHERE lot_id = ANY(%s) AND meter_type_id = ANY(%s)
                   AND invoice_line_id IS NOT NULL
              ORDER BY lot_id, meter_type_id, reading_date DESC, id DESC
                """,
                lots.ids,
                meters.ids,
            )
        )
        return {
            (reading.lot_id, reading.meter_type_id): reading
            for reading in Reading.browse(row[0] for row in rows)
        }

    def _get_own_unbilled(self, day, unbilled=None):
        """This contract's readings to bill up to the day, among `unbilled`
        (`_read_unbilled_readings` of a batch holding it) or read now."""
        self.ensure_one()
        if unbilled is None:
            unbilled = self._read_unbilled_readings(until=day)
        until = fields.Datetime.to_datetime(day) + relativedelta(days=1)
        lot_ids = set(self.covered_lot_ids.ids)
        meter_ids = set(self.usage_tariff_ids.meter_type_id.ids)
        return unbilled.filtered(
            lambda r: (
                r.lot_id.id in lot_ids
                and r.meter_type_id.id in meter_ids
                and r.reading_date < until
            )
        )

    @api.model
    def _get_held_readings(self, readings):
        """{(serial, meter): first reading to review} among these readings:
        it and the later ones of its serial and meter wait for the review."""
        held = {}
        to_review = readings.filtered(lambda r: r.review_state == "to_review")
        for reading in to_review.sorted(lambda r: (r.reading_date, r.id)):
            held.setdefault((reading.lot_id, reading.meter_type_id), reading)
        return held

    def _get_held_usage_note(self, day=None, unbilled=None):
        """The note telling the contract which serials and meters were not
        billed, held by a reading to review; empty when none."""
        self.ensure_one()
        if not self.usage_tariff_ids:
            return ""
        held = self._get_held_readings(
            self._get_own_unbilled(day or self._get_usage_day(), unbilled)
        )
        if not held:
            return ""
        items = [
            Markup("<li>%s</li>")
            % self.env._(
                "%(meter)s of %(serial)s: reading %(value)s of %(date)s is far above "
                "its usual usage; it and the later readings are billed once it is "
                "approved or corrected (Readings to Review)",
                meter=meter.name,
                serial=lot.name,
                value=format(reading.value, "g"),
                date=reading.reading_date.date(),
            )
            for (lot, meter), reading in held.items()
        ]
        return Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("Usage held for review, not billed on this invoice:"),
            Markup("").join(items),
        )

    def _log_held_usage(self, day=None):
        for contract in self:
            note = contract._get_held_usage_note(day)
            if note:
                contract._message_log(body=note)

    def _link_usage_readings(self, invoice_lines, day=None, usage_lines=None):
        """Mark the readings billed by the usage lines just created: the first
        line of each group carries them; they are never billed again.
        usage_lines: what `_get_usage_lines` gave for these lines, if known."""
        usage_lines_by_sequence = {
            line.sequence: line
            for line in invoice_lines
            if line.sequence >= USAGE_SEQUENCE
        }
        self._link_usage_readings_by_sequence(
            usage_lines_by_sequence, day, usage_lines=usage_lines
        )

    def _link_usage_readings_by_sequence(self, by_sequence, day=None, usage_lines=None):
        if not by_sequence:
            return
        if usage_lines is None:
            usage_lines = self._get_usage_lines(day)
        Reading = self.env["serial.meter.reading"]
        billed = Reading.union(*(readings for _vals, readings in usage_lines))
        # read before anything is marked billed, as the lines were built
        allocations = billed._get_true_up_allocations()
        linked = Reading
        for vals, readings in usage_lines:
            line = by_sequence.get(vals["sequence"])
            # the first line of a group (that reached the invoice) carries them
            readings -= linked
            if line and readings:
                # sudo: marking the readings billed is part of invoicing the
                # contract, whoever may invoice it (billing clerk, consultant)
                readings.sudo().write({"invoice_line_id": line.id})
                linked |= readings
        for reading_id, credits in allocations.items():
            if Reading.browse(reading_id) not in linked:
                continue
            for estimate, units in credits:
                # sudo: as above; the estimate is billed, only this may change
                estimate.sudo().overestimate_qty += units
