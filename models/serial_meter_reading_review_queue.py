from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

REVIEW_REASONS = [
    ("held", "Far Above Usual Usage"),
    ("conflict", "Sources Disagree"),
    ("window", "Outside Billing Window"),
]


class SerialMeterReading(models.Model):
    """The review queue (Readings to Review) beyond the held readings: a
    reading superseded by another source's of the same day whose values
    disagree beyond the company's tolerance, and the last reading a contract
    invoiced within the billing window would bill although it is older than
    the window. Approved (kept as it is), corrected, or a request sent."""

    _inherit = "serial.meter.reading"

    review_reason = fields.Selection(
        selection=REVIEW_REASONS,
        compute="_compute_review_reason",
        search="_search_review_reason",
        help="Why the reading is in Readings to Review.",
    )
    review_accepted = fields.Boolean(
        string="Accepted as It Is",
        readonly=True,
        copy=False,
        help="A person kept this disagreeing or old reading as it is.",
    )

    def _compute_review_reason(self):
        reasons = self._get_review_reasons(self.ids)
        for reading in self:
            reading.review_reason = reasons.get(reading.id, False)

    def _search_review_reason(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            return NotImplemented
        reasons = self._get_review_reasons()
        wanted = {value} if isinstance(value, str | bool) else set(value)
        if operator in ("=", "in"):
            if False in wanted:
                return [("id", "not in", list(reasons))]
            ids = [rid for rid, reason in reasons.items() if reason in wanted]
        else:
            if False in wanted:
                return [("id", "in", list(reasons))]
            ids = [rid for rid, reason in reasons.items() if reason not in wanted]
            return ["|", ("id", "in", ids), ("id", "not in", list(reasons))]
        return [("id", "in", ids)]

    @api.model
    def _get_review_reasons(self, ids=None):
        """{reading id: reason} of the readings to review (among ids), one
        query: held first, then conflicts, then readings outside the window."""
        company = self.env.company
        today = fields.Date.context_today(self)
        window = company.meter_billing_window_days
        self.flush_model()
        self.env["sale.subscription"].flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                WITH due AS (
                    SELECT DISTINCT s.recurring_next_date AS day, rel.lot_id,
                           t.meter_type_id
                      FROM sale_subscription s
                      JOIN sale_subscription_stage st
                        ON st.id = s.stage_id AND st.type = 'in_progress'
                      JOIN sale_subscription_stock_lot_rel rel
                        ON rel.subscription_id = s.id
                      JOIN serial_usage_tariff t ON t.subscription_id = s.id
                     WHERE s.recurring_next_date <= %(horizon)s
                       AND s.date_start <= %(today)s
                       AND (s.date IS NULL OR s.date >= %(today)s)
                ),
                last AS (
                    SELECT DISTINCT ON (d.lot_id, d.meter_type_id)
                           r.id, r.source, r.reading_date, r.review_accepted, d.day
                      FROM due d
                      JOIN serial_meter_reading r
                        ON r.lot_id = d.lot_id AND r.meter_type_id = d.meter_type_id
                       AND r.invoice_line_id IS NULL
                       AND r.superseded_by_id IS NULL
                       AND r.reading_date < d.day + 1
                  ORDER BY d.lot_id, d.meter_type_id, r.reading_date DESC, r.id DESC
                )
                SELECT id, 'held' FROM serial_meter_reading
                 WHERE review_state = 'to_review'
                UNION ALL
                SELECT r.id, 'conflict'
                  FROM serial_meter_reading r
                  JOIN serial_meter_reading w ON w.id = r.superseded_by_id
                 WHERE NOT COALESCE(r.review_accepted, FALSE)
                   AND ABS(r.value - w.value)
                       > GREATEST(ABS(w.value), 1) * %(tolerance)s / 100.0
                UNION ALL
                SELECT id, 'window' FROM last
                 WHERE source != 'estimate'
                   AND NOT COALESCE(review_accepted, FALSE)
                   AND reading_date < day - %(window)s
                """,
                horizon=today + timedelta(days=window),
                today=today,
                window=window,
                tolerance=company.meter_conflict_tolerance,
            )
        )
        reasons = {}
        for reading_id, reason in rows:
            if ids is None or reading_id in ids:
                reasons.setdefault(reading_id, reason)
        return reasons

    # --- from the queue: approve, correct, ask for a read -------------------
    def action_approve(self):
        """Also keeps disagreeing or old readings as they are."""
        res = super().action_approve()
        reasons = self._get_review_reasons(self.ids)
        accepted = self.filtered(lambda r: reasons.get(r.id) in ("conflict", "window"))
        if accepted:
            # sudo: as approving a held reading, a billing decision
            accepted.sudo()._write_derived({"review_accepted": True})
        return res

    def action_send_meter_request(self):
        """Ask the customers of these readings' contracts for a new read."""
        self._check_may_review()
        today = fields.Date.context_today(self)
        contracts = self.lot_id._get_meter_contracts(today)
        return contracts.action_send_meter_request()
