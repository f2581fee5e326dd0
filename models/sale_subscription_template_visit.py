from odoo import fields, models


class SaleSubscriptionTemplate(models.Model):
    _inherit = "sale.subscription.template"

    visit_interval_months = fields.Integer(
        string="Planned Visit Every (Months)",
        help="A preventive visit of every covered serial every that many months "
        "from the contract's start; 0: no planned visits.",
    )
    visit_lead_days = fields.Integer(
        string="Plan Visits Days Ahead",
        default=14,
        help="The visit's job is created, dispatched and announced to the "
        "customer that many days before the visit date.",
    )
    visit_duration = fields.Float(
        string="Visit Duration (Hours)",
        default=1.0,
        help="The time planned for each serial's visit.",
    )
