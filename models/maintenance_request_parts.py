from collections import defaultdict
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    # --- parts planning: bringing a job's parts into the technician's van ---
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

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_plan_parts(self):
        """Bring every part of the jobs into their technician's van: from the
        van itself, else from the depot, else bought for the job. Running it
        again orders nothing twice."""
        self._lock_for_action(
            self.env._(
                "The parts of %(jobs)s are being planned right now, or were "
                "planned a moment ago (a double click, or someone else): nothing "
                "was ordered twice. Reload the job to see what was planned.",
                jobs=", ".join(self.mapped("name")),
            )
        )
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

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
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
        jobs = self.service_line_ids._filtered_stock_parts().request_id
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
        open_lines = open_jobs.service_line_ids._filtered_stock_parts()
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
