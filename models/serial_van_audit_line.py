from odoo import api, fields, models


class SerialVanAuditLine(models.Model):
    _name = "serial.van.audit.line"
    _description = "Van Stock Audit Line"
    _order = "kind desc, product_id, lot_id"

    audit_id = fields.Many2one(
        "serial.van.audit", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="audit_id.company_id", store=True)
    product_id = fields.Many2one("product.product", required=True)
    lot_id = fields.Many2one("stock.lot", string="Serial")
    expected_qty = fields.Float(string="Expected", readonly=True)
    counted_qty = fields.Float(string="Counted")
    difference = fields.Float(compute="_compute_kind", store=True)
    kind = fields.Selection(
        selection=[
            ("ok", "As expected"),
            ("missing", "Missing"),
            ("unexpected", "Unexpected"),
            ("difference", "Quantity difference"),
        ],
        compute="_compute_kind",
        store=True,
    )

    @api.depends("expected_qty", "counted_qty", "lot_id")
    def _compute_kind(self):
        for line in self:
            line.difference = line.counted_qty - line.expected_qty
            if not line.difference:
                line.kind = "ok"
            elif line.lot_id and not line.counted_qty:
                line.kind = "missing"
            elif line.lot_id and not line.expected_qty:
                line.kind = "unexpected"
            else:
                line.kind = "difference"
