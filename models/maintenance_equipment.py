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

    def init(self):
        # one equipment per serial, also at the database level (the constraint
        # below gives the readable message; this catches concurrent writes)
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS maintenance_equipment_lot_id_unique
                ON maintenance_equipment (lot_id) WHERE lot_id IS NOT NULL
            """
        )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_lots_free([vals.get("lot_id") for vals in vals_list])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("lot_id"):
            if len(self) > 1:
                self._check_lots_free([vals["lot_id"]] * len(self))
            self._check_lots_free([vals["lot_id"]], exclude=self)
        return super().write(vals)

    @api.model
    def _check_lots_free(self, lot_ids, exclude=None):
        """Refuse, in words, what the unique index would refuse in SQL."""
        lot_ids = [lot_id for lot_id in lot_ids if lot_id]
        if not lot_ids:
            return
        taken = (
            self.with_context(active_test=False)
            .search(
                [("lot_id", "in", lot_ids), ("id", "not in", (exclude or self).ids)]
            )
            .lot_id
        )
        twice = {lot_id for lot_id in lot_ids if lot_ids.count(lot_id) > 1}
        lots = taken | self.env["stock.lot"].sudo().browse(twice)
        if lots:
            raise ValidationError(
                self.env._(
                    "A serial number can have only one equipment. Already linked: "
                    "%(serials)s",
                    serials=", ".join(lots.mapped("name")),
                )
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
