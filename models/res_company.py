from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    serial_repeat_visit_days = fields.Integer(
        string="Repeat Visit Window (days)",
        default=30,
        help="A corrective job on a serial closed this many days or less before "
        "a new one makes the new one a repeat visit.",
    )
