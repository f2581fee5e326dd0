import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError


class SerialMeterReading(models.Model):
    """A meter reading of a serial: what was read, when and by whom. Its usage
    (delta, spike flag) is derived in serial_meter_reading_delta.py, estimates
    and their true-up in _estimate, the preventive jobs it triggers in
    _preventive, portal and device input in _intake."""

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

    @api.model
    def _check_duplicates_in_batch(self, vals_list):
        """One reading of a serial and meter at a given time, within the batch
        and against the readings already recorded."""
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

    # --- CRUD: every change re-chains the deltas and may trigger a job ---
    @api.model_create_multi
    def create(self, vals_list):
        self._check_duplicates_in_batch(vals_list)
        self._check_billing_link(vals_list)
        self._check_jobs_open([vals.get("request_id") for vals in vals_list])
        try:
            with self.env.cr.savepoint(flush=False):
                readings = super().create(vals_list)
        except psycopg2.errors.UniqueViolation as error:
            # the same reading recorded by a transaction committed since this
            # one's check: the words of the check, not a server error
            if error.diag.constraint_name != "serial_meter_reading_reading_unique":
                raise
            raise ValidationError(self._get_duplicate_message(vals_list)) from error
        readings._recompute_deltas()
        readings._create_preventive_jobs()
        return readings

    def write(self, vals):
        self._check_billing_link([vals])
        if vals.get("request_id"):
            self._check_jobs_open([vals["request_id"]])
        billed = self.filtered("invoice_line_id")
        if billed and "invoice_line_id" in vals:
            new_id = vals["invoice_line_id"] or False
            if billed.filtered(lambda reading: reading.invoice_line_id.id != new_id):
                raise UserError(
                    self.env._(
                        "Reading %(reading)s was billed: it stays on its invoice "
                        "line, whoever asks.",
                        reading=billed[0].display_name,
                    )
                )
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

    # --- frozen readings: billed by the billing run only ---
    @api.model
    def _check_billing_link(self, vals_list):
        """Only the billing run (as the system) marks a reading billed: a user
        setting the invoice line would keep its usage from ever being billed."""
        if self.env.su or not any(vals.get("invoice_line_id") for vals in vals_list):
            return
        raise AccessError(
            self.env._(
                "A reading is marked billed by the billing run only, not by hand."
            )
        )

    @api.model
    def _check_jobs_open(self, request_ids):
        """No reading is recorded on (or moved onto) a completed job."""
        jobs = self.env["maintenance.request"].browse(
            {rid for rid in request_ids if isinstance(rid, int)}
        )
        done = jobs.filtered("completed_on")
        if done:
            raise UserError(
                self.env._(
                    "Job %(job)s is completed: no reading can be recorded on it.",
                    job=done[0].name,
                )
            )

    @api.model
    def _get_duplicate_message(self, vals_list):
        if len(vals_list) != 1:
            return self.env._(
                "One of these readings was recorded a moment ago by someone else "
                "(the same serial, meter and time): reload and record only the "
                "others."
            )
        vals = vals_list[0]
        return self.env._(
            "Serial %(serial)s already has a reading of %(meter)s at %(date)s: it "
            "was recorded a moment ago by someone else.",
            serial=self.env["stock.lot"].browse(vals.get("lot_id")).name,
            meter=self.env["serial.meter.type"].browse(vals.get("meter_type_id")).name,
            date=fields.Datetime.to_datetime(vals.get("reading_date")),
        )

    # --- audit: corrections noted on the serial's chatter ---
    def _audit_text(self):
        self.ensure_one()
        return self.env._(
            "%(meter)s %(value)s on %(date)s%(reset)s",
            meter=self.meter_type_id.name,
            value=format(self.value, "g"),
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

    def _write_derived(self, vals):
        """Write values derived from the chain of readings (delta, flag,
        estimates trued up), past the guards of write(): they are not a
        correction of the reading."""
        return super().write(vals)
