from odoo import fields, models


class SaleSubscriptionTemplate(models.Model):
    _inherit = "sale.subscription.template"

    coverage_rule_ids = fields.One2many(
        "serial.coverage.rule", "template_id", string="Coverage Rules", copy=True
    )
    usage_tariff_ids = fields.One2many(
        "serial.usage.tariff", "template_id", string="Usage Tariffs", copy=True
    )
    response_hours = fields.Float(
        help="Hours within which a technician answers a job on a covered serial."
    )
    resolution_hours = fields.Float(
        help="Hours within which a job on a covered serial is resolved."
    )
