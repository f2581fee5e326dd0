from odoo import fields, models


class SaleSubscription(models.Model):
    _inherit = "sale.subscription"

    covered_lot_ids = fields.Many2many(
        "stock.lot",
        relation="sale_subscription_stock_lot_rel",
        column1="subscription_id",
        column2="lot_id",
        string="Covered Serials",
        copy=False,
        tracking=True,
        domain="[('customer_id', 'child_of', partner_id)]",
    )
    coverage_rule_ids = fields.One2many(
        "serial.coverage.rule", "subscription_id", string="Coverage Rules", copy=True
    )
