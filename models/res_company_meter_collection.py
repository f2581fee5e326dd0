from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    # --- meter collection: the review queue's tolerances ---
    meter_billing_window_days = fields.Integer(
        string="Meter Billing Window (days)",
        default=7,
        help="A contract invoiced within this many days whose last reading to "
        "bill is older than this many days before the invoice date is listed "
        "in Readings to Review; serials with no reading at all for it in "
        "Meters Not Read.",
    )
    meter_conflict_tolerance = fields.Float(
        string="Meter Conflict Tolerance (%)",
        default=1.0,
        help="A reading superseded by another source's reading of the same day "
        "is listed in Readings to Review when their values differ by more than "
        "this percentage of the winner's value.",
    )
