from odoo import api, fields, models
from odoo.exceptions import ValidationError


class MaintenanceEquipment(models.Model):
    _inherit = "maintenance.equipment"

    lot_id = fields.Many2one(
        "stock.lot",
        string="Lot/Serial",
        index=True,
        tracking=True,
        ondelete="restrict",
        check_company=True,
        domain="[('product_id.tracking', '=', 'serial')]",
    )
    customer_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_customer_id",
        store=True,
        readonly=False,
        index=True,
        tracking=True,
    )

    @api.depends("lot_id.customer_id")
    def _compute_customer_id(self):
        for equipment in self:
            if equipment.lot_id:
                equipment.customer_id = equipment.lot_id.customer_id

    @api.constrains("lot_id")
    def _check_lot_id_unique(self):
        lots = self.lot_id
        if not lots:
            return
        duplicates = self.with_context(active_test=False)._read_group(
            [("lot_id", "in", lots.ids)],
            ["lot_id"],
            ["__count"],
            having=[("__count", ">", 1)],
        )
        if duplicates:
            raise ValidationError(
                self.env._(
                    "A serial number can have only one equipment. Already linked: "
                    "%(serials)s",
                    serials=", ".join(lot.name for lot, _count in duplicates),
                )
            )
