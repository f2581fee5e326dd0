from odoo import fields, models


class SaleSubscriptionTemplate(models.Model):
    _inherit = "sale.subscription.template"

    # --- renewals ---
    renewal_notice_days = fields.Integer(
        string="Renewal Notice (days)",
        default=30,
        help="Contracts of this template appear in Contracts to Renew this many "
        "days before they end, and their salesperson gets a renewal activity.",
    )
