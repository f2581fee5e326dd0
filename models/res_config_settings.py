from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # --- closing a visit ---
    service_report_send = fields.Boolean(
        related="company_id.service_report_send", readonly=False
    )
    service_quote_threshold = fields.Monetary(
        related="company_id.service_quote_threshold",
        currency_field="currency_id",
        readonly=False,
    )
    service_labour_product_id = fields.Many2one(
        related="company_id.service_labour_product_id", readonly=False
    )
    service_timer_rounding = fields.Integer(
        related="company_id.service_timer_rounding", readonly=False
    )
