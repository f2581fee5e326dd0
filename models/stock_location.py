from odoo import api, fields, models

# the main company's service location of each kind, shipped in
# data/serial_recall_data.xml
SERVICE_LOCATION_XMLIDS = {
    "defective": "serial_service.stock_location_defective",
    "quarantine": "serial_service.stock_location_quarantine",
}


class StockLocation(models.Model):
    """The locations the service keeps per company, outside any warehouse's
    stock: the defective returns (parts a technician took out of a unit) and
    the quarantine (recalled units still in our stock)."""

    _inherit = "stock.location"

    # --- service locations: one of each kind per company ---
    service_location_kind = fields.Selection(
        selection=[
            ("defective", "Defective Returns"),
            ("quarantine", "Quarantine"),
        ],
        string="Service Use",
        copy=False,
        index="btree_not_null",
        help="What the service puts here: the company's defective returns or its "
        "quarantine. One location of each per company.",
    )

    _sql_constraints = [
        (
            "service_location_kind_company_uniq",
            "UNIQUE(service_location_kind, company_id)",
            "A company has one location of each service use.",
        ),
    ]

    @api.model
    def _get_or_create_service_location(self, kind, company=None):
        """The company's location of this kind (`defective`, `quarantine`),
        found by its kind and company, never by its name; created the first
        time a company needs it."""
        company = company or self.env.company
        # sudo: whoever completes a job or quarantines a recall (a technician,
        # a stock user) uses the company's location without managing
        # locations; it is found, or made once, by the system
        Location = self.sudo()
        location = Location.search(
            [
                ("service_location_kind", "=", kind),
                ("company_id", "in", [company.id, False]),
            ],
            order="company_id",
            limit=1,
        )
        if location:
            return location.with_env(self.env)
        shipped = Location.env.ref(
            SERVICE_LOCATION_XMLIDS[kind], raise_if_not_found=False
        )
        if (
            shipped
            and not shipped.service_location_kind
            and shipped.company_id in (company, self.env["res.company"])
        ):
            # the main company's location, shipped before the kind existed
            shipped.service_location_kind = kind
            return shipped.with_env(self.env)
        return Location.create(
            Location._prepare_service_location_vals(kind, company)
        ).with_env(self.env)

    @api.model
    def _prepare_service_location_vals(self, kind, company):
        """Outside the warehouses' stock, so that nothing there is available
        to sell or to reserve: the defective returns under the physical
        locations, the quarantine under the company's warehouse."""
        parent = self.env.ref("stock.stock_location_locations")
        if kind == "quarantine":
            warehouse = self.env["stock.warehouse"].search(
                [("company_id", "=", company.id)], limit=1
            )
            parent = warehouse.view_location_id or parent
        return {
            "name": {
                "defective": self.env._("Defective Returns"),
                "quarantine": self.env._("Quarantine"),
            }[kind],
            "usage": "internal",
            "location_id": parent.id,
            "company_id": company.id,
            "service_location_kind": kind,
        }
