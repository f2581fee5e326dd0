from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.sql import create_index


class StockLot(models.Model):
    """The serial registry: owner, site, supplier and their dates from the
    validated moves, the unit's equipment, its documents and smart buttons,
    the ownership guard and the lookup indexes. Warranty, coverage, history
    and the reports extend stock.lot in their own files."""

    _inherit = "stock.lot"

    # --- registry: owner, site, supplier; equipment, contracts, jobs, meters ---
    customer_id = fields.Many2one(
        "res.partner",
        string="Owner",
        index=True,
        tracking=True,
        check_company=True,
        help="Customer who owns the unit: set by the validated delivery, cleared "
        "or changed by a customer return.",
    )
    site_id = fields.Many2one(
        "res.partner",
        string="Site",
        tracking=True,
        check_company=True,
        help="Address the unit was delivered to.",
    )
    delivery_date = fields.Date(index=True, tracking=True, copy=False)
    installation_date = fields.Date(tracking=True, copy=False)
    supplier_id = fields.Many2one(
        "res.partner",
        string="Supplier",
        index=True,
        tracking=True,
        check_company=True,
        help="Vendor the unit was received from.",
    )
    receipt_date = fields.Date(index=True, tracking=True, copy=False)
    equipment_ids = fields.One2many(
        "maintenance.equipment", "lot_id", string="Equipment Records"
    )
    equipment_id = fields.Many2one(
        "maintenance.equipment",
        string="Equipment",
        compute="_compute_equipment_id",
        store=True,
        index=True,
    )
    subscription_ids = fields.Many2many(
        "sale.subscription",
        relation="sale_subscription_stock_lot_rel",
        column1="lot_id",
        column2="subscription_id",
        string="Contracts",
        copy=False,
        help="Contracts that cover this serial.",
    )
    request_ids = fields.One2many("maintenance.request", "lot_id", string="Jobs")
    meter_reading_ids = fields.One2many(
        "serial.meter.reading", "lot_id", string="Meter Readings"
    )
    request_count = fields.Integer(compute="_compute_request_count", string="Job Count")
    # --- genealogy: installed components ---
    parent_lot_id = fields.Many2one(
        "stock.lot",
        string="Installed In",
        index=True,
        tracking=True,
        ondelete="restrict",
        check_company=True,
        help="Unit this serialised component is installed in.",
    )
    child_lot_ids = fields.One2many(
        "stock.lot", "parent_lot_id", string="Installed Components"
    )
    # --- document links and smart buttons ---
    receipt_picking_ids = fields.Many2many(
        "stock.picking", compute="_compute_serial_documents", string="Receipts"
    )
    receipt_count = fields.Integer(compute="_compute_serial_documents")
    delivery_picking_ids = fields.Many2many(
        "stock.picking", compute="_compute_serial_documents", string="Deliveries"
    )
    delivery_picking_count = fields.Integer(compute="_compute_serial_documents")
    serial_invoice_ids = fields.Many2many(
        "account.move", compute="_compute_serial_documents", string="Invoices"
    )
    serial_invoice_count = fields.Integer(compute="_compute_serial_documents")
    last_purchase_id = fields.Many2one(
        "purchase.order",
        compute="_compute_serial_documents",
        search="_search_last_purchase_id",
        string="Purchase Order",
    )
    last_sale_id = fields.Many2one(
        "sale.order",
        compute="_compute_serial_documents",
        search="_search_last_sale_id",
        string="Sale Order",
    )
    last_invoice_id = fields.Many2one(
        "account.move", compute="_compute_serial_documents", string="Invoice"
    )
    product_default_code = fields.Char(
        related="product_id.default_code", string="Item Code"
    )
    # --- guards ---
    can_edit_ownership = fields.Boolean(compute="_compute_can_edit_ownership")

    @api.depends("equipment_ids")
    def _compute_equipment_id(self):
        for lot in self:
            lot.equipment_id = lot.equipment_ids[:1]

    def _compute_request_count(self):
        counts = dict(
            self.env["maintenance.request"]._read_group(
                [("lot_id", "in", self.ids)], ["lot_id"], ["__count"]
            )
        )
        for lot in self:
            lot.request_count = counts.get(lot, 0)

    @api.depends("quant_ids.quantity", "customer_id", "supplier_id")
    def _compute_serial_documents(self):
        """Receipts, deliveries, orders and invoices of each serial, from one read
        of its done move lines."""
        move_lines = self.env["stock.move.line"].search(
            [("lot_id", "in", self.ids), ("state", "=", "done")], order="date, id"
        )
        receipts = defaultdict(lambda: self.env["stock.picking"])
        deliveries = defaultdict(lambda: self.env["stock.picking"])
        purchases = defaultdict(lambda: self.env["purchase.order"])
        sales = defaultdict(lambda: self.env["sale.order"])
        for line in move_lines:
            move = line.move_id
            if line.location_id.usage == "supplier":
                receipts[line.lot_id.id] |= line.picking_id
                purchases[line.lot_id.id] |= move.purchase_line_id.order_id
            elif line.location_dest_id.usage == "customer":
                deliveries[line.lot_id.id] |= line.picking_id
                sales[line.lot_id.id] |= move.sale_line_id.order_id
        for lot in self:
            lot_sales = sales[lot.id]
            invoices = lot_sales.invoice_ids.filtered(lambda m: m.state != "cancel")
            lot.receipt_picking_ids = receipts[lot.id]
            lot.receipt_count = len(receipts[lot.id])
            lot.delivery_picking_ids = deliveries[lot.id]
            lot.delivery_picking_count = len(deliveries[lot.id])
            lot.serial_invoice_ids = invoices
            lot.serial_invoice_count = len(invoices)
            lot.last_purchase_id = purchases[lot.id][-1:]
            lot.last_sale_id = lot_sales[-1:]
            lot.last_invoice_id = invoices.sorted("id")[-1:]

    @api.depends_context("uid")
    def _compute_can_edit_ownership(self):
        is_manager = self.env.user.has_group("serial_service.group_service_manager")
        for lot in self:
            lot.can_edit_ownership = is_manager

    def _search_order_lots(self, order_field, operator, value):
        """Lots that went through a done move line of a matching order."""
        if operator in ("=", "!=", "in", "not in") and not isinstance(value, str):
            order_domain = [("id", operator, value)]
        else:
            order_domain = [("name", operator, value)]
        positive = expression.normalize_domain(order_domain)
        line_domain = [
            ("state", "=", "done"),
            ("lot_id", "!=", False),
            (f"move_id.{order_field}", "any", positive),
        ]
        return [
            (
                "id",
                "in",
                self.env["stock.move.line"]._search(line_domain).subselect("lot_id"),
            )
        ]

    def _search_last_purchase_id(self, operator, value):
        return self._search_order_lots("purchase_line_id.order_id", operator, value)

    def _search_last_sale_id(self, operator, value):
        return self._search_order_lots("sale_line_id.order_id", operator, value)

    # --- genealogy: no unit installed in itself ---
    @api.constrains("parent_lot_id")
    def _check_parent_lot_cycle(self):
        """A component cannot hold the unit it is installed in, at any depth:
        the genealogy walks (history, recalls) follow parent_lot_id."""
        if self._has_cycle("parent_lot_id"):
            raise ValidationError(
                self.env._(
                    "%(serials)s cannot be installed in one of its own components "
                    "(or in itself).",
                    serials=", ".join(self.mapped("name")),
                )
            )

    # --- lookup indexes ---
    def init(self):
        res = super().init()
        # a serial is scanned or typed among millions: exact and 'starts with'
        # lookups need btree indexes (the trigram index of stock serves the
        # 'contains' search); the upper-case one serves '=ilike' prefixes
        create_index(
            self.env.cr,
            "stock_lot_name_pattern_index",
            self._table,
            ["name varchar_pattern_ops"],
        )
        create_index(
            self.env.cr,
            "stock_lot_name_upper_pattern_index",
            self._table,
            ["upper(name) text_pattern_ops"],
        )
        return res

    def _condition_to_sql(self, alias, fname, operator, value, query):
        # 'starts with' on the serial, case-insensitive ('=ilike', 'MX4-00%'):
        # compared in upper case so that the index above serves it
        if (
            fname == "name"
            and operator == "=ilike"
            and isinstance(value, str)
            and len(value) > 1
            and value.endswith("%")
            and not set(value[:-1]) & {"%", "_", "\\"}
        ):
            return SQL(
                "(upper(%s) LIKE upper(%s))",
                self._field_to_sql(alias, fname, query),
                value,
            )
        return super()._condition_to_sql(alias, fname, operator, value, query)

    # --- guards: ownership (create, write), billed serials (unlink) ---
    @api.model
    def _get_manager_only_fields(self):
        """Fields that record ownership and entitlement: only service managers
        change them by hand; stock moves change them through the registry.
        The warranty adds its dates (stock_lot_warranty.py)."""
        return {
            "customer_id",
            "site_id",
            "delivery_date",
            # the warranty of an installation-started policy runs from it
            "installation_date",
            "supplier_id",
            "receipt_date",
        }

    def _check_ownership_change(self, vals):
        """Refuse a hand-made change of ownership, entitlement or covering
        contracts (vals: create or write values) by anyone but a manager; the
        registry and the contracts change them as the superuser."""
        if self.env.su:
            return
        if "subscription_ids" in vals:
            # the contract side checks one running contract per serial, the
            # company and the customer, and tracks the change: only there
            raise AccessError(
                self.env._(
                    "The contracts covering a serial number are chosen on the "
                    "contract (Covered Serials), not on the serial."
                )
            )
        if self._get_manager_only_fields() & {
            fname for fname, value in vals.items() if value
        } and not self.env.user.has_group("serial_service.group_service_manager"):
            raise AccessError(
                self.env._(
                    "Only a service manager can change the owner, supplier, "
                    "installation or warranty dates of a serial number."
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_ownership_change(vals)
        return super().create(vals_list)

    def write(self, vals):
        manager_fields = self._get_manager_only_fields() & vals.keys()
        # clearing a date or an owner is a change as much as setting one
        self._check_ownership_change(dict(vals, **dict.fromkeys(manager_fields, True)))
        return super().write(vals)

    def unlink(self):
        """A serial whose usage or service was billed stays: the invoices
        point at it."""
        # sudo: the guard counts every billed reading and line of the serial,
        # including those the user deleting it may not read
        billed_readings = (
            self.env["serial.meter.reading"]
            .sudo()
            .search_count(
                [("lot_id", "in", self.ids), ("invoice_line_id", "!=", False)], limit=1
            )
        )
        billed_lines = (
            self.env["serial.service.line"]
            .sudo()
            .search(
                [
                    "|",
                    ("unit_lot_id", "in", self.ids),
                    ("lot_id", "in", self.ids),
                    ("invoice_line_id", "!=", False),
                ],
                limit=1,
            )
        )
        # sudo above: the check covers readings and lines the user may not see
        if billed_readings or billed_lines:
            raise UserError(
                self.env._(
                    "Serial numbers whose meter readings or job lines were billed "
                    "cannot be deleted (%(serials)s): archive the product instead.",
                    serials=", ".join(self.mapped("name")),
                )
            )
        return super().unlink()

    # --- actions: smart buttons ---
    def _action_open_records(self, records, name):
        self.ensure_one()
        action = {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": records._name,
            "domain": [("id", "in", records.ids)],
            "view_mode": "list,form",
            "context": {"create": False},
        }
        if len(records) == 1:
            action.update(view_mode="form", res_id=records.id)
        return action

    def action_view_requests(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "maintenance.hr_equipment_request_action"
        )
        action["domain"] = [("lot_id", "=", self.id)]
        action["context"] = {
            "default_lot_id": self.id,
            "default_equipment_id": self.equipment_id.id,
        }
        return action

    def action_view_receipts(self):
        return self._action_open_records(
            self.receipt_picking_ids, self.env._("Receipts")
        )

    def action_view_deliveries(self):
        return self._action_open_records(
            self.delivery_picking_ids, self.env._("Deliveries")
        )

    def action_view_serial_invoices(self):
        return self._action_open_records(
            self.serial_invoice_ids, self.env._("Invoices")
        )

    def action_view_equipment(self):
        return self._action_open_records(self.equipment_id, self.env._("Equipment"))

    # --- registry: moves set owner, site and supplier; equipment ---
    def _update_registry_from_move_lines(self, move_lines):
        """Set supplier, owner and their dates from validated move lines.

        Receipts from a vendor set the supplier; deliveries to a customer set the
        owner; a return from a customer clears the owner. Lots that get the same
        values are written together, so tracking messages stay one per lot.
        """
        values_by_lot = defaultdict(dict)
        for line in move_lines.sorted(lambda ml: (ml.date, ml.id)):
            source, dest = line.location_id.usage, line.location_dest_id.usage
            day = fields.Date.context_today(line, line.date)
            partner = line.picking_id.partner_id or line.move_id.partner_id
            vals = values_by_lot[line.lot_id]
            if source == "supplier":
                vals.update(
                    supplier_id=partner.commercial_partner_id.id, receipt_date=day
                )
            if dest == "customer" and partner:
                vals.update(
                    customer_id=partner.commercial_partner_id.id, site_id=partner.id
                )
                # the first delivery starts the warranty: a unit returned and
                # delivered again keeps its date (a manager may change it)
                if not line.lot_id.delivery_date and "delivery_date" not in vals:
                    vals["delivery_date"] = day
            elif source == "customer":
                vals.update(customer_id=False, site_id=False)
        lots_by_values = defaultdict(lambda: self.env["stock.lot"])
        for lot, vals in values_by_lot.items():
            if vals:
                lots_by_values[tuple(sorted(vals.items()))] |= lot
        for vals, lots in lots_by_values.items():
            lots.write(dict(vals))
        delivered = self.env["stock.lot"].browse(
            lot.id for lot, vals in values_by_lot.items() if vals.get("customer_id")
        )
        delivered._assign_product_warranty_policy()
        delivered._create_service_equipment()

    def _create_service_equipment(self):
        """One maintenance equipment per delivered serial of a service-managed
        product, created in one batch; never a second one."""
        lots = self.filtered(
            lambda lot: lot.product_id.serial_service_managed and not lot.equipment_id
        )
        if not lots:
            return self.env["maintenance.equipment"]
        return self.env["maintenance.equipment"].create(
            [lot._prepare_equipment_vals() for lot in lots]
        )

    def _prepare_equipment_vals(self):
        self.ensure_one()
        return {
            "name": self.product_id.name,
            "serial_no": self.name,
            "lot_id": self.id,
            "company_id": self.company_id.id or self.env.company.id,
            "effective_date": self.delivery_date or fields.Date.context_today(self),
        }
