from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ProductTemplate(models.Model):
    _inherit = "product.template"

    # --- supplies under contract ---
    supply_yield = fields.Float(
        string="Supply Yield",
        help="Usage one item of this supply lasts (pages, or units of the supply "
        "meter); 0 = not followed, never ordered automatically.",
    )
    supply_meter_type_id = fields.Many2one(
        "serial.meter.type",
        string="Supply Meter",
        help="The meter whose usage consumes this supply; empty: the unit's first "
        "meter.",
    )
    supply_product_ids = fields.Many2many(
        "product.product",
        "product_template_supply_product_rel",
        "unit_tmpl_id",
        "supply_product_id",
        string="Supplies",
        help="Toner, ink and other supplies meant for this model: the ones its "
        "customers may order for a unit, on the portal or by its device.",
    )

    @api.constrains("supply_yield")
    def _check_supply_yield(self):
        for template in self:
            if template.supply_yield < 0:
                raise ValidationError(
                    self.env._(
                        "Product %(product)s: the supply yield cannot be negative.",
                        product=template.display_name,
                    )
                )

    def _get_service_line_type(self):
        """A supplies order prices its lines as consumables, whatever the
        product says."""
        if self.env.context.get("serial_supply_line"):
            return "consumable"
        return super()._get_service_line_type()

    def _get_supply_meter(self, unit_product):
        """The meter whose usage consumes this supply on a unit of
        unit_product."""
        self.ensure_one()
        return self.supply_meter_type_id or unit_product.meter_type_ids[:1]


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _get_supply_meter(self, unit_product):
        self.ensure_one()
        return self.product_tmpl_id._get_supply_meter(unit_product)
