from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class SerialVanAudit(models.Model):
    _name = "serial.van.audit"
    _description = "Van Stock Audit"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    location_id = fields.Many2one(
        "stock.location",
        string="Van",
        required=True,
        index=True,
        domain="[('usage', '=', 'internal')]",
        default=lambda self: self.env.user.van_location_id,
        check_company=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users", string="Counted By", default=lambda self: self.env.user
    )
    date = fields.Datetime(default=fields.Datetime.now, readonly=True)
    state = fields.Selection(
        selection=[("count", "Counting"), ("applied", "Applied")],
        default="count",
        required=True,
        tracking=True,
    )
    scanned_serials = fields.Text(
        help="Serial numbers found in the van, one per line (scan them)."
    )
    line_ids = fields.One2many("serial.van.audit.line", "audit_id", string="Lines")
    discrepancy_count = fields.Integer(compute="_compute_discrepancy_count", store=True)

    @api.depends("location_id", "date")
    def _compute_name(self):
        for audit in self:
            audit.name = f"{audit.location_id.name or ''} {audit.date or ''}"

    @api.depends("line_ids.kind")
    def _compute_discrepancy_count(self):
        for audit in self:
            audit.discrepancy_count = len(
                audit.line_ids.filtered(lambda line: line.kind != "ok")
            )

    def action_load_expected(self):
        """One line per quant the system expects in the van; non-serialised
        lines start counted at 0 for the technician to fill in."""
        for audit in self:
            quants = self.env["stock.quant"].search(
                [("location_id", "=", audit.location_id.id), ("quantity", ">", 0)]
            )
            audit.line_ids = [Command.clear()] + [
                Command.create(
                    {
                        "product_id": quant.product_id.id,
                        "lot_id": quant.lot_id.id,
                        "expected_qty": quant.quantity,
                        "counted_qty": 0.0,
                    }
                )
                for quant in quants
            ]
        return True

    def action_compare(self):
        """Match the scanned serials against what is expected: a scanned
        serial is found (1), an expected one not scanned is missing (0), one
        scanned but not expected is unexpected."""
        for audit in self:
            scanned = {
                name.strip()
                for name in (audit.scanned_serials or "").splitlines()
                if name.strip()
            }
            serial_lines = audit.line_ids.filtered("lot_id")
            for line in serial_lines:
                line.counted_qty = 1.0 if line.lot_id.name in scanned else 0.0
            unexpected = scanned - set(serial_lines.lot_id.mapped("name"))
            lots = self.env["stock.lot"].search(
                [
                    ("name", "in", list(unexpected)),
                    ("company_id", "in", [audit.company_id.id, False]),
                ]
            )
            unknown = unexpected - set(lots.mapped("name"))
            if unknown:
                raise UserError(
                    self.env._(
                        "Unknown serial numbers: %(serials)s",
                        serials=", ".join(sorted(unknown)),
                    )
                )
            audit.line_ids = [
                Command.create(
                    {
                        "product_id": lot.product_id.id,
                        "lot_id": lot.id,
                        "expected_qty": 0.0,
                        "counted_qty": 1.0,
                    }
                )
                for lot in lots
            ]
        return True

    def action_apply(self):
        """Apply the count through Odoo's inventory adjustments (quant
        inventory mode); kept as the van's discrepancy report."""
        if not self.env.user.has_group("serial_service.group_service_manager"):
            raise UserError(
                self.env._("A service manager confirms the van audit adjustments.")
            )
        for audit in self.filtered(lambda a: a.state == "count"):
            lines = audit.line_ids.filtered(lambda line: line.kind != "ok")
            quants = self.env["stock.quant"]
            counted = defaultdict(float)
            for line in lines:
                counted[line.product_id, line.lot_id] += line.counted_qty
            Quant = self.env["stock.quant"].with_context(inventory_mode=True)
            for (product, lot), qty in counted.items():
                quants |= Quant.create(
                    {
                        "product_id": product.id,
                        "lot_id": lot.id,
                        "location_id": audit.location_id.id,
                        "inventory_quantity": qty,
                    }
                )
            # a serial found in the van but booked elsewhere leaves its old place
            unexpected = lines.filtered(lambda line: line.kind == "unexpected").lot_id
            if unexpected:
                elsewhere = self.env["stock.quant"].search(
                    [
                        ("lot_id", "in", unexpected.ids),
                        ("location_id", "!=", audit.location_id.id),
                        ("location_id.usage", "=", "internal"),
                        ("quantity", ">", 0),
                    ]
                )
                elsewhere.with_context(inventory_mode=True).inventory_quantity = 0.0
                quants |= elsewhere
            if quants:
                quants.with_context(
                    inventory_name=self.env._("Van audit %(van)s", van=audit.name)
                ).action_apply_inventory()
            audit.state = "applied"
        return True
