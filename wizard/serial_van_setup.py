from odoo import fields, models
from odoo.exceptions import UserError


class SerialVanSetup(models.TransientModel):
    _name = "serial.van.setup"
    _description = "Create Technician Vans"

    warehouse_id = fields.Many2one(
        "stock.warehouse",
        required=True,
        default=lambda self: self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        ),
    )
    user_ids = fields.Many2many(
        "res.users",
        string="Technicians",
        domain=lambda self: [
            (
                "groups_id",
                "in",
                self.env.ref("serial_service.group_service_technician").ids,
            )
        ],
    )
    line_ids = fields.One2many("serial.van.setup.line", "wizard_id", string="Parts")

    def action_create_vans(self):
        self.ensure_one()
        if not self.user_ids:
            raise UserError(self.env._("Choose the technicians who get a van."))
        return self._create_vans()

    def _create_vans(self):
        """A van location per technician who has none, with one reordering rule
        per part of the list, pulled from the depot by the resupply route."""
        warehouse = self.warehouse_id
        warehouse._create_van_setup()
        users = self.user_ids.filtered(lambda u: not u.van_location_id)
        if not users:
            return self.env["stock.location"]
        vans = self.env["stock.location"].create(
            [
                {
                    "name": user.name,
                    "usage": "internal",
                    "location_id": warehouse.van_parent_location_id.id,
                    "company_id": warehouse.company_id.id,
                }
                for user in users
            ]
        )
        groups = self.env["procurement.group"].create(
            [{"name": self.env._("Van %(van)s", van=van.name)} for van in vans]
        )
        for user, van in zip(users, vans, strict=True):
            # sudo: a service manager may set a technician's van without the
            # right to edit users
            user.sudo().van_location_id = van
        self.env["stock.warehouse.orderpoint"].create(
            [
                {
                    "warehouse_id": warehouse.id,
                    "location_id": van.id,
                    "product_id": line.product_id.id,
                    "product_min_qty": line.min_qty,
                    "product_max_qty": line.max_qty,
                    "route_id": warehouse.van_resupply_route_id.id,
                    "group_id": group.id,
                    "trigger": "auto",
                    "company_id": warehouse.company_id.id,
                }
                for van, group in zip(vans, groups, strict=True)
                for line in self.line_ids
            ]
        )
        return vans
