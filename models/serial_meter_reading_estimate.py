from collections import defaultdict
from datetime import datetime, time, timedelta

from odoo import api, fields, models
from odoo.tools import SQL


class SerialMeterReading(models.Model):
    """Estimates and true-up (DESIGN.md: "Missing readings are estimated from
    the serial's average daily usage and trued up when a real reading
    arrives"): a real reading after estimates trues them up; an estimate
    proved too high is credited on a later invoice."""

    _inherit = "serial.meter.reading"

    estimate_ids = fields.Many2many(
        "serial.meter.reading",
        relation="serial_meter_reading_estimate_rel",
        column1="reading_id",
        column2="estimate_id",
        string="Estimates Trued Up",
        readonly=True,
        copy=False,
        help="The estimated readings since the previous real reading: this real "
        "reading replaces them, its usage is counted from the last of them.",
    )
    overestimate_qty = fields.Float(
        string="Credited Overestimate",
        readonly=True,
        copy=False,
        digits=(16, 2),
        help="Units of this estimate that the next real reading proved were not "
        "used, credited on the invoice that billed that real reading.",
    )

    @api.model
    def _prepare_estimate_vals(self, lots, meters, day):
        """Values of the estimated readings to bill on an invoice dated `day`
        for the serials and meters that have nothing new to bill: no reading
        not yet billed up to that day. The estimate is dated at the start of
        the invoice day (or now, if earlier) and is the last reading's value
        plus the average daily usage since the last reset (first reading to
        last real reading) times the days since the last reading. No estimate
        without such a history, with no usage, or when a reading is already
        dated at or after that moment. One query for all serials."""
        if not lots or not meters:
            return []
        moment = min(
            datetime.combine(day, time.min),
            fields.Datetime.now().replace(microsecond=0),
        )
        until = datetime.combine(day, time.min) + timedelta(days=1)
        self.flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                WITH pairs AS (
                    SELECT l.id AS lot_id, m.id AS meter_type_id
                      FROM unnest(%(lots)s::int[]) AS l(id)
                     CROSS JOIN unnest(%(meters)s::int[]) AS m(id)
                ),
                history AS (
                    SELECT r.lot_id, r.meter_type_id, r.reading_date, r.source,
                           r.delta, r.value
                      FROM serial_meter_reading r
                      JOIN pairs p ON p.lot_id = r.lot_id
                       AND p.meter_type_id = r.meter_type_id
                     WHERE r.superseded_by_id IS NULL
                       AND r.reading_date >= COALESCE((
                            SELECT MAX(x.reading_date) FROM serial_meter_reading x
                             WHERE x.lot_id = r.lot_id
                               AND x.meter_type_id = r.meter_type_id
                               AND x.is_reset
                               AND x.superseded_by_id IS NULL
                           ), '-infinity'::timestamp)
                ),
                summary AS (
                    SELECT lot_id, meter_type_id,
                           MIN(reading_date) AS first_date,
                           MAX(reading_date) FILTER (
                               WHERE source != 'estimate') AS last_real_date,
                           MAX(reading_date) AS last_date
                      FROM history
                  GROUP BY lot_id, meter_type_id
                )
                SELECT s.lot_id, s.meter_type_id, s.first_date, s.last_real_date,
                       s.last_date,
                       (SELECT SUM(h.delta) FROM history h
                         WHERE h.lot_id = s.lot_id
                           AND h.meter_type_id = s.meter_type_id
                           AND h.reading_date <= s.last_real_date),
                       (SELECT h.value FROM history h
                         WHERE h.lot_id = s.lot_id
                           AND h.meter_type_id = s.meter_type_id
                           AND h.reading_date = s.last_date
                         LIMIT 1)
                  FROM summary s
                 WHERE NOT EXISTS (
                        SELECT 1 FROM serial_meter_reading u
                         WHERE u.lot_id = s.lot_id
                           AND u.meter_type_id = s.meter_type_id
                           AND u.invoice_line_id IS NULL
                           AND u.superseded_by_id IS NULL
                           AND u.reading_date < %(until)s
                       )
                """,
                lots=lots.ids,
                meters=meters.ids,
                until=until,
            )
        )
        meter_by_id = {meter.id: meter for meter in meters}
        vals_list = []
        for lot_id, meter_id, first, last_real, last, usage, last_value in rows:
            if not last_real or last >= moment or not usage or usage <= 0:
                continue
            span = (last_real - first).total_seconds() / 86400.0
            if span <= 0:
                continue
            meter = meter_by_id[meter_id]
            per_day = usage / span
            days = (moment - last).total_seconds() / 86400.0
            estimated = meter._round_usage(per_day * days)
            if meter.rollover_value:
                # an estimate never wraps the meter: the real reading will
                estimated = min(estimated, meter.rollover_value - last_value)
            if estimated <= 0:
                continue
            vals_list.append(
                {
                    "lot_id": lot_id,
                    "meter_type_id": meter_id,
                    "reading_date": moment,
                    "value": last_value + estimated,
                    "source": "estimate",
                    "note": self.env._(
                        "Estimate: %(per_day)s a day over %(days)s days",
                        per_day=format(per_day, ".2f"),
                        days=format(days, "g"),
                    ),
                }
            )
        return vals_list

    @api.model
    def _get_estimates_since_real(self, pairs):
        """({(lot, meter): last real reading before the pair's date},
        {(lot, meter): the estimates after that reading and before the date}),
        in one query."""
        if not pairs:
            return {}, {}
        self.flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT p.lot_id, p.meter_type_id, real.id,
                       ARRAY(
                           SELECT e.id FROM serial_meter_reading e
                            WHERE e.lot_id = p.lot_id
                              AND e.meter_type_id = p.meter_type_id
                              AND e.source = 'estimate'
                              AND e.reading_date < p.since
                              AND e.reading_date > COALESCE(
                                  real.reading_date, '-infinity'::timestamp)
                         ORDER BY e.reading_date, e.id
                       )
                  FROM (VALUES %s) AS p(lot_id, meter_type_id, since)
             LEFT JOIN LATERAL (
                       SELECT r.id, r.reading_date FROM serial_meter_reading r
                        WHERE r.lot_id = p.lot_id
                          AND r.meter_type_id = p.meter_type_id
                          AND r.source != 'estimate'
                          AND r.superseded_by_id IS NULL
                          AND r.reading_date < p.since
                     ORDER BY r.reading_date DESC, r.id DESC
                        LIMIT 1
                   ) real ON TRUE
                """,
                SQL(", ").join(
                    SQL("(%s, %s, %s::timestamp)", lot, meter, since)
                    for (lot, meter), since in pairs.items()
                ),
            )
        )
        last_real = {
            (lot, meter): self.browse(real_id) for lot, meter, real_id, _e in rows
        }
        estimates = {
            (lot, meter): self.browse(estimate_ids)
            for lot, meter, _real, estimate_ids in rows
        }
        return {k: v for k, v in last_real.items() if v}, estimates

    def _get_true_up_allocations(self):
        """{real reading id: [(estimate, units)]}: for the real readings among
        these (the unbilled readings of an invoice) that went below the
        estimate before them, the units of their negative delta that correct
        estimates billed on earlier invoices, latest estimate first, each up to
        its own estimated usage. The part that corrects estimates billed on
        this same invoice is netted in its usage and not listed here."""
        allocations = {}
        for reading in self.filtered(lambda r: r.delta < 0 and r.estimate_ids):
            rest = -reading.delta
            for estimate in reading.estimate_ids.sorted("reading_date", reverse=True):
                if rest <= 0:
                    break
                if estimate in self or not estimate.invoice_line_id:
                    rest -= max(estimate.delta, 0.0)
                    continue
                units = min(rest, estimate.delta - estimate.overestimate_qty)
                if units > 0:
                    allocations.setdefault(reading.id, []).append((estimate, units))
                    rest -= units
        return allocations

    @api.model
    def _get_billed_usage(self, invoice_lines):
        """{invoice line: usage it billed, less the overestimates credited
        since}: the usage of the readings it carries, plus the corrections of
        earlier estimates they made (billed apart), less what later real
        readings proved too high in the estimates it carries. One read."""
        readings = self.search([("invoice_line_id", "in", invoice_lines.ids)])
        usage = defaultdict(float)
        for reading in readings:
            usage[reading.invoice_line_id] += (
                reading.delta
                + sum(reading.estimate_ids.mapped("overestimate_qty"))
                - reading.overestimate_qty
            )
        return usage
