import math
from collections import defaultdict
from datetime import datetime, time, timedelta, timezone

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

# a reading whose usage per day exceeds this many times the serial's usual
# daily usage is kept, but flagged for review
SPIKE_FACTOR = 5.0
# a lower value is a rollover only when the previous reading was in the top
# part of the meter's range
ROLLOVER_ZONE = 0.9
# readings accepted in one device API request
API_MAX_READINGS = 10000


class SerialMeterReading(models.Model):
    _name = "serial.meter.reading"
    _description = "Meter Reading"
    _order = "reading_date desc, id desc"
    _check_company_auto = True

    lot_id = fields.Many2one(
        "stock.lot",
        string="Serial Number",
        required=True,
        index=True,
        ondelete="restrict",
        check_company=True,
    )
    company_id = fields.Many2one(
        related="lot_id.company_id", store=True, index=True, string="Company"
    )
    product_id = fields.Many2one(related="lot_id.product_id", store=True)
    customer_id = fields.Many2one(
        related="lot_id.customer_id", store=True, index=True, string="Customer"
    )
    meter_type_id = fields.Many2one(
        "serial.meter.type", string="Meter", required=True, index=True
    )
    reading_date = fields.Datetime(
        required=True, index=True, default=fields.Datetime.now
    )
    value = fields.Float(required=True, digits=(16, 2))
    source = fields.Selection(
        selection=[
            ("technician", "Technician"),
            ("customer", "Customer"),
            ("import", "Import"),
            ("device", "Device"),
            ("estimate", "Estimate"),
        ],
        required=True,
        default="technician",
    )
    request_id = fields.Many2one(
        "maintenance.request", string="Job", index=True, ondelete="set null"
    )
    is_reset = fields.Boolean(
        string="Meter Reset",
        help="A new meter (or a meter set back to zero): this reading is the new "
        "baseline. Record the old meter's last reading before it.",
    )
    delta = fields.Float(
        readonly=True,
        digits=(16, 2),
        help="Usage since the previous reading of this serial and meter.",
    )
    is_flagged = fields.Boolean(
        string="Flagged for Review",
        readonly=True,
        help="The usage per day is far above the serial's usual daily usage.",
    )
    invoice_line_id = fields.Many2one(
        "account.move.line", string="Invoice Line", readonly=True, copy=False
    )
    note = fields.Char()
    # estimates and true-up (issue 5): a real reading after estimates trues
    # them up; an estimate proved too high is credited on a later invoice
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

    _sql_constraints = [
        (
            "reading_unique",
            "unique(lot_id, meter_type_id, reading_date)",
            "A serial has only one reading of a meter at a given time.",
        ),
    ]

    @api.depends("lot_id", "meter_type_id", "value", "reading_date")
    def _compute_display_name(self):
        for reading in self:
            reading.display_name = (
                f"{reading.lot_id.name} {reading.meter_type_id.code or ''} "
                f"{reading.value:g}"
            )

    @api.constrains("value", "reading_date")
    def _check_value_and_date(self):
        now = fields.Datetime.now()
        for reading in self:
            if reading.value < 0:
                raise ValidationError(
                    self.env._(
                        "A meter reading cannot be negative (%(serial)s, %(meter)s: "
                        "%(value)s).",
                        serial=reading.lot_id.name,
                        meter=reading.meter_type_id.name,
                        value=reading.value,
                    )
                )
            if reading.reading_date > now:
                raise ValidationError(
                    self.env._(
                        "A meter reading cannot be in the future (%(serial)s, "
                        "%(meter)s, %(date)s).",
                        serial=reading.lot_id.name,
                        meter=reading.meter_type_id.name,
                        date=reading.reading_date,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_duplicates_in_batch(vals_list)
        readings = super().create(vals_list)
        readings._recompute_deltas()
        readings._create_preventive_jobs()
        return readings

    def write(self, vals):
        billed = self.filtered("invoice_line_id")
        if billed and set(vals) - {"invoice_line_id", "note", "overestimate_qty"}:
            raise UserError(
                self.env._(
                    "Reading %(reading)s was billed and cannot be changed: record a "
                    "new reading to correct it.",
                    reading=billed[0].display_name,
                )
            )
        audited = {"value", "reading_date", "is_reset"} & set(vals)
        before = {r.id: r._audit_text() for r in self} if audited else {}
        res = super().write(vals)
        if {"value", "reading_date", "is_reset", "lot_id", "meter_type_id"} & set(vals):
            self._recompute_deltas()
            self._create_preventive_jobs()
        if audited:
            self._audit_on_serial("changed", before)
        return res

    def unlink(self):
        billed = self.filtered("invoice_line_id")
        if billed:
            raise UserError(
                self.env._(
                    "Reading %(reading)s was billed and cannot be deleted.",
                    reading=billed[0].display_name,
                )
            )
        pairs = {(r.lot_id.id, r.meter_type_id.id): r.reading_date for r in self}
        self._audit_on_serial("removed")
        res = super().unlink()
        self._recompute_deltas(pairs)
        return res

    # --- audit (issue 9): corrections noted on the serial's chatter --------
    def _audit_text(self):
        self.ensure_one()
        return self.env._(
            "%(meter)s %(value)s on %(date)s%(reset)s",
            meter=self.meter_type_id.name,
            value=f"{self.value:g}",
            date=self.reading_date,
            reset=self.env._(" (reset)") if self.is_reset else "",
        )

    def _audit_on_serial(self, action, before=None):
        """A reading corrected or deleted: a note on its serial says what it
        was, what it is, who (author) and when (date)."""
        if self.env.context.get("tracking_disable"):
            return
        for reading in self:
            if action == "changed":
                body = self.env._(
                    "Meter reading changed: %(old)s → %(new)s",
                    old=(before or {}).get(reading.id, ""),
                    new=reading._audit_text(),
                )
            else:
                body = self.env._(
                    "Meter reading deleted: %(old)s", old=reading._audit_text()
                )
            # sudo: a technician correcting a reading may not write the serial;
            # the note's author stays the user
            reading.lot_id.sudo().message_post(body=body, subtype_xmlid="mail.mt_note")

    # --- end audit ---------------------------------------------------------

    # ------------------------------------------------------------------
    # Deltas (DESIGN.md, Meters and usage billing)
    # ------------------------------------------------------------------
    @api.model
    def _check_duplicates_in_batch(self, vals_list):
        seen = set()
        for vals in vals_list:
            key = (
                vals.get("lot_id"),
                vals.get("meter_type_id"),
                fields.Datetime.to_datetime(vals.get("reading_date")),
            )
            if key[2] and key in seen:
                lot = self.env["stock.lot"].browse(key[0])
                raise ValidationError(
                    self.env._(
                        "Serial %(serial)s has two readings of the same meter at "
                        "%(date)s.",
                        serial=lot.name,
                        date=key[2],
                    )
                )
            seen.add(key)
        # the database constraint catches duplicates of existing readings, but
        # with a clear message here rather than an SQL error
        keys = [k for k in seen if k[2]]
        if keys:
            existing = self.search_fetch(
                [
                    ("lot_id", "in", [k[0] for k in keys]),
                    ("meter_type_id", "in", [k[1] for k in keys]),
                    ("reading_date", "in", [k[2] for k in keys]),
                ],
                ["lot_id", "meter_type_id", "reading_date"],
            )
            for reading in existing:
                key = (
                    reading.lot_id.id,
                    reading.meter_type_id.id,
                    reading.reading_date,
                )
                if key in seen:
                    raise ValidationError(
                        self.env._(
                            "Serial %(serial)s already has a reading of %(meter)s at "
                            "%(date)s.",
                            serial=reading.lot_id.name,
                            meter=reading.meter_type_id.name,
                            date=reading.reading_date,
                        )
                    )

    def _recompute_deltas(self, pairs=None):
        """Recompute delta and spike flag of every reading of the touched
        (serial, meter) pairs from the earliest touched date on, in one read of
        the previous readings and one read of the following ones.

        pairs: {(lot id, meter id): earliest date}; default: from self.
        """
        if pairs is None:
            pairs = {}
            for reading in self:
                key = (reading.lot_id.id, reading.meter_type_id.id)
                if key not in pairs or reading.reading_date < pairs[key]:
                    pairs[key] = reading.reading_date
        if not pairs:
            return
        self.flush_model()
        previous_ids = self._get_previous_reading_ids(pairs)
        lot_ids = list({lot_id for lot_id, _meter in pairs})
        meter_ids = list({meter_id for _lot, meter_id in pairs})
        start = min(pairs.values())
        following = self.search(
            [
                ("lot_id", "in", lot_ids),
                ("meter_type_id", "in", meter_ids),
                ("reading_date", ">=", start),
            ],
            order="reading_date, id",
        )
        # history before the earliest touched date: the usual daily usage
        stats = self._get_usage_stats(pairs)
        previous = {
            (r.lot_id.id, r.meter_type_id.id): r
            for r in self.browse(previous_ids.values())
        }
        # after estimates: the last real reading (the floor of a true-up) and
        # the estimates since it (what the next real reading trues up)
        last_real, pending = self._get_estimates_since_real(
            {
                key: pairs[key]
                for key, reading in previous.items()
                if reading.source == "estimate"
            }
        )
        chains = defaultdict(list)
        for reading in following:
            key = (reading.lot_id.id, reading.meter_type_id.id)
            if key in pairs and reading.reading_date >= pairs[key]:
                chains[key].append(reading)
        for key, chain in chains.items():
            prev = previous.get(key)
            real = last_real.get(key) or (
                prev if prev and prev.source != "estimate" else None
            )
            estimates = pending.get(key, self.browse())
            total, first_date = stats.get(key, (0.0, None))
            for reading in chain:
                delta, flagged = reading._get_delta(prev, total, first_date, real)
                if reading.invoice_line_id and abs(delta - reading.delta) > 1e-6:
                    raise UserError(
                        self.env._(
                            "This change would alter the usage of the billed reading "
                            "%(reading)s: record a new reading instead.",
                            reading=reading.display_name,
                        )
                    )
                trued_up = (
                    estimates
                    if reading.source != "estimate" and not reading.is_reset
                    else self.browse()
                )
                changes = {}
                if (reading.delta, reading.is_flagged) != (delta, flagged):
                    changes.update(delta=delta, is_flagged=flagged)
                if reading.estimate_ids != trued_up:
                    changes["estimate_ids"] = [Command.set(trued_up.ids)]
                if changes:
                    # sudo: deltas are derived data; a backdated reading re-chains
                    # the readings after it, whoever recorded them
                    super(SerialMeterReading, reading.sudo()).write(changes)
                if reading.is_reset:
                    total, first_date = 0.0, reading.reading_date
                else:
                    total += delta
                    first_date = first_date or (prev and prev.reading_date)
                if reading.source == "estimate":
                    estimates |= reading
                else:
                    real, estimates = reading, self.browse()
                prev = reading
        self.env["stock.lot"].browse(lot_ids)._refresh_usage_warranty()

    @api.model
    def _get_previous_reading_ids(self, pairs):
        """{(lot, meter): id of the last reading before the pair's date}."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ON (r.lot_id, r.meter_type_id)
                       r.lot_id, r.meter_type_id, r.id
                  FROM serial_meter_reading r
                  JOIN (VALUES %s) AS p(lot_id, meter_type_id, since)
                    ON p.lot_id = r.lot_id
                   AND p.meter_type_id = r.meter_type_id
                   AND r.reading_date < p.since
              ORDER BY r.lot_id, r.meter_type_id, r.reading_date DESC, r.id DESC
                """,
                SQL(", ").join(
                    SQL("(%s, %s, %s::timestamp)", lot, meter, since)
                    for (lot, meter), since in pairs.items()
                ),
            )
        )
        return {(lot, meter): rid for lot, meter, rid in rows}

    @api.model
    def _get_usage_stats(self, pairs):
        """{(lot, meter): (usage, first date)} since the last reset before the
        pair's date: the serial's usual daily usage."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT r.lot_id, r.meter_type_id, SUM(r.delta), MIN(r.reading_date)
                  FROM serial_meter_reading r
                  JOIN (VALUES %s) AS p(lot_id, meter_type_id, since)
                    ON p.lot_id = r.lot_id
                   AND p.meter_type_id = r.meter_type_id
                   AND r.reading_date < p.since
                 WHERE r.reading_date >= COALESCE((
                        SELECT MAX(x.reading_date) FROM serial_meter_reading x
                         WHERE x.lot_id = r.lot_id AND x.meter_type_id = r.meter_type_id
                           AND x.is_reset AND x.reading_date < p.since
                       ), '-infinity'::timestamp)
              GROUP BY r.lot_id, r.meter_type_id
                """,
                SQL(", ").join(
                    SQL("(%s, %s, %s::timestamp)", lot, meter, since)
                    for (lot, meter), since in pairs.items()
                ),
            )
        )
        return {
            (lot, meter): (total or 0.0, first) for lot, meter, total, first in rows
        }

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

    def _get_delta(self, previous, usage_before, first_date, last_real=None):
        """(delta, flagged) of this reading after `previous` (or None).

        last_real: the last reading before this one that is not an estimate.
        A real reading below the estimate before it is a true-up: its delta is
        negative (the estimate was too high), as long as it is not below the
        last real reading."""
        self.ensure_one()
        if not previous or self.is_reset:
            return 0.0, False
        rollover = self.meter_type_id.rollover_value
        if self.value >= previous.value:
            delta = self.value - previous.value
        elif (
            previous.source == "estimate"
            and self.source != "estimate"
            and last_real
            and self.value >= last_real.value
        ):
            delta = self.value - previous.value
        elif rollover and previous.value >= ROLLOVER_ZONE * rollover:
            delta = rollover + 1 - previous.value + self.value
        else:
            # after estimates, the reading that counts is the last real one
            shown = (
                last_real if previous.source == "estimate" and last_real else previous
            )
            raise ValidationError(
                self.env._(
                    "Reading %(value)s of %(meter)s on serial %(serial)s is lower "
                    "than the previous one (%(previous)s on %(date)s). Mark it as "
                    "a meter reset if the meter was replaced.",
                    value=f"{self.value:g}",
                    meter=self.meter_type_id.name,
                    serial=self.lot_id.name,
                    previous=f"{shown.value:g}",
                    date=shown.reading_date,
                )
            )
        days = (self.reading_date - previous.reading_date).total_seconds() / 86400.0
        flagged = False
        if first_date and usage_before > 0 and days > 0:
            usual_days = (previous.reading_date - first_date).total_seconds() / 86400.0
            if usual_days > 0:
                usual_per_day = usage_before / usual_days
                flagged = delta / days > SPIKE_FACTOR * usual_per_day
        return delta, flagged

    @api.model
    def _get_floor_values(self, pairs):
        """{(lot, meter): the value a new real reading at the pair's date may
        not go below (without a reset or a rollover)}: the previous reading's,
        or after estimates the last real reading's (a true-up may go below an
        estimate)."""
        previous_ids = self._get_previous_reading_ids(pairs)
        previous = dict(
            zip(previous_ids, self.browse(previous_ids.values()), strict=True)
        )
        last_real, _estimates = self._get_estimates_since_real(
            {key: pairs[key] for key, r in previous.items() if r.source == "estimate"}
        )
        return {
            key: (last_real[key] if key in last_real else reading).value
            for key, reading in previous.items()
            if reading.source != "estimate" or key in last_real
        }

    # ------------------------------------------------------------------
    # Estimates and true-up (DESIGN.md: "Missing readings are estimated from
    # the serial's average daily usage and trued up when a real reading
    # arrives")
    # ------------------------------------------------------------------
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
                     WHERE r.reading_date >= COALESCE((
                            SELECT MAX(x.reading_date) FROM serial_meter_reading x
                             WHERE x.lot_id = r.lot_id
                               AND x.meter_type_id = r.meter_type_id
                               AND x.is_reset
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
                        per_day=f"{per_day:.2f}",
                        days=f"{days:g}",
                    ),
                }
            )
        return vals_list

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

    # ------------------------------------------------------------------
    # Meter-triggered preventive maintenance
    # ------------------------------------------------------------------
    def _create_preventive_jobs(self):
        """One preventive job per serial whose usage, counted from its first
        reading (the baseline) on the meter its preventive plan follows, has
        reached a multiple k x N of the plan's interval N for which it has no
        job yet; the job carries the threshold k x N (a unique index refuses a
        second one) and the product's parts kit as lines. A reading jumping
        over several thresholds gives one job, for the highest. Estimates do
        not trigger jobs (only real usage does). One pass over the readings:
        a query for the usage, one for the existing thresholds."""
        readings = self.filtered(lambda r: r.source != "estimate" and r.lot_id)
        plans = {}
        for reading in readings:
            meter, interval = self._get_preventive_plan(
                reading.lot_id, reading.reading_date.date()
            )
            if interval > 0 and meter == reading.meter_type_id:
                plans[reading.lot_id, reading.meter_type_id] = interval
        if not plans:
            return self.env["maintenance.request"]
        readings = readings.filtered(lambda r: (r.lot_id, r.meter_type_id) in plans)
        self.flush_model(["delta", "reading_date", "lot_id", "meter_type_id"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT w.id, w.usage FROM (
                    SELECT r.id, SUM(COALESCE(r.delta, 0)) OVER (
                               PARTITION BY r.lot_id, r.meter_type_id
                               ORDER BY r.reading_date, r.id) AS usage
                      FROM serial_meter_reading r
                      JOIN (VALUES %s) AS p(lot_id, meter_type_id)
                        ON p.lot_id = r.lot_id AND p.meter_type_id = r.meter_type_id
                ) w WHERE w.id IN %s
                """,
                SQL(", ").join(
                    SQL("(%s, %s)", lot.id, meter.id) for lot, meter in plans
                ),
                tuple(readings.ids),
            )
        )
        usage = dict(rows)
        due = {}
        for reading in readings:
            key = (reading.lot_id, reading.meter_type_id)
            interval = plans[key]
            # a hair of tolerance: 99,999.9999 pages is 100,000 in floats
            threshold = (
                math.floor((usage[reading.id] or 0.0) / interval + 1e-9) * interval
            )
            if threshold > 0 and threshold > due.get(key, (0.0, None))[0]:
                due[key] = (threshold, reading)
        if not due:
            return self.env["maintenance.request"]
        # sudo: a customer's, a device's or a technician's reading creates the
        # company's job, and the thresholds served are read over all jobs
        Job = self.env["maintenance.request"].sudo()
        served = {
            (lot, meter): threshold
            for lot, meter, threshold in Job._read_group(
                [
                    ("lot_id", "in", [lot.id for lot, _meter in due]),
                    ("preventive_meter_type_id", "in", [m.id for _l, m in due]),
                    ("preventive_threshold", ">", 0),
                ],
                ["lot_id", "preventive_meter_type_id"],
                ["preventive_threshold:max"],
            )
        }
        vals_list = [
            reading._prepare_preventive_job_vals(threshold)
            for (lot, meter), (threshold, reading) in due.items()
            if threshold > served.get((lot, meter), 0.0) + 1e-9
        ]
        return Job.create(vals_list) if vals_list else Job

    @api.model
    def _get_preventive_plan(self, lot, day):
        """(meter, interval) of the serial's preventive service: the running
        contract's when it sets an interval (its meter, else the product's),
        else the product's; interval 0 = none."""
        contract = lot._get_running_contract(day)
        product = lot.product_id.product_tmpl_id
        if contract.preventive_interval > 0:
            return (
                contract.preventive_meter_type_id or product.preventive_meter_type_id,
                contract.preventive_interval,
            )
        return product.preventive_meter_type_id, product.preventive_interval

    def _prepare_preventive_job_vals(self, threshold):
        self.ensure_one()
        lot = self.lot_id
        meter = self.meter_type_id
        kit = lot.product_id.product_tmpl_id.preventive_kit_line_ids
        return {
            "name": self.env._(
                "Preventive service of %(serial)s at %(threshold)s %(meter)s",
                serial=lot.name,
                threshold=f"{threshold:g}",
                meter=meter.name,
            ),
            "maintenance_type": "preventive",
            "lot_id": lot.id,
            "company_id": (lot.company_id or self.env.company).id,
            "request_date": self.reading_date.date(),
            "preventive_meter_type_id": meter.id,
            "preventive_threshold": threshold,
            "preventive_reading_id": self.id,
            "description": self.env._(
                "Reading %(value)s on %(date)s: the usage since the first reading "
                "reached %(threshold)s.",
                value=f"{self.value:g}",
                date=self.reading_date,
                threshold=f"{threshold:g}",
            ),
            "service_line_ids": [
                Command.create(
                    {"product_id": line.product_id.id, "quantity": line.quantity}
                )
                for line in kit
            ],
        }

    # ------------------------------------------------------------------
    # Customer portal (controllers/portal.py)
    # ------------------------------------------------------------------
    @api.model
    def _portal_record_reading(self, lot, meter, reading_date, value):
        """A reading a customer submits on the portal for one of their serials:
        the serial must be theirs (checked with their own rights) and the meter
        one its product carries; then the same validations as any reading.
        Source `customer`, never a reset (a meter replacement is recorded by a
        technician)."""
        lot.ensure_one()
        lot.check_access("read")
        # sudo: the product and its meters of the customer's own serial
        if meter not in lot.sudo().product_id.meter_type_ids:
            raise ValidationError(
                self.env._(
                    "Serial %(serial)s has no meter %(meter)s.",
                    serial=lot.name,
                    meter=meter.sudo().name,
                )
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(self.env._("The meter value must be a number."))
        # sudo: portal customers may not create readings through the ORM (no
        # access right): only this way, for their own serial (checked above),
        # with the source forced; create_uid stays the customer
        return self.sudo().create(
            {
                "lot_id": lot.id,
                "meter_type_id": meter.id,
                "reading_date": reading_date,
                "value": value,
                "source": "customer",
            }
        )

    # ------------------------------------------------------------------
    # Device API (controllers/device_api.py): readings posted in bulk
    # ------------------------------------------------------------------
    @api.model
    def _api_record_readings(self, payload, max_items=API_MAX_READINGS):
        """Record the readings a device or integrator posts, all or nothing.

        payload: {"readings": [{"serial", "meter" (code), "date" (ISO 8601),
        "value", optional "reset", optional "product" (internal reference, when
        two products share a serial number)}]}. Serials are looked up in the
        current company only (and
        serials shared by all companies). Returns {"recorded": [...]} or {"errors":
        [{"index", "message"}]} with one error per bad item; on error nothing
        is written.
        """
        items = payload.get("readings") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            return {
                "errors": [
                    {
                        "index": None,
                        "message": self.env._(
                            'The body must be {"readings": [...]} with at least '
                            "one reading."
                        ),
                    }
                ]
            }
        if len(items) > max_items:
            return {
                "errors": [
                    {
                        "index": None,
                        "message": self.env._(
                            "At most %(max)s readings per request (%(count)s sent).",
                            max=max_items,
                            count=len(items),
                        ),
                    }
                ]
            }
        parsed, errors = self._api_parse_items(items)
        if errors:
            return {"errors": errors}
        try:
            with self.env.cr.savepoint():
                readings = self.create([vals for _index, vals in parsed])
                self.env.flush_all()
        except (UserError, ValidationError, AccessError) as error:
            self.env.invalidate_all()
            errors = self._api_diagnose(parsed) or [
                {"index": None, "message": str(error)}
            ]
            return {"errors": errors}
        return {
            "recorded": [
                {
                    "index": index,
                    "id": reading.id,
                    "serial": reading.lot_id.name,
                    "meter": reading.meter_type_id.code,
                    "date": fields.Datetime.to_string(reading.reading_date),
                    "value": reading.value,
                    "reset": reading.is_reset,
                    "delta": reading.delta,
                    "flagged": reading.is_flagged,
                }
                for (index, _vals), reading in zip(parsed, readings, strict=True)
            ]
        }

    @api.model
    def _api_parse_items(self, items):
        """([(index, create values)], [errors]) of the posted items, with the
        serials and meters read once for the whole batch."""
        dicts = [item for item in items if isinstance(item, dict)]
        names = {str(item["serial"]) for item in dicts if item.get("serial")}
        codes = {str(item["meter"]) for item in dicts if item.get("meter")}
        lots_by_name = defaultdict(lambda: self.env["stock.lot"])
        for lot in self.env["stock.lot"].search(
            [
                ("name", "in", list(names)),
                ("company_id", "in", [self.env.company.id, False]),
            ]
        ):
            lots_by_name[lot.name] |= lot
        meters = {
            meter.code: meter
            for meter in self.env["serial.meter.type"].search(
                [("code", "in", list(codes))]
            )
        }
        parsed, errors = [], []
        for index, item in enumerate(items):
            problems, vals = self._api_parse_item(item, lots_by_name, meters)
            errors += [{"index": index, "message": problem} for problem in problems]
            if not problems:
                parsed.append((index, vals))
        return parsed, errors

    @api.model
    def _api_parse_item(self, item, lots_by_name, meters):
        if not isinstance(item, dict):
            return [self.env._("A reading must be an object.")], None
        missing = [
            key
            for key in ("serial", "meter", "date", "value")
            if item.get(key)
            in (
                None,
                "",
            )
        ]
        if missing:
            return [
                self.env._("Missing field(s): %(fields)s.", fields=", ".join(missing))
            ], None
        problems = []
        serial = str(item["serial"])
        lots = lots_by_name[serial]
        if item.get("product"):
            lots = lots.filtered(
                lambda lot: lot.product_id.default_code == item["product"]
            )
        if not lots:
            # the same answer for a serial of another company: nothing leaks
            problems.append(
                self.env._("Unknown serial number %(serial)s.", serial=serial)
            )
        elif len(lots) > 1:
            problems.append(
                self.env._(
                    "Serial number %(serial)s belongs to several products: add "
                    '"product" (the internal reference).',
                    serial=serial,
                )
            )
        meter = meters.get(str(item["meter"]))
        if not meter:
            problems.append(self.env._("Unknown meter %(meter)s.", meter=item["meter"]))
        reading_date = self._api_parse_date(item["date"])
        if not reading_date:
            problems.append(
                self.env._(
                    "Date %(date)s is not an ISO 8601 date and time.",
                    date=item["date"],
                )
            )
        value = item["value"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(self.env._("Value %(value)s is not a number.", value=value))
        reset = item.get("reset", False)
        if not isinstance(reset, bool):
            problems.append(self.env._('"reset" is true or false.'))
        if problems:
            return problems, None
        return [], {
            "lot_id": lots.id,
            "meter_type_id": meter.id,
            "reading_date": reading_date,
            "value": value,
            "is_reset": reset,
            "source": "device",
        }

    @api.model
    def _api_parse_date(self, value):
        """A naive UTC datetime from an ISO 8601 string, or None."""
        if not isinstance(value, str):
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        if moment.tzinfo:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        return moment.replace(microsecond=0)

    @api.model
    def _api_diagnose(self, parsed):
        """The batch was refused: record the items one by one, oldest first,
        each in its own savepoint, to give the reason of each bad one; then
        undo everything."""
        errors = []
        try:
            with self.env.cr.savepoint():
                ordered = sorted(parsed, key=lambda pair: pair[1]["reading_date"])
                for index, vals in ordered:
                    try:
                        with self.env.cr.savepoint():
                            self.create([vals])
                            self.env.flush_all()
                    except (UserError, ValidationError, AccessError) as error:
                        self.env.invalidate_all()
                        errors.append({"index": index, "message": str(error)})
                raise _DiagnosisDone()
        except _DiagnosisDone:
            self.env.invalidate_all()
        return sorted(errors, key=lambda error: error["index"])


class _DiagnosisDone(Exception):
    """Leaves the diagnosis savepoint, rolling back what it recorded."""
