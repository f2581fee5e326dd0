from odoo import api, fields, models
from odoo.exceptions import ValidationError

# what a product counts as on a job: warranties and contract rules cover each
# kind separately
LINE_TYPES = [
    ("part", "Part"),
    ("consumable", "Consumable"),
    ("labour", "Labour"),
    ("travel", "Travel"),
]


class ProductTemplate(models.Model):
    _inherit = "product.template"

    service_line_type = fields.Selection(
        selection=LINE_TYPES,
        string="Service Line Type",
        help="How this product counts on a service job: warranties and contract "
        "rules cover parts, consumables, labour and travel separately.",
    )
    warranty_policy_id = fields.Many2one(
        "serial.warranty.policy",
        string="Customer Warranty",
        help="Warranty each delivered serial of this product gets.",
    )
    supplier_warranty_months = fields.Integer(
        string="Supplier Warranty (months)",
        help="Months the vendor covers a unit, counted from its receipt.",
    )
    meter_type_ids = fields.Many2many(
        "serial.meter.type",
        string="Meters",
        help="Meters the serials of this product carry (pages, hours, ...).",
    )
    # --- expected life of a serialised part (stocking suggestions) ---
    expected_life_months = fields.Integer(
        string="Expected Life (months)",
        help="Months a serial of this part is expected to last once installed "
        "or delivered; 0 = not followed.",
    )
    expected_life_usage = fields.Float(
        string="Expected Life (usage)",
        help="Usage on the meter below that a serial of this part is expected "
        "to last, counted on the unit it is installed in; 0 = not followed.",
    )
    expected_life_meter_type_id = fields.Many2one(
        "serial.meter.type",
        string="Expected Life Meter",
        help="The meter whose usage counts against the expected life.",
    )
    # --- preventive maintenance by meter ---
    preventive_meter_type_id = fields.Many2one(
        "serial.meter.type",
        string="Preventive Service Meter",
        help="The meter whose usage makes a preventive service due.",
    )
    preventive_interval = fields.Float(
        string="Preventive Service Every",
        help="Usage on the preventive service meter between two preventive "
        "services, counted from a serial's first reading: a job is opened each "
        "time the usage reaches a multiple of it; 0 = none.",
    )
    preventive_kit_line_ids = fields.One2many(
        "serial.preventive.kit.line",
        "product_tmpl_id",
        string="Preventive Service Kit",
        help="Parts and labour put on each preventive job as its lines.",
    )
    serial_service_managed = fields.Boolean(
        string="Service-Managed Serials",
        compute="_compute_serial_service_managed",
        store=True,
        readonly=False,
        help="Each serial of this product delivered to a customer gets its own "
        "maintenance equipment, so jobs, warranty and contracts follow the unit.",
    )

    @api.depends("tracking", "service_line_type")
    def _compute_serial_service_managed(self):
        # units are serial-tracked and not themselves a part of a job
        for template in self:
            template.serial_service_managed = (
                template.tracking == "serial" and not template.service_line_type
            )

    @api.constrains("preventive_interval", "preventive_meter_type_id")
    def _check_preventive_plan(self):
        for template in self:
            if template.preventive_interval < 0:
                raise ValidationError(
                    self.env._("The preventive service interval cannot be negative.")
                )
            if template.preventive_interval and not template.preventive_meter_type_id:
                raise ValidationError(
                    self.env._(
                        "Product %(product)s: choose the meter whose usage makes "
                        "the preventive service due.",
                        product=template.display_name,
                    )
                )

    def _get_service_line_type(self):
        """The service line type, defaulting to labour for services and to part
        for goods when the product does not say."""
        self.ensure_one()
        if self.service_line_type:
            return self.service_line_type
        return "labour" if self.type == "service" else "part"
