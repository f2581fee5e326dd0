from odoo import api, fields, models
from odoo.exceptions import ValidationError

# the sources a precedence may name, in the default order
SOURCE_PRIORITY_DEFAULT = "device,technician,customer"
RANKED_SOURCES = ("device", "technician", "customer", "import")


class SaleSubscriptionTemplate(models.Model):
    _inherit = "sale.subscription.template"

    # --- meter source precedence ---
    meter_source_priority = fields.Char(
        string="Meter Source Precedence",
        default=SOURCE_PRIORITY_DEFAULT,
        required=True,
        help="Comma-separated sources, the first wins: when two sources read "
        "the same serial and meter within a day, the other reading is kept as "
        "superseded, out of the usage and never billed. Sources: device, "
        "technician, customer, import; a source not named comes after those "
        "named.",
    )

    @api.constrains("meter_source_priority")
    def _check_meter_source_priority(self):
        for template in self:
            names = template._get_meter_source_ranking(raw=True)
            unknown = [name for name in names if name not in RANKED_SOURCES]
            if unknown or len(set(names)) != len(names):
                raise ValidationError(
                    self.env._(
                        "The meter source precedence of %(template)s names sources "
                        "once each, among: %(sources)s.",
                        template=template.name,
                        sources=", ".join(RANKED_SOURCES),
                    )
                )

    def _get_meter_source_ranking(self, raw=False):
        """The sources, first wins (those not named after, in the default
        order); raw: only those named."""
        text = (self[:1].meter_source_priority if self else None) or (
            SOURCE_PRIORITY_DEFAULT
        )
        named = [name.strip() for name in text.split(",") if name.strip()]
        if raw:
            return named
        return named + [source for source in RANKED_SOURCES if source not in named]
