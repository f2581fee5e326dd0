from odoo import fields, models


class SerialPreventiveKitLine(models.Model):
    _name = "serial.preventive.kit.line"
    _description = "Preventive Service Kit Line"
    _order = "product_tmpl_id, sequence, id"

    product_tmpl_id = fields.Many2one(
        "product.template",
        string="Serviced Product",
        required=True,
        index=True,
        ondelete="cascade",
    )
    sequence = fields.Integer(default=10)
    product_id = fields.Many2one(
        "product.product",
        string="Part or Service",
        required=True,
        help="Put on each preventive job of the serviced product's serials.",
    )
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")

    _sql_constraints = [
        (
            "quantity_positive",
            "CHECK(quantity > 0)",
            "A kit line's quantity is positive.",
        ),
    ]
