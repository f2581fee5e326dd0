from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # --- meter collection ---
    meter_billing_window_days = fields.Integer(
        related="company_id.meter_billing_window_days", readonly=False
    )
    meter_conflict_tolerance = fields.Float(
        related="company_id.meter_conflict_tolerance", readonly=False
    )
