from datetime import datetime, time, timedelta

import pytz

from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class SerialVanLoadList(models.TransientModel):
    _name = "serial.van.load.list"
    _description = "Van Load List"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users",
        string="Technician",
        required=True,
        default=lambda self: self.env.user,
        domain=lambda self: [
            (
                "groups_id",
                "in",
                self.env.ref("serial_service.group_service_technician").ids,
            )
        ],
    )
    date = fields.Date(
        required=True,
        default=lambda self: fields.Date.context_today(self) + timedelta(days=1),
        help="The day whose scheduled jobs the van is loaded for.",
    )
    van_location_id = fields.Many2one(
        related="user_id.van_location_id", string="Van", readonly=True
    )
    request_ids = fields.Many2many(
        "maintenance.request",
        string="Jobs",
        compute="_compute_line_ids",
        store=True,
    )
    line_ids = fields.One2many(
        "serial.van.load.list.line",
        "load_list_id",
        string="Parts",
        compute="_compute_line_ids",
        store=True,
    )
    picking_ids = fields.Many2many(
        "stock.picking", string="Transfers", readonly=True, copy=False
    )

    @api.depends("user_id", "date", "company_id")
    def _compute_line_ids(self):
        for load_list in self:
            jobs, vals_list = load_list._get_load_lines()
            load_list.request_ids = jobs
            load_list.line_ids = [Command.clear()] + [
                Command.create(vals) for vals in vals_list
            ]

    def _get_day_bounds(self):
        """The technician's day, in UTC, as stored in the jobs' schedule."""
        self.ensure_one()
        tz = pytz.timezone(self.user_id.tz or self.env.user.tz or "UTC")
        start = tz.localize(datetime.combine(self.date, time.min))
        start = start.astimezone(pytz.utc).replace(tzinfo=None)
        return start, start + timedelta(days=1)

    def _get_load_lines(self):
        """The parts the technician's jobs of the day take from the van, less
        what the van holds (free of reservations) and what is already on its
        way to it: one query for the jobs, one for their parts, one for the
        van's stock and one for the open transfers to the van."""
        self.ensure_one()
        Job = self.env["maintenance.request"]
        van = self.user_id.van_location_id
        if not (self.user_id and self.date and van):
            return Job, []
        start, end = self._get_day_bounds()
        jobs = Job.search(
            [
                ("user_id", "=", self.user_id.id),
                ("company_id", "=", self.company_id.id),
                ("schedule_date", ">=", start),
                ("schedule_date", "<", end),
                ("completed_on", "=", False),
                ("stage_id.done", "=", False),
            ]
        )
        needed = self.env["serial.service.line"]._read_group(
            [
                ("request_id", "in", jobs.ids),
                ("line_type", "in", ("part", "consumable")),
                ("product_id.is_storable", "=", True),
                ("location_id", "in", [False, van.id]),
            ],
            ["product_id"],
            ["quantity:sum", "request_id:array_agg"],
        )
        if not needed:
            return jobs, []
        products = self.env["product.product"].union(*(p for p, _q, _j in needed))
        in_van = {
            product: qty - reserved
            for product, qty, reserved in self.env["stock.quant"]._read_group(
                [
                    ("location_id", "child_of", van.id),
                    ("product_id", "in", products.ids),
                ],
                ["product_id"],
                ["quantity:sum", "reserved_quantity:sum"],
            )
        }
        incoming = dict(
            self.env["stock.move"]._read_group(
                [
                    ("location_dest_id", "child_of", van.id),
                    ("location_id", "not in", van.ids),
                    ("product_id", "in", products.ids),
                    ("state", "not in", ("draft", "done", "cancel")),
                ],
                ["product_id"],
                ["product_qty:sum"],
            )
        )
        vals_list = []
        for product, qty, job_ids in needed:
            van_qty = max(in_van.get(product, 0.0), 0.0)
            on_the_way = incoming.get(product, 0.0)
            vals_list.append(
                {
                    "product_id": product.id,
                    "needed_qty": qty,
                    "van_qty": van_qty,
                    "incoming_qty": on_the_way,
                    "to_load_qty": max(qty - van_qty - on_the_way, 0.0),
                    "request_ids": [Command.set(sorted(set(job_ids)))],
                }
            )
        return jobs, vals_list

    def action_refresh(self):
        self.ensure_one()
        self._compute_line_ids()
        return self._reopen()

    def action_create_transfers(self):
        """One resupply transfer from the depot to the van for everything to
        load, through the van resupply route (Odoo's procurement)."""
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: line.to_load_qty > 0)
        if not lines:
            raise UserError(
                self.env._(
                    "Nothing to load: the van of %(technician)s holds or awaits "
                    "every part its jobs of %(date)s need.",
                    technician=self.user_id.name,
                    date=self.date,
                )
            )
        van = self.user_id.van_location_id
        warehouse = van.warehouse_id
        if not warehouse.van_resupply_route_id:
            raise UserError(
                self.env._(
                    "Van %(van)s is not in a warehouse with a van resupply route.",
                    van=van.display_name,
                )
            )
        Procurement = self.env["procurement.group"]
        group = Procurement.create(
            {
                "name": self.env._(
                    "Load %(technician)s %(date)s",
                    technician=self.user_id.name,
                    date=self.date,
                ),
                "move_type": "direct",
            }
        )
        start, _end = self._get_day_bounds()
        values = {
            "group_id": group,
            "route_ids": warehouse.van_resupply_route_id,
            "warehouse_id": warehouse,
            "date_planned": min(fields.Datetime.now(), start),
            "date_deadline": start,
        }
        Procurement.run(
            [
                Procurement.Procurement(
                    line.product_id,
                    line.to_load_qty,
                    line.product_id.uom_id,
                    van,
                    group.name,
                    group.name,
                    self.company_id,
                    dict(values),
                )
                for line in lines
            ]
        )
        pickings = group.stock_move_ids.picking_id
        self.picking_ids = [Command.link(picking.id) for picking in pickings]
        self._compute_line_ids()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "stock.action_picking_tree_all"
        )
        action["domain"] = [("id", "in", pickings.ids)]
        action["context"] = {}
        if len(pickings) == 1:
            action.update(views=[(False, "form")], res_id=pickings.id)
        return action

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
