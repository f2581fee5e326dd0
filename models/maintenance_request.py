from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression


class MaintenanceRequest(models.Model):
    """A job on a serial-numbered unit: the unit, its customer and covering
    contract, the SLA clock, scanning and the phone buttons a technician uses on
    site. Completion, parts planning and the other capabilities extend it in
    ``maintenance_request_<capability>.py``."""

    _name = "maintenance.request"
    _inherit = ["maintenance.request", "barcodes.barcode_events_mixin"]

    # --- the unit and its contract ---
    lot_id = fields.Many2one(
        "stock.lot",
        string="Serial Number",
        index=True,
        tracking=True,
        check_company=True,
        domain="[('product_id.tracking', '=', 'serial')]",
    )
    customer_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_customer_id",
        store=True,
        readonly=False,
        index=True,
        tracking=True,
    )
    subscription_id = fields.Many2one(
        "sale.subscription",
        string="Contract",
        index=True,
        tracking=True,
        check_company=True,
        compute="_compute_subscription_id",
        store=True,
        readonly=False,
        help="Contract covering the serial on the request date.",
    )
    # --- what is recorded on site ---
    service_line_ids = fields.One2many(
        "serial.service.line", "request_id", string="Service Lines"
    )
    meter_reading_ids = fields.One2many(
        "serial.meter.reading", "request_id", string="Meter Readings"
    )
    signature = fields.Image(
        max_width=1024, max_height=1024, copy=False, help="The customer's signature."
    )
    signed_by = fields.Char(copy=False, tracking=True)
    signed_on = fields.Datetime(copy=False, readonly=True, tracking=True)
    # --- the unit's history ---
    is_repeat_visit = fields.Boolean(
        compute="_compute_is_repeat_visit",
        store=True,
        help="Another corrective job on the same serial was closed within the "
        "company's repeat-visit window before this one.",
    )
    # --- SLA and schedule ---
    opened_on = fields.Datetime(
        default=fields.Datetime.now,
        readonly=True,
        copy=False,
        help="When the job was opened: the SLA clock starts here.",
    )
    response_deadline = fields.Datetime(
        compute="_compute_sla_deadlines",
        store=True,
        help="A visit must be scheduled by then (the contract's response hours).",
    )
    resolution_deadline = fields.Datetime(
        compute="_compute_sla_deadlines",
        store=True,
        help="The job must be done by then (the contract's resolution hours).",
    )
    is_sla_late = fields.Boolean(
        string="SLA Late",
        compute="_compute_is_sla_late",
        search="_search_is_sla_late",
        help="Not scheduled by the response deadline, or not done by the "
        "resolution deadline.",
    )
    schedule_status = fields.Selection(
        selection=[
            ("overdue", "Overdue"),
            ("today", "Today"),
            ("upcoming", "Upcoming"),
            ("unscheduled", "Not Scheduled"),
            ("done", "Done"),
        ],
        compute="_compute_schedule_status",
        search="_search_schedule_status",
        help="Where the visit stands against today, in the user's time zone: "
        "overdue (scheduled before today and not done), today, upcoming, not "
        "scheduled, or done.",
    )
    # --- shown on the job ---
    customer_phone = fields.Char(related="customer_id.phone", string="Phone")
    lot_warranty_state = fields.Selection(related="lot_id.warranty_state")
    lot_warranty_end_date = fields.Date(related="lot_id.warranty_end_date")
    lot_request_count = fields.Integer(related="lot_id.request_count")
    recall_id = fields.Many2one(
        "serial.recall", string="Recall", index=True, readonly=True, copy=False
    )

    @api.depends("lot_id")
    def _compute_customer_id(self):
        for request in self:
            if request.lot_id:
                request.customer_id = request.lot_id.customer_id

    @api.depends("lot_id", "request_date")
    def _compute_subscription_id(self):
        for request in self:
            if request.lot_id and request.request_date:
                request.subscription_id = request.lot_id._get_running_contract(
                    request.request_date
                )
            else:
                request.subscription_id = False

    @api.depends("lot_id", "request_date", "maintenance_type")
    def _compute_is_repeat_visit(self):
        requests = self.filtered(
            lambda r: r.lot_id and r.request_date and r.maintenance_type == "corrective"
        )
        (self - requests).is_repeat_visit = False
        if not requests:
            return
        closed = self.search_fetch(
            [
                ("lot_id", "in", requests.lot_id.ids),
                ("maintenance_type", "=", "corrective"),
                ("stage_id.done", "=", True),
                ("close_date", "!=", False),
            ],
            ["lot_id", "close_date"],
        )
        closed_by_lot = defaultdict(list)
        for request in closed:
            closed_by_lot[request.lot_id.id].append((request.id, request.close_date))
        for request in requests:
            window = timedelta(days=request.company_id.serial_repeat_visit_days)
            request.is_repeat_visit = any(
                other_id != request.id
                and request.request_date - window <= close_date <= request.request_date
                for other_id, close_date in closed_by_lot[request.lot_id.id]
            )

    # --- SLA and schedule ---
    @api.depends(
        "subscription_id.response_hours",
        "subscription_id.resolution_hours",
        "create_date",
    )
    def _compute_sla_deadlines(self):
        for request in self:
            opened = request.opened_on or fields.Datetime.now()
            contract = request.subscription_id
            request.response_deadline = (
                opened + timedelta(hours=contract.response_hours)
                if contract.response_hours
                else False
            )
            request.resolution_deadline = (
                opened + timedelta(hours=contract.resolution_hours)
                if contract.resolution_hours
                else False
            )

    @api.depends_context("uid")
    @api.depends(
        "response_deadline", "resolution_deadline", "schedule_date", "stage_id"
    )
    def _compute_is_sla_late(self):
        now = fields.Datetime.now()
        for request in self:
            request.is_sla_late = not request.stage_id.done and bool(
                (request.resolution_deadline and request.resolution_deadline < now)
                or (
                    request.response_deadline
                    and request.response_deadline < now
                    and not request.schedule_date
                )
            )

    def _search_is_sla_late(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(operator)
        now = fields.Datetime.now()
        late = [
            ("stage_id.done", "=", False),
            "|",
            ("resolution_deadline", "<", now),
            "&",
            ("response_deadline", "<", now),
            ("schedule_date", "=", False),
        ]
        if (operator == "=") == value:
            return late
        return ["!", *late]

    @api.depends_context("uid", "tz")
    @api.depends("schedule_date", "stage_id.done", "completed_on")
    def _compute_schedule_status(self):
        start, end = self._get_today_bounds()
        for request in self:
            if request.stage_id.done or request.completed_on:
                request.schedule_status = "done"
            elif not request.schedule_date:
                request.schedule_status = "unscheduled"
            elif request.schedule_date < start:
                request.schedule_status = "overdue"
            elif request.schedule_date < end:
                request.schedule_status = "today"
            else:
                request.schedule_status = "upcoming"

    def _search_schedule_status(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise NotImplementedError(operator)
        values = [value] if isinstance(value, str) else list(value or ())
        start, end = self._get_today_bounds()
        open_job = [("stage_id.done", "=", False), ("completed_on", "=", False)]
        domains = {
            "done": ["|", ("stage_id.done", "=", True), ("completed_on", "!=", False)],
            "unscheduled": [*open_job, ("schedule_date", "=", False)],
            "overdue": [*open_job, ("schedule_date", "<", start)],
            "today": [
                *open_job,
                ("schedule_date", ">=", start),
                ("schedule_date", "<", end),
            ],
            "upcoming": [*open_job, ("schedule_date", ">=", end)],
        }
        unknown = set(values) - set(domains)
        if unknown:
            raise UserError(
                self.env._(
                    "Unknown schedule status: %(values)s.",
                    values=", ".join(map(str, unknown)),
                )
            )
        if not values:
            domain = [(0, "=", 1)]
        else:
            domain = expression.OR([domains[v] for v in values])
        if operator in ("!=", "not in"):
            return ["!", *domain]
        return domain

    @api.model
    def _get_today_bounds(self):
        """Start and end (UTC, naive) of today in the user's time zone."""
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        today = fields.Datetime.now().replace(tzinfo=pytz.utc).astimezone(tz).date()
        start = tz.localize(datetime.combine(today, time.min))
        end = tz.localize(datetime.combine(today + timedelta(days=1), time.min))
        return (
            start.astimezone(pytz.utc).replace(tzinfo=None),
            end.astimezone(pytz.utc).replace(tzinfo=None),
        )

    @api.onchange("lot_id")
    def _onchange_lot_id(self):
        if self.lot_id.equipment_id:
            self.equipment_id = self.lot_id.equipment_id

    @api.model_create_multi
    def create(self, vals_list):
        lot_ids = [vals["lot_id"] for vals in vals_list if vals.get("lot_id")]
        equipment = dict(
            self.env["stock.lot"]
            .browse(lot_ids)
            .mapped(lambda lot: (lot.id, lot.equipment_id.id))
        )
        for vals in vals_list:
            if vals.get("lot_id") and not vals.get("equipment_id"):
                vals["equipment_id"] = equipment.get(vals["lot_id"]) or False
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("signature") and "signed_on" not in vals:
            vals["signed_on"] = fields.Datetime.now()
        return super().write(vals)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    # --- the job form's phone buttons: each opens a small wizard ---
    def action_scan_serial(self):
        return self._action_open_job_wizard("serial_service.serial_job_scan_action")

    def action_add_part(self):
        return self._action_open_job_wizard("serial_service.serial_job_part_action")

    def action_add_reading(self):
        self.ensure_one()
        if not self.lot_id:
            raise UserError(
                self.env._(
                    "Scan the unit's serial number first: a reading belongs to it."
                )
            )
        return self._action_open_job_wizard("serial_service.serial_job_reading_action")

    def action_sign(self):
        return self._action_open_job_wizard("serial_service.serial_job_sign_action")

    def _action_open_job_wizard(self, xmlid):
        self.ensure_one()
        self._check_job_editable()
        action = self.env["ir.actions.actions"]._for_xml_id(xmlid)
        action["context"] = {"default_request_id": self.id}
        return action

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    # --- scanning ---
    def on_barcode_scanned(self, barcode):
        """A scan on the job: the unit's serial sets the unit; a part's serial
        or a product's barcode adds a line for it."""
        self.ensure_one()
        code = (barcode or "").strip()
        lot = self.env["stock.lot"].search([("name", "=", code)], limit=1)
        if lot and (not self.lot_id or lot == self.lot_id):
            self.lot_id = lot
            self._onchange_lot_id()
            return None
        if lot:
            self.service_line_ids = [
                Command.create({"product_id": lot.product_id.id, "lot_id": lot.id})
            ]
            return None
        product = self.env["product.product"].search(
            ["|", ("barcode", "=", code), ("default_code", "=", code)], limit=1
        )
        if product:
            line = self.service_line_ids.filtered(
                lambda line: line.product_id == product and not line.lot_id
            )[:1]
            if line:
                line.quantity += 1
            else:
                self.service_line_ids = [Command.create({"product_id": product.id})]
            return None
        return {
            "warning": {
                "title": self.env._("Unknown barcode"),
                "message": self.env._(
                    "%(code)s is neither a serial number nor a product.", code=code
                ),
            }
        }

    # --- what the technician records on site ---
    def _check_job_editable(self):
        """What a technician records on site changes the job: refused once it
        is completed, and on a job the user may not change."""
        done = self.filtered("completed_on")
        if done:
            raise UserError(
                self.env._(
                    "Job %(job)s is completed: nothing more can be recorded on it.",
                    job=done[0].name,
                )
            )
        self.check_access("write")

    def _set_unit(self, lot):
        """The job is on `lot`: its equipment follows (the customer and the
        covering contract are computed from it)."""
        self._check_job_editable()
        for job in self:
            equipment = lot.equipment_id
            if not equipment and not job.equipment_id.lot_id:
                # equipment not tied to a serial (a site, a room) stays
                equipment = job.equipment_id
            job.write({"lot_id": lot.id, "equipment_id": equipment.id})
