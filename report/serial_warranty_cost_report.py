from odoo import api, fields, models, tools
from odoo.tools import SQL

from odoo.addons.serial_service.models.product_template import LINE_TYPES

from .kpi_period import period_domain


class SerialWarrantyCostReport(models.Model):
    """Warranty cost: the parts, labour and travel the customer warranty
    covered on done jobs, at cost (quantity x the product's cost price x the
    covered share). One row per covered line, with the unit's product model
    and the vendor the unit was bought from."""

    _name = "serial.warranty.cost.report"
    _description = "Warranty Cost Report"
    _auto = False
    _rec_name = "product_tmpl_id"
    _order = "date desc, id"

    line_id = fields.Many2one(
        "serial.service.line",
        string="Job Line",
        readonly=True,
        groups="serial_service.group_service_technician",
    )
    request_id = fields.Many2one(
        "maintenance.request",
        string="Job",
        readonly=True,
        groups="serial_service.group_service_technician",
    )
    # fields on records a contract consultant may not read (serials, jobs)
    # are for stock users and technicians only
    lot_id = fields.Many2one(
        "stock.lot",
        string="Serial Number",
        readonly=True,
        groups="stock.group_stock_user",
    )
    product_id = fields.Many2one("product.product", string="Product", readonly=True)
    product_tmpl_id = fields.Many2one(
        "product.template", string="Product Model", readonly=True
    )
    categ_id = fields.Many2one(
        "product.category", string="Product Category", readonly=True
    )
    vendor_id = fields.Many2one(
        "res.partner",
        string="Vendor",
        readonly=True,
        help="The vendor the unit was received from.",
    )
    part_product_id = fields.Many2one(
        "product.product", string="Part or Service", readonly=True
    )
    line_type = fields.Selection(
        selection=LINE_TYPES,
        readonly=True,
    )
    customer_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date = fields.Date(readonly=True, help="The day the job was closed.")
    quantity = fields.Float(readonly=True, digits="Product Unit of Measure")
    currency_id = fields.Many2one("res.currency", readonly=True)
    parts_cost = fields.Monetary(
        string="Parts Cost", readonly=True, help="Parts and consumables at cost."
    )
    labour_cost = fields.Monetary(
        string="Labour Cost", readonly=True, help="Labour and travel at cost."
    )
    cost = fields.Monetary(string="Warranty Cost", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %(table)s AS (
            WITH lines AS (
                SELECT sl.id, sl.request_id, r.lot_id, lot.product_id,
                       pp.product_tmpl_id, pt.categ_id,
                       lot.supplier_id AS vendor_id,
                       sl.product_id AS part_product_id, sl.line_type,
                       r.customer_id, sl.company_id, company.currency_id,
                       COALESCE(r.close_date, r.request_date) AS date,
                       sl.quantity,
                       sl.quantity
                           * COALESCE(part.standard_price -> sl.company_id::text,
                                      to_jsonb(0.0))::float
                           * COALESCE(sl.coverage_percent, 0) / 100.0 AS cost
                  FROM serial_service_line sl
                  JOIN maintenance_request r ON r.id = sl.request_id
                  JOIN maintenance_stage st ON st.id = r.stage_id
                  JOIN product_product part ON part.id = sl.product_id
                  JOIN res_company company ON company.id = sl.company_id
                  LEFT JOIN stock_lot lot ON lot.id = r.lot_id
                  LEFT JOIN product_product pp ON pp.id = lot.product_id
                  LEFT JOIN product_template pt ON pt.id = pp.product_tmpl_id
                 WHERE sl.coverage_source = 'warranty'
                   AND st.done
                   AND NOT COALESCE(r.archive, FALSE)
            )
            SELECT id, id AS line_id, request_id, lot_id, product_id,
                   product_tmpl_id, categ_id, vendor_id, part_product_id,
                   line_type, customer_id, company_id, currency_id, date,
                   quantity,
                   CASE WHEN line_type IN ('part', 'consumable') THEN cost ELSE 0 END
                       AS parts_cost,
                   CASE WHEN line_type IN ('labour', 'travel') THEN cost ELSE 0 END
                       AS labour_cost,
                   cost
              FROM lines
            )
                """,
                table=SQL.identifier(self._table),
            )
        )

    @api.model
    def _get_kpi_sheets(self, date_from=None, date_to=None):
        """Warranty cost per product model and per vendor over the period."""
        domain = period_domain("date", date_from, date_to)
        aggregates = ["parts_cost:sum", "labour_cost:sum", "cost:sum"]
        per_model = self._read_group(
            domain, ["product_tmpl_id"], aggregates, order="product_tmpl_id"
        )
        per_vendor = self._read_group(
            domain, ["vendor_id"], aggregates, order="vendor_id"
        )
        headers = [
            self.env._("Parts Cost"),
            self.env._("Labour Cost"),
            self.env._("Warranty Cost"),
        ]
        return [
            {
                "name": self.env._("Warranty cost by product"),
                "headers": [self.env._("Product Model"), *headers],
                "rows": [
                    [tmpl.display_name or self.env._("No product"), parts, labour, cost]
                    for tmpl, parts, labour, cost in per_model
                ],
            },
            {
                "name": self.env._("Warranty cost by vendor"),
                "headers": [self.env._("Vendor"), *headers],
                "rows": [
                    [
                        vendor.display_name or self.env._("No vendor"),
                        parts,
                        labour,
                        cost,
                    ]
                    for vendor, parts, labour, cost in per_vendor
                ],
            },
        ]
