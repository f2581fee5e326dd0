from odoo import fields, models


class SaleSubscriptionTemplate(models.Model):
    _inherit = "sale.subscription.template"

    # --- meter read requests ---
    meter_request_days = fields.Integer(
        string="Ask for Meter Reads (days before invoice)",
        default=0,
        help="That many days before each invoice date, the contract's meter "
        "contact gets an e-mail listing the meters due, with a link to enter "
        "them, and one reminder if nothing came; 0: never.",
    )
