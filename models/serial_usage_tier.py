from odoo import fields, models


class SerialUsageTier(models.Model):
    _name = "serial.usage.tier"
    _description = "Usage Tariff Tier"
    _order = "from_qty, id"

    tariff_id = fields.Many2one(
        "serial.usage.tariff", required=True, index=True, ondelete="cascade"
    )
    from_qty = fields.Float(
        string="From", help="Billable units from this quantity up to the next tier."
    )
    price_unit = fields.Float(digits="Usage Price", required=True)
