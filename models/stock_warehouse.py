from odoo import Command, api, fields, models


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    van_parent_location_id = fields.Many2one(
        "stock.location",
        string="Vans Location",
        copy=False,
        check_company=True,
        help="Parent of the technicians' van locations; outside the warehouse "
        "stock so that van parts are never reserved for the depot.",
    )
    van_resupply_type_id = fields.Many2one(
        "stock.picking.type", string="Van Resupply Type", copy=False, check_company=True
    )
    van_resupply_route_id = fields.Many2one(
        "stock.route", string="Van Resupply Route", copy=False, check_company=True
    )
    van_job_route_id = fields.Many2one(
        "stock.route",
        string="Parts for a Job Route",
        copy=False,
        check_company=True,
        help="Brings the parts bought for a job into the technician's van: "
        "the transfer from the depot waits for the purchase.",
    )

    def _create_van_setup(self):
        """The Vans parent location and the route that pulls parts from the
        warehouse stock into any van, for warehouses that lack them."""
        for warehouse in self.filtered(lambda w: not w.van_parent_location_id):
            vans = self.env["stock.location"].create(
                {
                    "name": self.env._("Vans"),
                    "usage": "view",
                    "location_id": warehouse.view_location_id.id,
                    "company_id": warehouse.company_id.id,
                }
            )
            # its own operation type: its default destination (the Vans parent)
            # lets each transfer go to the van that asked for the parts
            picking_type = self.env["stock.picking.type"].create(
                {
                    "name": self.env._("Van Resupply"),
                    "code": "internal",
                    "sequence_code": "VAN",
                    "warehouse_id": warehouse.id,
                    "company_id": warehouse.company_id.id,
                    "default_location_src_id": warehouse.lot_stock_id.id,
                    "default_location_dest_id": vans.id,
                }
            )
            route = self.env["stock.route"].create(
                warehouse._prepare_van_route_vals(
                    self.env._(
                        "%(warehouse)s: Resupply van from depot",
                        warehouse=warehouse.name,
                    ),
                    self.env._("%(warehouse)s: Stock → Vans", warehouse=warehouse.name),
                    "make_to_stock",
                    vans,
                    picking_type,
                )
            )
            warehouse.write(
                {
                    "van_parent_location_id": vans.id,
                    "van_resupply_type_id": picking_type.id,
                    "van_resupply_route_id": route.id,
                }
            )
        self._create_van_job_route()
        return True

    # ------------------------------------------------------------------
    # Parts planned on a job: the route that brings them to the van
    # ------------------------------------------------------------------
    def _create_van_job_route(self):
        """A route with one make-to-order rule, Stock → Vans: the transfer to
        the van waits for the depot's own procurement (the buy route), which is
        chained to it, so what is bought for a job is reserved for its van."""
        for warehouse in self.filtered(
            lambda w: w.van_parent_location_id and not w.van_job_route_id
        ):
            route = self.env["stock.route"].create(
                warehouse._prepare_van_route_vals(
                    self.env._(
                        "%(warehouse)s: Parts for a job", warehouse=warehouse.name
                    ),
                    self.env._(
                        "%(warehouse)s: Stock → Vans, bought for a job",
                        warehouse=warehouse.name,
                    ),
                    "make_to_order",
                    warehouse.van_parent_location_id,
                    warehouse.van_resupply_type_id,
                )
            )
            warehouse.van_job_route_id = route
        return True

    def _prepare_van_route_vals(
        self, name, rule_name, procure_method, vans, picking_type
    ):
        """A route of one pull rule from the depot's stock into the vans, kept
        off products and warehouses (procurements name it)."""
        self.ensure_one()
        return {
            "name": name,
            "product_selectable": False,
            "warehouse_selectable": False,
            "company_id": self.company_id.id,
            "rule_ids": [
                Command.create(
                    {
                        "name": rule_name,
                        "action": "pull",
                        "procure_method": procure_method,
                        "location_src_id": self.lot_stock_id.id,
                        "location_dest_id": vans.id,
                        "picking_type_id": picking_type.id,
                        "warehouse_id": self.id,
                        "company_id": self.company_id.id,
                        "group_propagation_option": "propagate",
                    }
                )
            ],
        }

    @api.model
    def _create_van_setup_all(self):
        self.search([("company_id", "!=", False)])._create_van_setup()
