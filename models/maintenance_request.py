from collections import defaultdict
from datetime import datetime, time, timedelta

import psycopg2.errors
import pytz

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL


class MaintenanceRequest(models.Model):
    _name = "maintenance.request"
    _inherit = ["maintenance.request", "barcodes.barcode_events_mixin"]

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
    is_repeat_visit = fields.Boolean(
        compute="_compute_is_repeat_visit",
        store=True,
        help="Another corrective job on the same serial was closed within the "
        "company's repeat-visit window before this one.",
    )
    invoice_ids = fields.Many2many(
        "account.move",
        relation="maintenance_request_account_move_rel",
        column1="request_id",
        column2="move_id",
        string="Invoices",
        copy=False,
        readonly=True,
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    completed_on = fields.Datetime(copy=False, readonly=True, tracking=True)
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
    customer_phone = fields.Char(related="customer_id.phone", string="Phone")
    lot_warranty_state = fields.Selection(related="lot_id.warranty_state")
    lot_warranty_end_date = fields.Date(related="lot_id.warranty_end_date")
    lot_request_count = fields.Integer(related="lot_id.request_count")
    recall_id = fields.Many2one(
        "serial.recall", string="Recall", index=True, readonly=True, copy=False
    )
    procurement_group_id = fields.Many2one(
        "procurement.group",
        string="Procurement Group",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="Groups the transfers and purchases that bring this job's parts "
        "into the technician's van.",
    )
    parts_state = fields.Selection(
        selection=[
            ("available", "Parts Available"),
            ("waiting", "Waiting for Parts"),
            ("ready", "Parts Arrived"),
        ],
        compute="_compute_parts_state",
        store=True,
        help="Waiting: a part planned for this job is being bought. Arrived: "
        "everything bought for it has been received. Available: nothing had to "
        "be bought.",
    )
    parts_expected_date = fields.Datetime(
        compute="_compute_parts_state",
        store=True,
        help="When the parts bought for this job are expected (the purchase "
        "order's expected arrival).",
    )
    parts_purchase_count = fields.Integer(compute="_compute_parts_purchase_count")
    # meter-triggered preventive maintenance (issue 5)
    preventive_meter_type_id = fields.Many2one(
        "serial.meter.type", string="Preventive Meter", readonly=True, copy=False
    )
    preventive_threshold = fields.Float(
        readonly=True,
        copy=False,
        help="The usage on the meter, since the serial's first reading, at "
        "which this preventive service fell due: one job per threshold.",
    )
    preventive_reading_id = fields.Many2one(
        "serial.meter.reading",
        string="Triggering Reading",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )

    def init(self):
        # one preventive job per serial, meter and threshold, also when two
        # transactions record readings of the same serial at once
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS maintenance_request_preventive_unique
                ON maintenance_request (lot_id, preventive_meter_type_id,
                                        preventive_threshold)
             WHERE preventive_threshold > 0
            """
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

    def _compute_invoice_count(self):
        for request in self:
            request.invoice_count = len(request.invoice_ids)

    @api.depends(
        "procurement_group_id.stock_move_ids.state",
        "procurement_group_id.stock_move_ids.move_orig_ids.state",
        "procurement_group_id.stock_move_ids.move_orig_ids.purchase_line_id.date_planned",
        "procurement_group_id.stock_move_ids.created_purchase_line_ids.state",
        "procurement_group_id.stock_move_ids.created_purchase_line_ids.date_planned",
    )
    def _compute_parts_state(self):
        for job in self:
            state, expected = "available", []
            moves = job.procurement_group_id.stock_move_ids.filtered(
                lambda m: m.state != "cancel"
            )
            for move in moves:
                lines = move.created_purchase_line_ids.filtered(
                    lambda line: line.state != "cancel"
                )
                receipts = move.move_orig_ids.filtered(
                    lambda m: m.state != "cancel" and m.purchase_line_id
                )
                pending = receipts.filtered(lambda m: m.state != "done")
                if pending or (lines and not receipts):
                    state = "waiting"
                    expected += lines.mapped("date_planned")
                    expected += pending.purchase_line_id.mapped("date_planned")
                elif receipts and state == "available":
                    state = "ready"
            job.parts_state = state
            job.parts_expected_date = max(filter(None, expected), default=False)

    def _compute_parts_purchase_count(self):
        for job in self:
            job.parts_purchase_count = len(job._get_parts_purchase_lines().order_id)

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
    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        if len(self.invoice_ids) == 1:
            action.update(views=[(False, "form")], res_id=self.invoice_ids.id)
        return action

    def action_complete_job(self):
        """Complete the jobs in one transaction or not at all: parts leave the
        van for the customer by real stock moves, serialised parts are installed
        in the unit, removed parts go to defective returns, coverage is frozen
        and the chargeable part is put on one draft invoice per job. A job that
        is already completed is left as it is."""
        jobs = self.filtered(lambda job: not job.completed_on)
        if not jobs:
            return True
        jobs._check_can_complete()
        jobs._lock_for_completion()
        jobs.service_line_ids._check_parts_available()
        jobs._move_parts()
        jobs._install_parts()
        for job in jobs:
            removed = job.service_line_ids.removed_lot_id
            if removed:
                self.env["serial.warranty.claim"]._create_from_replaced_parts(
                    job, removed
                )
        jobs.service_line_ids.write({"coverage_locked": True})
        jobs._create_invoices()
        done_stage = self.env["maintenance.stage"].search(
            [("done", "=", True)], limit=1
        )
        jobs.write(
            {
                "completed_on": fields.Datetime.now(),
                "stage_id": done_stage.id,
                "close_date": fields.Date.context_today(self),
            }
        )
        return True

    def action_plan_parts(self):
        """Bring every part of the jobs into their technician's van: from the
        van itself, else from the depot, else bought for the job. Running it
        again orders nothing twice."""
        jobs = self.filtered(lambda job: not job.completed_on and not job.stage_id.done)
        if not jobs:
            raise UserError(
                self.env._("Only jobs not yet done can have parts planned.")
            )
        jobs._plan_parts()
        return True

    def action_view_parts_purchases(self):
        self.ensure_one()
        orders = self._get_parts_purchase_lines().order_id
        action = self.env["ir.actions.actions"]._for_xml_id("purchase.purchase_rfq")
        action["domain"] = [("id", "in", orders.ids)]
        action["context"] = {}
        if len(orders) == 1:
            action.update(views=[(False, "form")], res_id=orders.id)
        return action

    # --- the job form's phone buttons (issue 6): each opens a small wizard ---
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

    # --- concurrency (issue 9): two people completing jobs at once ---------
    def _lock_for_completion(self):
        """Lock the jobs and the stock their parts come from until the end of
        the transaction, without waiting: a second job completed at the same
        time taking the same parts (or the same job completed twice) gets a
        clear error instead of double-spending the van's last unit."""
        lines = self.service_line_ids.filtered(
            lambda line: (
                line.line_type in ("part", "consumable")
                and line.product_id.is_storable
                and line.location_id
            )
        )
        # sudo: technicians may not read every quant of their van's parent
        quants = (
            self.env["stock.quant"]
            .sudo()
            .search(
                [
                    ("product_id", "in", lines.product_id.ids),
                    ("location_id", "child_of", lines.location_id.ids),
                ]
            )
            if lines
            else self.env["stock.quant"]
        )
        try:
            with self.env.cr.savepoint(flush=False):
                # log_exceptions: a refused lock is an expected answer here
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM maintenance_request WHERE id IN %s "
                        "FOR NO KEY UPDATE NOWAIT",
                        tuple(self.ids),
                    ),
                    log_exceptions=False,
                )
                if quants:
                    self.env.cr.execute(
                        SQL(
                            "SELECT id FROM stock_quant WHERE id IN %s "
                            "FOR NO KEY UPDATE NOWAIT",
                            tuple(quants.ids),
                        ),
                        log_exceptions=False,
                    )
        except (
            psycopg2.errors.LockNotAvailable,
            psycopg2.errors.SerializationFailure,
        ) as error:
            raise UserError(
                self.env._(
                    "Another job is being completed with the same parts (or this "
                    "job is being completed by someone else) right now: nothing "
                    "was moved or invoiced. Reload the job and try again; the "
                    "parts may no longer be in %(locations)s.",
                    locations=", ".join(lines.location_id.mapped("display_name"))
                    or "-",
                )
            ) from error

    # --- end concurrency --------------------------------------------------
    def _check_can_complete(self):
        for job in self:
            part_lines = job.service_line_ids.filtered(
                lambda line: line.line_type in ("part", "consumable")
            )
            if part_lines and not job.customer_id:
                raise UserError(
                    self.env._(
                        "Job %(job)s has parts but no customer to deliver them to.",
                        job=job.name,
                    )
                )
            if job.service_line_ids.filtered(lambda line: line.charge_amount) and not (
                job.customer_id
            ):
                raise UserError(
                    self.env._(
                        "Job %(job)s has chargeable lines but no customer to invoice.",
                        job=job.name,
                    )
                )

    def _move_parts(self):
        """One validated stock move per part line, from where the part was
        taken to the customer, and one per removed part, from the customer to
        the defective returns."""
        customer_location = self.env.ref("stock.stock_location_customers")
        lines = self.service_line_ids.filtered(
            lambda line: (
                line.line_type in ("part", "consumable") and line.product_id.is_storable
            )
        )
        vals_list, targets = [], []
        for line in lines:
            vals_list.append(
                line._prepare_move_vals(
                    line.location_id, customer_location, line.lot_id
                )
            )
            targets.append(line)
        returns = lines.filtered("removed_lot_id")
        defective = self._get_defective_location()
        for line in returns:
            vals_list.append(
                line._prepare_move_vals(
                    customer_location,
                    defective,
                    line.removed_lot_id,
                    product=line.removed_lot_id.product_id,
                    quantity=1.0,
                )
            )
        if not vals_list:
            return
        moves = self.env["stock.move"].create(vals_list)
        moves._action_done()
        for line, move in zip(targets, moves, strict=False):
            line.move_id = move

    def _install_parts(self):
        """Serialised parts go into the unit; the parts they replace come out.
        A part replacing a failed one under the unit's warranty keeps at least
        the unit's remaining warranty."""
        for job in self:
            unit = job.lot_id
            if not unit:
                continue
            lines = job.service_line_ids.filtered(lambda line: line.lot_id)
            lines.removed_lot_id.write({"parent_lot_id": False})
            lines.lot_id.write({"parent_lot_id": unit.id})
            on_date = job.request_date or fields.Date.context_today(job)
            if not unit._is_under_warranty(on_date):
                continue
            for part in lines.filtered("removed_lot_id").lot_id:
                if (part.warranty_end_date or on_date) < unit.warranty_end_date:
                    # sudo: the system grants the unit's warranty to its
                    # replacement part; technicians may not edit warranty dates
                    part.sudo().write(
                        {
                            "warranty_policy_id": (
                                part.warranty_policy_id or unit.warranty_policy_id
                            ).id,
                            "warranty_start_date": on_date,
                            "warranty_end_date": unit.warranty_end_date,
                        }
                    )

    def _create_invoices(self):
        """One draft customer invoice per job with a chargeable line; covered
        lines appear at their coverage as a discount, with the reason."""
        vals_list, jobs = [], []
        for job in self:
            lines = job.service_line_ids
            if not lines.filtered(lambda line: line.charge_amount > 0):
                continue
            vals_list.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": job.customer_id.id,
                    "invoice_origin": job.name,
                    "company_id": job.company_id.id,
                    "invoice_line_ids": [
                        Command.create(line._prepare_invoice_line_vals())
                        for line in lines
                    ],
                }
            )
            jobs.append(job)
        if not vals_list:
            return self.env["account.move"]
        # sudo: the technician completing the job on site has no invoicing
        # rights; the draft invoice waits for the billing clerk
        invoices = self.env["account.move"].sudo().create(vals_list)
        for job, invoice in zip(jobs, invoices, strict=True):
            job.invoice_ids = [Command.link(invoice.id)]
            for line, invoice_line in zip(
                job.service_line_ids, invoice.invoice_line_ids, strict=True
            ):
                line.invoice_line_id = invoice_line.id
        return invoices

    def _get_defective_location(self):
        location = self.env.ref(
            "serial_service.stock_location_defective", raise_if_not_found=False
        )
        company = self.company_id[:1] or self.env.company
        if location and location.company_id in (company, self.env["res.company"]):
            return location
        return self.env["stock.location"].search(
            [("name", "=", "Defective Returns"), ("company_id", "=", company.id)],
            limit=1,
        ) or self.env["stock.location"].create(
            {
                "name": "Defective Returns",
                "usage": "internal",
                "location_id": self.env.ref("stock.stock_location_locations").id,
                "company_id": company.id,
            }
        )

    def _get_parts_purchase_lines(self):
        moves = self.procurement_group_id.stock_move_ids
        return (
            moves.created_purchase_line_ids | moves.move_orig_ids.purchase_line_id
        ).filtered(lambda line: line.state != "cancel")

    def _plan_parts(self):
        """Procure, for each job and part, what neither the technician's van
        nor the parts already on their way to it cover: what the depot has
        (free of reservations) through the van resupply route, the rest
        through the "Parts for a job" route, whose transfer to the van is
        chained to a purchase by the buy route. Returns the procurements run."""
        jobs = self.service_line_ids.filtered(
            lambda line: (
                line.line_type in ("part", "consumable") and line.product_id.is_storable
            )
        ).request_id
        no_van = jobs.filtered(lambda job: not job.user_id.van_location_id)
        if no_van:
            raise UserError(
                self.env._(
                    "Assign a technician with a van before planning the parts of "
                    "%(jobs)s.",
                    jobs=", ".join(no_van.mapped("name")),
                )
            )
        no_route = jobs.user_id.van_location_id.warehouse_id.filtered(
            lambda w: not w.van_job_route_id
        )
        if no_route:
            raise UserError(
                self.env._(
                    "Warehouse %(warehouse)s has no route for job parts: run the "
                    "van setup for it first.",
                    warehouse=", ".join(no_route.mapped("name")),
                )
            )
        missing = jobs._get_parts_missing()
        if not missing:
            return []
        Procurement = self.env["procurement.group"]
        for job in jobs.filtered(lambda j: not j.procurement_group_id):
            job.procurement_group_id = Procurement.create(
                {"name": job.name, "move_type": "direct"}
            )
        procurements = jobs._prepare_parts_procurements(missing)
        # sudo: a technician planning their job may not run procurements
        # (purchase orders); the moves and orders are the company's
        Procurement.sudo().with_company(jobs.company_id[:1]).run(procurements)
        return procurements

    def _get_parts_missing(self):
        """{(job, product): quantity} the van of each job's technician lacks,
        once the parts already on their way to it for the job are counted. The
        van's stock is shared between the technician's open jobs in the order
        they are scheduled: one query for those jobs, one for the vans' stock,
        one for the transfers on their way."""
        open_jobs = self | self.search(
            [
                ("user_id", "in", self.user_id.ids),
                ("completed_on", "=", False),
                ("stage_id.done", "=", False),
            ]
        )
        open_lines = open_jobs.service_line_ids.filtered(
            lambda line: (
                line.line_type in ("part", "consumable") and line.product_id.is_storable
            )
        )
        products = open_lines.product_id
        vans = open_jobs.user_id.van_location_id
        needed = defaultdict(float)
        for line in open_lines:
            needed[line.request_id, line.product_id] += (
                line.product_uom_id._compute_quantity(
                    line.quantity, line.product_id.uom_id
                )
            )
        van_free = defaultdict(float)
        # sudo: the technician planning a job reads the stock of the vans of
        # the technicians concerned, not only what their own rules show
        for location, product, qty, reserved in (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("location_id", "child_of", vans.ids),
                    ("product_id", "in", products.ids),
                ],
                ["location_id", "product_id"],
                ["quantity:sum", "reserved_quantity:sum"],
            )
        ):
            van = vans.filtered(lambda v, loc=location: loc._child_of(v))[:1]
            van_free[van, product] += qty - reserved
        on_the_way = defaultdict(float)
        if open_jobs.procurement_group_id:
            # sudo: the transfers on their way to the vans are the company's,
            # whoever plans the job
            for group, product, qty in (
                self.env["stock.move"]
                .sudo()
                ._read_group(
                    [
                        ("group_id", "in", open_jobs.procurement_group_id.ids),
                        ("location_dest_id", "child_of", vans.ids),
                        ("product_id", "in", products.ids),
                        ("state", "not in", ("draft", "done", "cancel")),
                    ],
                    ["group_id", "product_id"],
                    ["product_qty:sum"],
                )
            ):
                on_the_way[group, product] += qty
        missing = {}
        for job in open_jobs.sorted(
            lambda job: (job.schedule_date or datetime.max, job.id)
        ):
            van = job.user_id.van_location_id
            for product in products:
                rest = (
                    needed[job, product] - on_the_way[job.procurement_group_id, product]
                )
                if rest <= 0:
                    continue
                taken = min(rest, max(van_free[van, product], 0.0))
                van_free[van, product] -= taken
                if job in self and rest - taken > 0:
                    missing[job, product] = rest - taken
        return missing

    def _prepare_parts_procurements(self, missing):
        """The procurements to the vans for the missing parts: what the depot
        has free goes by the van resupply route, the rest by the "Parts for a
        job" route, bought (expected after the vendor's lead time). The depot's
        stock is shared between the jobs in their schedule order."""
        Procurement = self.env["procurement.group"]
        products = self.env["product.product"].union(*(p for _j, p in missing))
        depot_free = {}
        for warehouse in self.user_id.van_location_id.warehouse_id:
            for product in products.with_context(location=warehouse.lot_stock_id.id):
                depot_free[warehouse, product] = max(product.free_qty, 0.0)
        now = fields.Datetime.now()
        procurements = []
        for (job, product), qty in missing.items():
            van = job.user_id.van_location_id
            warehouse = van.warehouse_id
            from_depot = min(qty, depot_free[warehouse, product])
            depot_free[warehouse, product] -= from_depot
            to_buy = qty - from_depot
            values = {
                "group_id": job.procurement_group_id,
                "warehouse_id": warehouse,
                "date_deadline": job.schedule_date or False,
            }
            if from_depot > 0:
                values_depot = dict(
                    values,
                    route_ids=warehouse.van_resupply_route_id,
                    date_planned=now,
                )
                procurements.append(
                    Procurement.Procurement(
                        product,
                        from_depot,
                        product.uom_id,
                        van,
                        job.name,
                        job.name,
                        job.company_id,
                        values_depot,
                    )
                )
            if to_buy > 0:
                seller = product._select_seller(quantity=to_buy, uom_id=product.uom_id)
                values_buy = dict(
                    values,
                    route_ids=warehouse.van_job_route_id
                    | warehouse.buy_pull_id.route_id,
                    date_planned=now + timedelta(days=seller.delay),
                )
                procurements.append(
                    Procurement.Procurement(
                        product,
                        to_buy,
                        product.uom_id,
                        van,
                        job.name,
                        job.name,
                        job.company_id,
                        values_buy,
                    )
                )
        return procurements

    def _notify_parts_arrived(self, receipts):
        """Tell each job's technician which of its parts were just received."""
        for job in self:
            arrived = receipts.filtered(
                lambda m, j=job: j.procurement_group_id in m.move_dest_ids.group_id
            )
            if not arrived:
                continue
            parts = ", ".join(
                f"{m.product_id.display_name} ({m.quantity:g})" for m in arrived
            )
            if job.parts_state == "ready":
                note = self.env._(
                    "All parts bought for %(job)s have arrived at the depot: "
                    "%(parts)s.",
                    job=job.name,
                    parts=parts,
                )
            else:
                note = self.env._(
                    "Parts for %(job)s arrived at the depot: %(parts)s; others "
                    "are still expected.",
                    job=job.name,
                    parts=parts,
                )
            job.message_post(
                body=note,
                partner_ids=job.user_id.partner_id.ids,
                subtype_xmlid="mail.mt_note",
            )
            if job.user_id:
                job.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Parts arrived"),
                    note=note,
                    user_id=job.user_id.id,
                )
