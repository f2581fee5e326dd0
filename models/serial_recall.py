import re
from collections import defaultdict

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError

TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)(\D*)$")


class SerialRecall(models.Model):
    _name = "serial.recall"
    _description = "Recall Campaign"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(
        string="Reference",
        required=True,
        copy=False,
        readonly=True,
        default=lambda self: self.env._("New"),
    )
    title = fields.Char(required=True, tracking=True, help="What is wrong, in short.")
    description = fields.Html(help="What the customer is told and what the job does.")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    state = fields.Selection(
        selection=[("draft", "Draft"), ("running", "Running"), ("closed", "Closed")],
        default="draft",
        required=True,
        tracking=True,
    )
    product_ids = fields.Many2many(
        "product.product",
        string="Products",
        help="Products recalled; empty: any product of the scope.",
    )
    scope_type = fields.Selection(
        selection=[
            ("explicit", "Listed serials"),
            ("range", "Serial range"),
            ("supplier", "Vendor"),
            ("receipt", "Receipt window"),
            ("component", "Contains a component"),
        ],
        required=True,
        default="explicit",
        tracking=True,
    )
    scope_lot_ids = fields.Many2many(
        "stock.lot",
        relation="serial_recall_scope_lot_rel",
        string="Listed Serials",
        help="Serials recalled (listed scope) or components whose host units are "
        "recalled (component scope).",
    )
    serial_from = fields.Char()
    serial_to = fields.Char()
    supplier_id = fields.Many2one("res.partner", string="Vendor")
    receipt_date_from = fields.Date()
    receipt_date_to = fields.Date()
    affected_lot_ids = fields.Many2many(
        "stock.lot",
        relation="serial_recall_affected_lot_rel",
        string="Affected Serials",
        readonly=True,
        copy=False,
    )
    affected_count = fields.Integer(compute="_compute_counts")
    in_stock_count = fields.Integer(compute="_compute_counts")
    at_customer_count = fields.Integer(compute="_compute_counts")
    customer_ids = fields.Many2many(
        "res.partner", compute="_compute_counts", string="Customers"
    )
    notified_partner_ids = fields.Many2many(
        "res.partner",
        relation="serial_recall_notified_partner_rel",
        string="Customers Notified",
        readonly=True,
        copy=False,
    )
    request_ids = fields.One2many("maintenance.request", "recall_id", string="Jobs")
    job_count = fields.Integer(compute="_compute_progress")
    done_job_count = fields.Integer(compute="_compute_progress")
    progress = fields.Float(compute="_compute_progress", help="Done jobs, in %.")
    customer_progress = fields.Html(compute="_compute_progress")

    @api.depends("affected_lot_ids")
    def _compute_counts(self):
        for recall in self:
            lots = recall.affected_lot_ids
            at_customer = recall._filter_recall_units_at_customer(lots)
            recall.affected_count = len(lots)
            recall.in_stock_count = len(recall._filter_recall_in_stock(lots))
            recall.at_customer_count = len(at_customer)
            recall.customer_ids = at_customer.customer_id

    @api.depends("request_ids.stage_id.done", "request_ids.customer_id")
    def _compute_progress(self):
        done_by_recall_customer = defaultdict(lambda: [0, 0])
        groups = self.env["maintenance.request"]._read_group(
            [("recall_id", "in", self.ids)],
            ["recall_id", "customer_id", "stage_id"],
            ["__count"],
        )
        for recall, customer, stage, count in groups:
            counts = done_by_recall_customer[recall.id, customer]
            counts[1] += count
            if stage.done:
                counts[0] += count
        for recall in self:
            rows = [
                (customer, done, total)
                for (recall_id, customer), (
                    done,
                    total,
                ) in done_by_recall_customer.items()
                if recall_id == recall.id
            ]
            total = sum(row[2] for row in rows)
            done = sum(row[1] for row in rows)
            recall.job_count = total
            recall.done_job_count = done
            recall.progress = 100.0 * done / total if total else 0.0
            recall.customer_progress = Markup("").join(
                Markup("<div>%s: %s / %s</div>")
                % (customer.display_name or self.env._("No customer"), done_c, total_c)
                for customer, done_c, total_c in sorted(
                    rows, key=lambda r: r[0].display_name or ""
                )
            )

    @api.constrains("scope_type", "serial_from", "serial_to", "receipt_date_from")
    def _check_scope(self):
        for recall in self:
            if recall.scope_type == "range" and not (
                recall.serial_from and recall.serial_to
            ):
                raise ValidationError(
                    self.env._("A serial range needs a first and a last serial.")
                )
            if (
                recall.receipt_date_from
                and recall.receipt_date_to
                and recall.receipt_date_from > recall.receipt_date_to
            ):
                raise ValidationError(
                    self.env._("The receipt window ends before it starts.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", self.env._("New")) == self.env._("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("serial.recall")
        return super().create(vals_list)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_compute_affected(self):
        for recall in self:
            recall.affected_lot_ids = [Command.set(recall._find_affected_lots().ids)]
        return True

    def action_start(self):
        """Scope the recall, quarantine stock, open one job per unit at a
        customer and tell each customer once."""
        self._lock_against_a_second_run()
        self.action_compute_affected()
        self.action_quarantine()
        self.action_create_jobs()
        self.action_notify_customers()
        self.state = "running"
        return True

    def action_quarantine(self):
        """Move the affected units that are still in our stock to quarantine."""
        for recall in self:
            lots = recall._filter_recall_in_stock(recall.affected_lot_ids)
            quarantine = self.env["stock.location"]._get_or_create_service_location(
                "quarantine", recall.company_id
            )
            lots = lots.filtered(lambda lot, q=quarantine: lot.location_id != q)
            if lots:
                recall._move_lots(lots, quarantine)
        return True

    def action_create_jobs(self):
        """One preventive job per affected unit at a customer, never two."""
        self._lock_against_a_second_run()
        Request = self.env["maintenance.request"]
        vals_list = []
        for recall in self:
            units = recall._filter_recall_units_at_customer(recall.affected_lot_ids)
            units -= recall.request_ids.lot_id
            vals_list += [recall._prepare_request_vals(unit) for unit in units]
        return Request.create(vals_list) if vals_list else Request

    def action_notify_customers(self):
        """One message per customer listing its units; a customer already told
        is not told again."""
        for recall in self:
            units = recall._filter_recall_units_at_customer(recall.affected_lot_ids)
            by_customer = defaultdict(lambda: self.env["stock.lot"])
            for unit in units:
                by_customer[unit.customer_id] |= unit
            template = self.env.ref("serial_service.mail_template_recall_notice")
            for customer, lots in by_customer.items():
                if customer in recall.notified_partner_ids:
                    continue
                # the template lists the units of this customer only
                recall.with_context(
                    recall_notice_lot_ids=lots.ids, lang=customer.lang
                ).message_post_with_source(
                    template,
                    partner_ids=customer.ids,
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
                recall.notified_partner_ids = [Command.link(customer.id)]
        return True

    def action_close(self):
        """Close the recall, or show the units whose job is not done yet."""
        self.ensure_one()
        pending = self._get_pending_lots()
        if pending and not self.env.context.get("force_close"):
            return {
                "type": "ir.actions.act_window",
                "name": self.env._("Recalled units without a done job"),
                "res_model": "stock.lot",
                "view_mode": "list,form",
                "domain": [("id", "in", pending.ids)],
                "context": {"create": False},
            }
        self.state = "closed"
        return True

    def action_view_jobs(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "maintenance.hr_equipment_request_action"
        )
        action["domain"] = [("recall_id", "=", self.id)]
        action["context"] = {"create": False, "search_default_customer": 1}
        return action

    def action_view_affected(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Affected serials"),
            "res_model": "stock.lot",
            "view_mode": "list,form",
            "domain": [("id", "in", self.affected_lot_ids.ids)],
            "context": {"create": False, "search_default_group_by_customer": 1},
        }

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    @api.model
    def _filter_recall_in_stock(self, lots):
        """The serials still in our stock (internal or transit): quarantined."""
        return lots.filtered(
            lambda lot: lot.location_id.usage in ("internal", "transit")
        )

    @api.model
    def _filter_recall_units_at_customer(self, lots):
        """Top-level units at a customer: an installed component is reached
        through the unit it sits in."""
        return lots.filtered(
            lambda lot: (
                lot.customer_id
                and not lot.parent_lot_id
                and lot.location_id.usage == "customer"
            )
        )

    def _get_scope_domain(self):
        self.ensure_one()
        domain = [("company_id", "in", [self.company_id.id, False])]
        if self.product_ids:
            domain.append(("product_id", "in", self.product_ids.ids))
        if self.scope_type == "explicit":
            domain.append(("id", "in", self.scope_lot_ids.ids))
        elif self.scope_type == "supplier":
            domain.append(("supplier_id", "child_of", self.supplier_id.ids))
        elif self.scope_type == "receipt":
            if self.receipt_date_from:
                domain.append(("receipt_date", ">=", self.receipt_date_from))
            if self.receipt_date_to:
                domain.append(("receipt_date", "<=", self.receipt_date_to))
            if not (self.receipt_date_from or self.receipt_date_to):
                raise UserError(self.env._("Give the receipt window of the recall."))
        elif self.scope_type == "range":
            domain += self._get_range_domain()
        return domain

    def _get_range_domain(self):
        """Serials from serial_from to serial_to: same prefix and suffix, the
        number in between (MX4-0998 .. MX4-1002 holds MX4-1000)."""
        first = TRAILING_NUMBER.match(self.serial_from.strip())
        last = TRAILING_NUMBER.match(self.serial_to.strip())
        if not first or not last or first[1] != last[1] or first[3] != last[3]:
            # no common numbering: plain text order
            return [("name", ">=", self.serial_from), ("name", "<=", self.serial_to)]
        prefix, suffix = first[1], first[3]
        low, high = sorted((int(first[2]), int(last[2])))
        candidates = self.env["stock.lot"].search_fetch(
            [("name", "=like", f"{prefix}%{suffix}")], ["name"]
        )
        ids = []
        for lot in candidates:
            match = TRAILING_NUMBER.match(lot.name)
            if match and match[1] == prefix and match[3] == suffix:
                if low <= int(match[2]) <= high:
                    ids.append(lot.id)
        return [("id", "in", ids)]

    def _find_affected_lots(self):
        """The serials in scope, and every unit that holds one of them as an
        installed component (all levels up)."""
        self.ensure_one()
        Lot = self.env["stock.lot"]
        if self.scope_type == "component":
            base = self.scope_lot_ids
            if self.product_ids:
                hosts = base._get_host_lots()
                return hosts.filtered(lambda lot: lot.product_id in self.product_ids)
            return base._get_host_lots()
        base = Lot.search(self._get_scope_domain())
        return base | base._get_host_lots()

    def _move_lots(self, lots, destination):
        """Real stock moves of the serials to the destination, one per serial,
        created and validated in one batch."""
        Move = self.env["stock.move"]
        return Move._create_validated_serial_moves(
            [
                Move._prepare_validated_move_vals(
                    lot.product_id,
                    1.0,
                    lot.location_id,
                    destination,
                    lot=lot,
                    company=self.company_id,
                    name=self.env._("Recall %(ref)s", ref=self.name),
                    origin=self.name,
                )
                for lot in lots
            ]
        )

    def _lock_against_a_second_run(self):
        self._lock_for_action(
            self.env._(
                "Recall %(recalls)s is being started or its jobs created right "
                "now, or a moment ago (a double click, or someone else): no job "
                "was created twice. Reload the recall to see its jobs.",
                recalls=", ".join(self.mapped("name")),
            )
        )

    def _prepare_request_vals(self, unit):
        self.ensure_one()
        return {
            "name": self.env._(
                "Recall %(ref)s: %(title)s", ref=self.name, title=self.title
            ),
            "maintenance_type": "preventive",
            "lot_id": unit.id,
            "equipment_id": unit.equipment_id.id,
            "customer_id": unit.customer_id.id,
            "recall_id": self.id,
            "company_id": self.company_id.id,
            "description": self.description,
        }

    def _get_pending_lots(self):
        """Affected units at customers whose recall job is missing or not done."""
        self.ensure_one()
        units = self._filter_recall_units_at_customer(self.affected_lot_ids)
        done_units = self.request_ids.filtered(lambda r: r.stage_id.done).lot_id
        return units - done_units
