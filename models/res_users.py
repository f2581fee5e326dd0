from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    van_location_id = fields.Many2one(
        "stock.location",
        string="Van Location",
        domain="[('usage', '=', 'internal')]",
        help="The technician's van (boot) stock: parts used on jobs come from here.",
    )
