from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    # --- closing a visit: service report, quote, labour timer ---
    service_report_send = fields.Boolean(
        string="E-mail the Service Report",
        default=True,
        help="Completing a job e-mails its service report to the customer.",
    )
    service_quote_threshold = fields.Monetary(
        string="Quote Above",
        currency_field="currency_id",
        help="A job whose chargeable lines total more than this amount needs a "
        "quotation confirmed by the customer before it can be completed "
        "(0: never).",
    )
    service_labour_product_id = fields.Many2one(
        "product.product",
        string="Labour Product",
        domain="[('type', '=', 'service'), ('company_id', 'in', [id, False])]",
        help="The product of the labour line the job timer fills.",
    )
    service_timer_rounding = fields.Integer(
        string="Round Time on Site Up To (minutes)",
        default=15,
        help="The time measured by the job timer is rounded up to a multiple of "
        "this many minutes (0: to the minute).",
    )

    @api.constrains("service_quote_threshold", "service_timer_rounding")
    def _check_service_visit_settings(self):
        for company in self:
            if company.service_quote_threshold < 0:
                raise ValidationError(
                    self.env._(
                        "The amount above which a job needs a quotation cannot "
                        "be negative."
                    )
                )
            if company.service_timer_rounding < 0:
                raise ValidationError(
                    self.env._("The rounding of the time on site cannot be negative.")
                )
