from odoo import api, fields, models
from odoo.exceptions import ValidationError


class SerialWarrantyPolicy(models.Model):
    _name = "serial.warranty.policy"
    _description = "Customer Warranty Policy"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", index=True, help="Leave empty to share the policy."
    )
    duration_months = fields.Integer(
        string="Duration (months)", required=True, default=12, tracking=True
    )
    start_trigger = fields.Selection(
        selection=[("delivery", "Delivery"), ("installation", "Installation")],
        required=True,
        default="delivery",
        tracking=True,
        help="The warranty starts on the serial's delivery date, or on its "
        "installation date.",
    )
    covers_parts = fields.Boolean(default=True, tracking=True)
    covers_labour = fields.Boolean(default=True, tracking=True)
    covers_travel = fields.Boolean(default=False, tracking=True)
    excluded_categ_ids = fields.Many2many(
        "product.category",
        string="Excluded Categories",
        help="Products of these categories (and their sub-categories) are never "
        "covered by this warranty, e.g. consumables.",
    )
    expiry_notice_days = fields.Integer(
        string="Expiry Notice (days)",
        default=30,
        help="The warranty shows as expiring, and a renewal is proposed, this many "
        "days before its last day.",
    )
    usage_meter_type_id = fields.Many2one(
        "serial.meter.type",
        string="Usage Meter",
        help="With a usage limit: the warranty also ends when the serial's usage "
        "on this meter since the warranty start reaches the limit.",
    )
    usage_limit = fields.Float(tracking=True)
    description = fields.Html(translate=True)

    @api.constrains("duration_months", "expiry_notice_days", "usage_limit")
    def _check_positive_values(self):
        for policy in self:
            if policy.duration_months <= 0:
                raise ValidationError(
                    self.env._(
                        "The warranty policy %(name)s must last at least one month.",
                        name=policy.name,
                    )
                )
            if policy.expiry_notice_days < 0 or policy.usage_limit < 0:
                raise ValidationError(
                    self.env._(
                        "Notice days and usage limit of %(name)s cannot be negative.",
                        name=policy.name,
                    )
                )

    def _covers_line_type(self, line_type):
        """Whether the policy covers a service line of this type."""
        self.ensure_one()
        return {
            "part": self.covers_parts,
            "consumable": self.covers_parts,
            "labour": self.covers_labour,
            "travel": self.covers_travel,
        }.get(line_type, False)
