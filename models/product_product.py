from odoo import models


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _get_service_line_type(self):
        self.ensure_one()
        return self.product_tmpl_id._get_service_line_type()
