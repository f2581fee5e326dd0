from odoo import fields, models


class SerialCoverageRule(models.Model):
    _name = "serial.coverage.rule"
    _description = "Contract Coverage Rule"
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
    name = fields.Char(string="Description")
    template_id = fields.Many2one(
        "sale.subscription.template", index=True, ondelete="cascade"
    )
    subscription_id = fields.Many2one(
        "sale.subscription", index=True, ondelete="cascade"
    )
    line_type = fields.Selection(
        selection=[
            ("part", "Part"),
            ("consumable", "Consumable"),
            ("labour", "Labour"),
            ("travel", "Travel"),
        ],
        help="Empty: any line type.",
    )
    product_id = fields.Many2one("product.product")
    categ_id = fields.Many2one(
        "product.category", string="Product Category", help="Also its sub-categories."
    )
    effect = fields.Selection(
        selection=[("include", "Include"), ("exclude", "Exclude")],
        required=True,
        default="include",
    )
    coverage_percent = fields.Float(string="Coverage (%)", default=100.0)
    max_qty_per_period = fields.Float(
        string="Max Quantity per Period", help="0 = no cap."
    )
    max_amount_per_period = fields.Float(
        string="Max Amount per Period", help="0 = no cap."
    )
