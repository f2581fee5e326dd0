from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    # --- supplies under contract ---
    supply_reorder_margin = fields.Float(
        string="Supplies Reorder Margin (%)",
        default=10.0,
        help="A unit's next supply is ordered automatically when the usage since "
        "its last delivered item reaches the item's yield less this percentage.",
    )
    # --- renewals ---
    service_target_margin = fields.Float(
        string="Target Contract Margin (%)",
        default=20.0,
        help="Contracts to renew whose margin over the term is below this get a "
        "suggested price increase that brings them back to it.",
    )
