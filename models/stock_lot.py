import base64
import io
from collections import defaultdict
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.sql import create_index


class StockLot(models.Model):
    _inherit = "stock.lot"

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
    running_subscription_id = fields.Many2one(
        "sale.subscription",
        string="Running Contract",
        compute="_compute_running_subscription_id",
        help="The contract covering this serial today.",
    )
    meter_reading_ids = fields.One2many(
        "serial.meter.reading", "lot_id", string="Meter Readings"
    )
    request_count = fields.Integer(compute="_compute_request_count", string="Job Count")
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
    can_edit_ownership = fields.Boolean(compute="_compute_can_edit_ownership")
    history_html = fields.Html(
        string="History", compute="_compute_history_html", sanitize=False
    )
    warranty_policy_id = fields.Many2one(
        "serial.warranty.policy",
        string="Warranty Policy",
        index=True,
        tracking=True,
        help="Customer warranty of this unit: taken from its product when it is "
        "delivered; a service manager may change it.",
    )
    warranty_start_date = fields.Date(
        compute="_compute_warranty_start_date",
        store=True,
        readonly=False,
        tracking=True,
        copy=False,
    )
    warranty_end_date = fields.Date(
        compute="_compute_warranty_end_date",
        store=True,
        readonly=False,
        tracking=True,
        copy=False,
        # the 'expires in N days' lists among millions of serials
        index=True,
        help="Last day covered by the customer warranty.",
    )
    warranty_state = fields.Selection(
        selection=[
            ("none", "No Warranty"),
            ("active", "Active"),
            ("expiring", "Expiring"),
            ("expired", "Expired"),
        ],
        compute="_compute_warranty_state",
        store=True,
        index=True,
        default="none",
        help="Refreshed daily: Expiring in the policy's notice days before the "
        "last covered day.",
    )
    warranty_alert_end_date = fields.Date(
        copy=False,
        help="End date of the warranty window a renewal activity was scheduled "
        "for: never twice for the same window.",
    )
    supplier_warranty_end_date = fields.Date(
        compute="_compute_supplier_warranty_end_date",
        store=True,
        readonly=False,
        tracking=True,
        copy=False,
        help="Last day the vendor covers this unit, counted from its receipt.",
    )

    @api.depends("equipment_ids")
    def _compute_equipment_id(self):
        for lot in self:
            lot.equipment_id = lot.equipment_ids[:1]

    @api.depends(
        "warranty_policy_id.start_trigger", "delivery_date", "installation_date"
    )
    def _compute_warranty_start_date(self):
        for lot in self:
            policy = lot.warranty_policy_id
            if not policy:
                lot.warranty_start_date = False
            elif policy.start_trigger == "installation":
                lot.warranty_start_date = lot.installation_date
            else:
                lot.warranty_start_date = lot.delivery_date

    @api.depends("warranty_start_date", "warranty_policy_id.duration_months")
    def _compute_warranty_end_date(self):
        usage_end_dates = self._get_warranty_usage_end_dates()
        for lot in self:
            end = lot._get_warranty_end_date(
                lot.warranty_start_date, lot.warranty_policy_id.duration_months
            )
            usage_end = usage_end_dates.get(lot.id)
            if end and usage_end:
                end = min(end, usage_end)
            lot.warranty_end_date = end

    @api.depends("receipt_date", "product_id.supplier_warranty_months")
    def _compute_supplier_warranty_end_date(self):
        for lot in self:
            lot.supplier_warranty_end_date = lot._get_warranty_end_date(
                lot.receipt_date, lot.product_id.supplier_warranty_months
            )

    @api.depends(
        "warranty_start_date",
        "warranty_end_date",
        "warranty_policy_id.expiry_notice_days",
    )
    def _compute_warranty_state(self):
        today = fields.Date.context_today(self)
        for lot in self:
            lot.warranty_state = lot._get_warranty_state(today)

    @api.model
    def _get_warranty_end_date(self, start_date, months):
        """Last covered day: start + months - 1 day (12 months from 2026-01-15
        end on 2027-01-14). Override to count differently."""
        if not start_date or not months or months <= 0:
            return False
        return start_date + relativedelta(months=months) - timedelta(days=1)

    def _get_warranty_usage_end_dates(self):
        """{lot id: day the usage on its policy's meter since the warranty start
        reached the policy's usage limit}, from one read of the readings."""
        lots = self.filtered(
            lambda lot: (
                lot.id
                and lot.warranty_start_date
                and lot.warranty_policy_id.usage_meter_type_id
                and lot.warranty_policy_id.usage_limit > 0
            )
        )
        if not lots:
            return {}
        readings = self.env["serial.meter.reading"].search_fetch(
            [
                ("lot_id", "in", lots.ids),
                (
                    "meter_type_id",
                    "in",
                    lots.warranty_policy_id.usage_meter_type_id.ids,
                ),
                ("reading_date", ">=", min(lots.mapped("warranty_start_date"))),
            ],
            ["lot_id", "meter_type_id", "reading_date", "delta"],
            order="reading_date, id",
        )
        usage, ends = defaultdict(float), {}
        for reading in readings:
            lot = reading.lot_id
            policy = lot.warranty_policy_id
            if (
                lot.id in ends
                or reading.meter_type_id != policy.usage_meter_type_id
                or reading.reading_date.date() < lot.warranty_start_date
            ):
                continue
            usage[lot.id] += reading.delta
            if usage[lot.id] >= policy.usage_limit:
                ends[lot.id] = reading.reading_date.date()
        return ends

    def _refresh_usage_warranty(self):
        """Readings changed: the warranties with a usage limit may end earlier."""
        lots = self.filtered(lambda lot: lot.warranty_policy_id.usage_meter_type_id)
        if lots:
            self.env.add_to_compute(self._fields["warranty_end_date"], lots)

    def _get_warranty_state(self, on_date):
        self.ensure_one()
        start, end = self.warranty_start_date, self.warranty_end_date
        if not start or not end or on_date < start:
            return "none"
        if on_date > end:
            return "expired"
        notice = self.warranty_policy_id.expiry_notice_days
        if notice and (end - on_date).days < notice:
            return "expiring"
        return "active"

    def _is_under_warranty(self, on_date):
        """Whether the customer warranty covers this serial on that day."""
        self.ensure_one()
        return bool(
            self.warranty_start_date
            and self.warranty_end_date
            and self.warranty_start_date <= on_date <= self.warranty_end_date
        )

    @api.depends("subscription_ids.stage_id", "subscription_ids.date")
    def _compute_running_subscription_id(self):
        today = fields.Date.context_today(self)
        for lot in self:
            lot.running_subscription_id = lot._get_running_contract(today)

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

    @api.model
    def _get_manager_only_fields(self):
        """Fields that record ownership and entitlement: only service managers
        change them by hand; stock moves change them through the registry."""
        return {
            "customer_id",
            "site_id",
            "delivery_date",
            "supplier_id",
            "receipt_date",
            "warranty_policy_id",
            "warranty_start_date",
            "warranty_end_date",
            "supplier_warranty_end_date",
        }

    def write(self, vals):
        if (
            not self.env.su
            and self._get_manager_only_fields() & vals.keys()
            and not self.env.user.has_group("serial_service.group_service_manager")
        ):
            raise AccessError(
                self.env._(
                    "Only a service manager can change the owner, supplier or "
                    "warranty dates of a serial number."
                )
            )
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

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
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

    def action_export_overview_xlsx(self):
        """Download the serial overview of the selected serials as xlsx."""
        attachment = self.env["ir.attachment"].create(
            {
                "name": "serial_overview.xlsx",
                "raw": self._export_overview_xlsx(),
                "mimetype": "application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------
    @api.model
    def _get_overview_columns(self):
        return [
            self.env._("Serial Number"),
            self.env._("Item Code"),
            self.env._("Item Name"),
            self.env._("Location"),
            self.env._("Customer"),
            self.env._("Purchase Order"),
            self.env._("Sale Order"),
            self.env._("Invoice"),
        ]

    def _export_overview_xlsx(self):
        """The serial overview as the bytes of an xlsx workbook: one row per
        serial, each document a hyperlink to its record in Odoo."""
        import xlsxwriter

        base_url = self.env["stock.lot"].get_base_url()
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet(self.env._("Serials"))
        bold = workbook.add_format({"bold": True})
        for col, title in enumerate(self._get_overview_columns()):
            sheet.write(0, col, title, bold)
        sheet.freeze_panes(1, 0)

        def write_link(row, col, record):
            if record:
                url = f"{base_url}/odoo/{record._name}/{record.id}"
                sheet.write_url(row, col, url, string=record.display_name)

        for row, lot in enumerate(self, start=1):
            write_link(row, 0, lot)
            sheet.write(row, 1, lot.product_id.default_code or "")
            sheet.write(row, 2, lot.product_id.name)
            sheet.write(row, 3, lot.location_id.display_name or "")
            write_link(row, 4, lot.customer_id)
            write_link(row, 5, lot.last_purchase_id)
            write_link(row, 6, lot.last_sale_id)
            write_link(row, 7, lot.last_invoice_id)
        sheet.set_column(0, 7, 22)
        workbook.close()
        return output.getvalue()

    def _get_label_barcode_svg(self):
        """Code 128 of the serial number, as inline SVG for the label report."""
        self.ensure_one()
        from barcode import Code128
        from barcode.writer import SVGWriter

        stream = io.BytesIO()
        Code128(self.name, writer=SVGWriter()).write(
            stream,
            options={"module_height": 8.0, "font_size": 6, "text_distance": 3.0},
        )
        svg = stream.getvalue().decode()
        # drop the XML prolog and doctype: the SVG is embedded in HTML
        return Markup(svg[svg.index("<svg") :])

    def _get_label_barcode_data_uri(self):
        self.ensure_one()
        svg = self._get_label_barcode_svg().encode()
        return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()

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
                    customer_id=partner.commercial_partner_id.id,
                    site_id=partner.id,
                    delivery_date=day,
                )
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

    def _assign_product_warranty_policy(self):
        """At delivery a serial takes its product's warranty policy, unless a
        manager already chose one."""
        lots_by_policy = defaultdict(lambda: self.env["stock.lot"])
        for lot in self:
            policy = lot.product_id.warranty_policy_id
            if policy and not lot.warranty_policy_id:
                lots_by_policy[policy] |= lot
        for policy, lots in lots_by_policy.items():
            lots.write({"warranty_policy_id": policy.id})

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

    # ------------------------------------------------------------------
    # Genealogy (recalls, traceability)
    # ------------------------------------------------------------------
    def _get_host_lots(self):
        """Units that hold these serials as installed components, at any depth;
        one read per level of the genealogy, not per serial."""
        hosts = self.env["stock.lot"]
        level = self.parent_lot_id
        while level - hosts:
            level -= hosts
            hosts |= level
            level = level.parent_lot_id
        return hosts

    def _filter_recall_in_stock(self):
        return self.filtered(
            lambda lot: lot.location_id.usage in ("internal", "transit")
        )

    def _filter_recall_units_at_customer(self):
        """Top-level units at a customer: an installed component is reached
        through the unit it sits in."""
        return self.filtered(
            lambda lot: (
                lot.customer_id
                and not lot.parent_lot_id
                and lot.location_id.usage == "customer"
            )
        )

    # ------------------------------------------------------------------
    # History (traceability)
    # ------------------------------------------------------------------
    def _get_history_events(self):
        """Everything that happened to this serial, as dicts with a datetime
        `date`, a `kind`, a `description` and the `record` behind it. Other
        capabilities add their events by extending this method."""
        self.ensure_one()
        events = []
        lines = self.env["stock.move.line"].search(
            [("lot_id", "=", self.id), ("state", "=", "done")], order="date, id"
        )
        for line in lines:
            source, dest = line.location_id, line.location_dest_id
            partner = line.picking_id.partner_id
            if source.usage == "supplier":
                kind = self.env._("Received")
                order = line.move_id.purchase_line_id.order_id
                what = self.env._(
                    "from %(vendor)s%(order)s",
                    vendor=partner.display_name or source.display_name,
                    order=f" ({order.name})" if order else "",
                )
            elif dest.usage == "customer":
                kind = self.env._("Delivered")
                order = line.move_id.sale_line_id.order_id
                what = self.env._(
                    "to %(customer)s%(order)s",
                    customer=partner.display_name or dest.display_name,
                    order=f" ({order.name})" if order else "",
                )
            elif source.usage == "customer":
                kind = self.env._("Returned")
                what = self.env._(
                    "from %(customer)s to %(location)s",
                    customer=partner.display_name or source.display_name,
                    location=dest.display_name,
                )
            else:
                kind = self.env._("Moved")
                what = f"{source.display_name} → {dest.display_name}"
            events.append(
                {
                    "date": line.date,
                    "kind": kind,
                    "description": f"{what} [{line.reference or ''}]",
                    "record": line.picking_id or line.move_id,
                }
            )
        if self.installation_date:
            events.append(
                {
                    "date": fields.Datetime.to_datetime(self.installation_date),
                    "kind": self.env._("Installed"),
                    "description": self.site_id.display_name or "",
                    "record": self,
                }
            )
        for request in self.request_ids:
            events.append(
                {
                    "date": request.create_date,
                    "kind": self.env._("Job"),
                    "description": f"{request.name} ({request.stage_id.name or ''})",
                    "record": request,
                }
            )
        for invoice in self.serial_invoice_ids:
            events.append(
                {
                    "date": fields.Datetime.to_datetime(
                        invoice.invoice_date or invoice.date
                    ),
                    "kind": self.env._("Invoiced"),
                    "description": f"{invoice.name} {invoice.partner_id.display_name}",
                    "record": invoice,
                }
            )
        # sudo: tracking values are readable only through their messages;
        # these are the serial's own, which the user may read
        trackings = (
            self.env["mail.tracking.value"]
            .sudo()
            .search(
                [
                    ("mail_message_id.model", "=", "stock.lot"),
                    ("mail_message_id.res_id", "=", self.id),
                ]
            )
        )
        # sudo: tracking values are only readable through their message; the
        # serial itself is readable by the caller
        for tracking in trackings:
            events.append(
                {
                    "date": tracking.create_date,
                    "kind": self.env._("Changed"),
                    "description": "{}: {} → {} ({})".format(
                        tracking.field_id.field_description,
                        tracking._format_display_value(
                            tracking.field_id.ttype, new=False
                        )[0]
                        or "",
                        tracking._format_display_value(tracking.field_id.ttype)[0]
                        or "",
                        tracking.mail_message_id.author_id.display_name or "",
                    ),
                    "record": self,
                }
            )
        return sorted(events, key=lambda e: e["date"] or fields.Datetime.now())

    def _compute_history_html(self):
        for lot in self:
            rows = Markup("").join(
                Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>")
                % (
                    fields.Datetime.context_timestamp(lot, event["date"]).strftime(
                        "%Y-%m-%d %H:%M"
                    )
                    if event["date"]
                    else "",
                    event["kind"],
                    event["description"],
                )
                for event in lot._get_history_events()
            )
            lot.history_html = Markup(
                '<table class="table table-sm o_serial_history"><thead><tr>'
                "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>%s</tbody>"
                "</table>"
            ) % (self.env._("Date"), self.env._("Event"), self.env._("Details"), rows)

    def _get_genealogy(self):
        """(units this serial sits in, from the nearest; components it holds,
        as (depth, lot) pairs)."""
        self.ensure_one()
        upstream = []
        lot = self.parent_lot_id
        while lot and lot not in upstream:
            upstream.append(lot)
            lot = lot.parent_lot_id
        downstream = []

        def walk(lots, depth):
            for child in lots:
                downstream.append((depth, child))
                walk(child.child_lot_ids, depth + 1)

        walk(self.child_lot_ids, 1)
        return upstream, downstream

    def action_print_history(self):
        return self.env.ref("serial_service.stock_lot_history_report").report_action(
            self
        )

    # ------------------------------------------------------------------
    # Coverage (DESIGN.md, Coverage)
    # ------------------------------------------------------------------
    def get_service_coverage(self, product, date=None, qty=1.0):
        """Who pays for `qty` of `product` used on this serial on `date`:
        {'source', 'percent', 'subscription_id', 'rule_id', 'reason'}."""
        self.ensure_one()
        if product._name == "product.template":
            product = product.product_variant_id
        item = {"lot": self, "product": product, "qty": qty, "date": date}
        return self._get_service_coverage_batch([item])[0]

    @api.model
    def _get_service_coverage_batch(self, items):
        """Decide many lines at once with a fixed number of queries.

        items: dicts with 'lot', 'product', 'qty', optional 'date' (default
        today), 'price_unit' (default the product's sales price) and
        'exclude_line_ids' (service lines whose own usage must not count, e.g.
        the lines being decided). Lines of one batch that use the same capped
        rule consume its cap in the order given.
        """
        today = fields.Date.context_today(self)
        lots = self.env["stock.lot"].union(*(item["lot"] for item in items))
        products = self.env["product.product"].union(*(i["product"] for i in items))
        # prefetch what the loop reads, in a few queries for the whole batch
        products.categ_id.mapped("parent_path")
        lots.warranty_policy_id.excluded_categ_ids.mapped("parent_path")
        contracts = lots.subscription_ids
        contracts.stage_id.mapped("type")
        contracts.template_id.mapped("recurring_rule_type")
        contracts.coverage_rule_ids.mapped("categ_id")
        excluded_line_ids = set()
        for item in items:
            excluded_line_ids.update(item.get("exclude_line_ids") or ())
        usage = self._get_coverage_usage(contracts, excluded_line_ids)
        # what does not depend on the line's quantity is decided once per
        # serial, product and day (warranty, contract, rule, billing period)
        memo = {}
        return [
            self._decide_coverage(
                item["lot"],
                item["product"],
                item.get("qty", 1.0),
                self._to_day(item.get("date")) or today,
                item.get("price_unit"),
                usage,
                memo,
            )
            for item in items
        ]

    @api.model
    def _to_day(self, value):
        """A date from a date, a datetime or a string."""
        if isinstance(value, datetime):
            return value.date()
        return fields.Date.to_date(value) if value else False

    @api.model
    def _get_coverage_usage(self, contracts, excluded_line_ids):
        """{(rule id, contract id): [(day, covered qty, covered amount)]} of
        the contract-covered service lines: one read for all contracts."""
        usage = defaultdict(list)
        if not contracts:
            return usage
        domain = [
            ("subscription_id", "in", contracts.ids),
            ("coverage_source", "=", "contract"),
            ("coverage_rule_id", "!=", False),
        ]
        if excluded_line_ids:
            domain.append(("id", "not in", list(excluded_line_ids)))
        groups = self.env["serial.service.line"]._read_group(
            domain,
            ["coverage_rule_id", "subscription_id", "service_date:day"],
            ["covered_qty:sum", "covered_amount:sum"],
        )
        for rule, contract, day, qty, amount in groups:
            usage[rule.id, contract.id].append((day, qty, amount))
        return usage

    def _get_warranty_coverage(self, product, on_date):
        """DESIGN.md step 1: (covered, reason) of the customer warranty."""
        self.ensure_one()
        policy = self.warranty_policy_id
        if not policy or not self._is_under_warranty(on_date):
            return False, ""
        line_type = product._get_service_line_type()
        if not policy._covers_line_type(line_type):
            return False, ""
        path = set((product.categ_id.parent_path or "").split("/")) - {""}
        excluded = {str(categ.id) for categ in policy.excluded_categ_ids}
        if path & excluded:
            return False, ""
        return True, self.env._(
            "Covered by the warranty '%(policy)s' of serial %(serial)s until %(end)s.",
            policy=policy.name,
            serial=self.name,
            end=self.warranty_end_date,
        )

    def _get_running_contract(self, on_date):
        """The contract running on that day that covers this serial."""
        self.ensure_one()
        running = self.subscription_ids.filtered(lambda s: s._is_running_on(on_date))
        return running.sorted("id")[:1]

    @api.model
    def _decide_coverage(
        self, lot, product, qty, on_date, price_unit, usage, memo=None
    ):
        memo = {} if memo is None else memo
        decision = {
            "source": "none",
            "percent": 0.0,
            "subscription_id": False,
            "rule_id": False,
            "reason": "",
        }
        key = (lot.id, product.id, on_date)
        if key not in memo:
            memo[key] = lot._get_warranty_coverage(product, on_date)
        covered, reason = memo[key]
        if covered:
            decision.update(source="warranty", percent=100.0, reason=reason)
            return decision
        key = ("contract", lot.id, on_date)
        if key not in memo:
            memo[key] = lot._get_running_contract(on_date)
        contract = memo[key]
        if not contract:
            decision["reason"] = self.env._(
                "Serial %(serial)s has no warranty and no running contract on "
                "%(date)s that covers this.",
                serial=lot.name,
                date=on_date,
            )
            return decision
        key = ("rule", contract.id, product.id)
        if key not in memo:
            memo[key] = contract.coverage_rule_ids._select_deciding_rule(
                product, product._get_service_line_type()
            )
        rule = memo[key]
        decision["subscription_id"] = contract.id
        if not rule:
            decision["reason"] = self.env._(
                "Contract %(contract)s has no rule that covers %(product)s.",
                contract=contract.name,
                product=product.display_name,
            )
            return decision
        decision["rule_id"] = rule.id
        if rule.effect == "exclude":
            decision["reason"] = self.env._(
                "Not covered: contract %(contract)s excludes it (rule '%(rule)s').",
                contract=contract.name,
                rule=rule.display_name,
            )
            return decision
        key = ("period", contract.id, on_date)
        if key not in memo:
            memo[key] = contract._get_billing_period(on_date)
        return self._apply_coverage_caps(
            decision,
            contract,
            rule,
            product,
            qty,
            on_date,
            price_unit,
            usage,
            period=memo[key],
        )

    @api.model
    def _apply_coverage_caps(
        self,
        decision,
        contract,
        rule,
        product,
        qty,
        on_date,
        price_unit,
        usage,
        period=None,
    ):
        """The rule's percent for the part of the line within its caps for the
        contract's billing period; the part above a cap is charged."""
        period_start, period_end = period or contract._get_billing_period(on_date)
        history = usage[rule.id, contract.id]
        used_qty = sum(q for day, q, _a in history if period_start <= day < period_end)
        used_amount = sum(
            a for day, _q, a in history if period_start <= day < period_end
        )
        price = product.lst_price if price_unit is None else price_unit
        value = qty * price * rule.coverage_percent / 100.0
        fraction = 1.0
        if rule.max_qty_per_period and qty > 0:
            fraction = min(fraction, max(rule.max_qty_per_period - used_qty, 0.0) / qty)
        if rule.max_amount_per_period and value > 0:
            fraction = min(
                fraction, max(rule.max_amount_per_period - used_amount, 0.0) / value
            )
        fraction = max(min(fraction, 1.0), 0.0)
        covered_qty, covered_amount = qty * fraction, value * fraction
        # the next lines of the same batch see this line's consumption
        history.append((on_date, covered_qty, covered_amount))
        percent = rule.coverage_percent * fraction
        cap_text = self._describe_cap(
            rule, used_qty + covered_qty, used_amount + covered_amount
        )
        if fraction <= 0.0:
            decision["reason"] = self.env._(
                "Not covered: the cap of rule '%(rule)s' of contract %(contract)s "
                "is used up for this period%(cap)s.",
                rule=rule.display_name,
                contract=contract.name,
                cap=cap_text,
            )
            return decision
        decision.update(source="contract", percent=percent)
        if fraction < 1.0:
            decision["reason"] = self.env._(
                "Partly covered by contract %(contract)s, rule '%(rule)s': "
                "%(covered)s of %(qty)s within the cap%(cap)s; the rest is charged.",
                contract=contract.name,
                rule=rule.display_name,
                covered=f"{covered_qty:g}",
                qty=f"{qty:g}",
                cap=cap_text,
            )
        else:
            decision["reason"] = self.env._(
                "Covered by contract %(contract)s, rule '%(rule)s' "
                "(%(percent)s%%)%(cap)s.",
                contract=contract.name,
                rule=rule.display_name,
                percent=f"{rule.coverage_percent:g}",
                cap=cap_text,
            )
        return decision

    @api.model
    def _describe_cap(self, rule, used_qty, used_amount):
        parts = []
        if rule.max_qty_per_period:
            parts.append(
                self.env._(
                    "%(used)s of %(cap)s used this period",
                    used=f"{used_qty:g}",
                    cap=f"{rule.max_qty_per_period:g}",
                )
            )
        if rule.max_amount_per_period:
            parts.append(
                self.env._(
                    "%(used)s of %(cap)s covered this period",
                    used=f"{used_amount:.2f}",
                    cap=f"{rule.max_amount_per_period:.2f}",
                )
            )
        return (", " + ", ".join(parts)) if parts else ""

    # ------------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------------
    @api.model
    def _cron_refresh_warranty_state(self, batch_size=1000):
        """Move stored warranty states along with the calendar, batch after
        batch (flat memory), and schedule one renewal activity per serial
        entering its notice window. Correct when late or run twice: the state
        is derived from today, and the alert remembers its window."""
        today = fields.Date.context_today(self)
        domain = [
            ("warranty_end_date", "!=", False),
            "|",
            ("warranty_state", "!=", "expired"),
            ("warranty_end_date", ">=", today),
        ]
        state_field = self._fields["warranty_state"]
        last_id = 0
        while True:
            lots = self.search(
                [*domain, ("id", ">", last_id)], order="id", limit=batch_size
            )
            if not lots:
                break
            last_id = lots[-1].id
            changed = lots.filtered(
                lambda lot: lot._get_warranty_state(today) != lot.warranty_state
            )
            if changed:
                self.env.add_to_compute(state_field, changed)
                changed.flush_recordset(["warranty_state"])
            lots._schedule_warranty_expiry_alerts()
            self.env.invalidate_all()

    def _schedule_warranty_expiry_alerts(self):
        lots = self.filtered(
            lambda lot: (
                lot.warranty_state == "expiring"
                and lot.warranty_alert_end_date != lot.warranty_end_date
            )
        )
        if not lots:
            return
        managers = self.env.ref("serial_service.group_service_manager").users
        fallback = managers.filtered(lambda u: not u.share)[:1] or self.env.user
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model = self.env["ir.model"]._get_id("stock.lot")
        self.env["mail.activity"].create(
            [
                {
                    "res_model_id": model,
                    "res_id": lot.id,
                    "activity_type_id": activity_type.id,
                    "user_id": (lot.customer_id.user_id or fallback).id,
                    "date_deadline": lot.warranty_end_date,
                    "summary": self.env._(
                        "Warranty of %(serial)s ends on %(date)s: offer a renewal or "
                        "a contract to %(customer)s",
                        serial=lot.name,
                        date=lot.warranty_end_date,
                        customer=lot.customer_id.display_name or "",
                    ),
                }
                for lot in lots
            ]
        )
        for end_date in set(lots.mapped("warranty_end_date")):
            lots.filtered(lambda lot, d=end_date: lot.warranty_end_date == d).write(
                {"warranty_alert_end_date": end_date}
            )
