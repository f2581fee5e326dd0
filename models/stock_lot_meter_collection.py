from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL


class StockLot(models.Model):
    """Meters Not Read: the serials of running contracts invoiced within the
    company's billing window with no reading to bill for that invoice; from
    the list, a request is sent or the estimate accepted (recorded now). And
    which meter source wins on a serial's readings of a day."""

    _inherit = "stock.lot"

    meter_read_missing = fields.Boolean(
        string="Meter Not Read",
        compute="_compute_meter_read_missing",
        search="_search_meter_read_missing",
        help="A meter of its contract's tariffs has no reading to bill on the "
        "contract's next invoice, due within the billing window.",
    )

    def _compute_meter_read_missing(self):
        missing = self._get_meter_read_missing()
        for lot in self:
            lot.meter_read_missing = lot.id in missing

    def _search_meter_read_missing(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        ids = list(self._get_meter_read_missing())
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", ids)]

    @api.model
    def _get_meter_read_missing(self):
        """{lot id: [(meter id, contract id, invoice date)]} of the meters
        with nothing to bill on the next invoice, in one query."""
        today = fields.Date.context_today(self)
        window = self.env.company.meter_billing_window_days
        self.env["serial.meter.reading"].flush_model()
        self.env["sale.subscription"].flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT rel.lot_id, t.meter_type_id, s.id, s.recurring_next_date
                  FROM sale_subscription s
                  JOIN sale_subscription_stage st
                    ON st.id = s.stage_id AND st.type = 'in_progress'
                  JOIN sale_subscription_stock_lot_rel rel
                    ON rel.subscription_id = s.id
                  JOIN serial_usage_tariff t ON t.subscription_id = s.id
                 WHERE s.recurring_next_date <= %(horizon)s
                   AND s.date_start <= %(today)s
                   AND (s.date IS NULL OR s.date >= %(today)s)
                   AND NOT EXISTS (
                        SELECT 1 FROM serial_meter_reading r
                         WHERE r.lot_id = rel.lot_id
                           AND r.meter_type_id = t.meter_type_id
                           AND r.invoice_line_id IS NULL
                           AND r.superseded_by_id IS NULL
                           AND r.reading_date < s.recurring_next_date + 1
                   )
                """,
                horizon=today + timedelta(days=window),
                today=today,
            )
        )
        missing = {}
        for lot_id, meter_id, contract_id, day in rows:
            missing.setdefault(lot_id, []).append((meter_id, contract_id, day))
        return missing

    def _get_meter_contracts(self, day):
        """The contracts running on the day that cover these serials."""
        return self.subscription_ids.filtered(
            lambda c: c._is_running_on(day) and c.covered_lot_ids & self
        )

    # --- meter source precedence ---
    def _get_meter_source_ranking(self, day):
        """The meter sources, first wins, for this serial's readings of the
        day: the precedence of the template of the contract covering it that
        day (the default one without a contract)."""
        self.ensure_one()
        running = self.subscription_ids.filtered(lambda c: c._is_running_on(day))
        template = running[:1].template_id or self.env["sale.subscription.template"]
        return template._get_meter_source_ranking()

    # --- from Meters Not Read ---------------------------------------------------
    def action_send_meter_request(self):
        self.env["serial.meter.reading"]._check_may_review()
        today = fields.Date.context_today(self)
        return self._get_meter_contracts(today).action_send_meter_request()

    def action_accept_estimate(self):
        """Record now the estimate the next invoice would make for the meters
        not read, so that it leaves the list; refused without a usage history
        to estimate from."""
        Reading = self.env["serial.meter.reading"]
        Reading._check_may_review()
        missing = self._get_meter_read_missing()
        vals_list = []
        for lot in self:
            for meter_id, _contract_id, day in missing.get(lot.id, []):
                vals_list += Reading._prepare_estimate_vals(
                    lot, self.env["serial.meter.type"].browse(meter_id), day
                )
        estimated = {vals["lot_id"] for vals in vals_list}
        without = self.filtered(
            lambda lot: lot.id in missing and lot.id not in estimated
        )
        if without:
            raise UserError(
                self.env._(
                    "No estimate can be made for %(serials)s: not enough readings "
                    "to know the usual usage. Ask the customer for a reading.",
                    serials=", ".join(without.mapped("name")),
                )
            )
        # sudo: estimating is part of invoicing, as the billing run does it
        return Reading.sudo().create(vals_list) and True
