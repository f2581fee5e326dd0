from odoo import api, fields, models, tools
from odoo.tools import SQL

from .kpi_period import period_domain, ratio_of_sums

# usage is counted in thousands of hours for time meters, in millions of units
# (pages, cycles...) for the others
TIME_SCALE = 1000.0
COUNT_SCALE = 1000000.0


class SerialUsageFailureReport(models.Model):
    """Failure rate per usage: corrective jobs per million pages or per
    thousand running hours.

    One row per meter reading of a unit (its delta is the usage) and one per
    corrective job on a unit and meter the unit has readings of, both dated,
    so a period filter counts the usage and the failures of that period."""

    _name = "serial.usage.failure.report"
    _description = "Failures per Usage Report"
    _auto = False
    _rec_name = "product_tmpl_id"
    _order = "date desc, id"

    row_type = fields.Selection(
        selection=[("usage", "Usage"), ("failure", "Failure")], readonly=True
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
    company_id = fields.Many2one("res.company", readonly=True)
    customer_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    meter_type_id = fields.Many2one("serial.meter.type", string="Meter", readonly=True)
    request_id = fields.Many2one(
        "maintenance.request",
        string="Job",
        readonly=True,
        groups="serial_service.group_service_technician",
    )
    date = fields.Date(readonly=True)
    usage = fields.Float(readonly=True, digits=(16, 2))
    usage_scale = fields.Float(
        string="Usage per",
        readonly=True,
        aggregator=None,
        help="The rate counts failures per this much usage: 1,000 for time "
        "meters (hours), 1,000,000 for the others (pages).",
    )
    usage_scaled = fields.Float(
        string="Usage (thousands of hours / millions)",
        readonly=True,
        digits=(16, 4),
    )
    failure_count = fields.Integer(string="Corrective Jobs", readonly=True)
    failure_rate = fields.Float(
        string="Failures per Usage",
        readonly=True,
        aggregator="avg",
        digits=(16, 3),
        help="Corrective jobs per million pages (or per thousand running hours).",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %(table)s AS (
            WITH units AS (
                SELECT lot.id AS lot_id, lot.product_id, pp.product_tmpl_id,
                       pt.categ_id, lot.company_id, lot.customer_id
                  FROM stock_lot lot
                  JOIN product_product pp ON pp.id = lot.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                 WHERE pt.serial_service_managed
            ), meters AS (
                SELECT mt.id AS meter_type_id,
                       CASE WHEN uom.category_id = (
                           SELECT res_id FROM ir_model_data
                            WHERE module = 'uom' AND name = 'uom_categ_wtime'
                       ) THEN %(time_scale)s ELSE %(count_scale)s END AS usage_scale
                  FROM serial_meter_type mt
                  LEFT JOIN uom_uom uom ON uom.id = mt.uom_id
            ), unit_meters AS (
                SELECT DISTINCT lot_id, meter_type_id FROM serial_meter_reading
            )
            SELECT 2 * r.id::bigint AS id,
                   'usage' AS row_type,
                   u.lot_id, u.product_id, u.product_tmpl_id, u.categ_id,
                   u.company_id, u.customer_id,
                   r.meter_type_id,
                   NULL::integer AS request_id,
                   r.reading_date::date AS date,
                   COALESCE(r.delta, 0) AS usage,
                   m.usage_scale,
                   COALESCE(r.delta, 0) / m.usage_scale AS usage_scaled,
                   0 AS failure_count,
                   NULL::float AS failure_rate
              FROM serial_meter_reading r
              JOIN units u ON u.lot_id = r.lot_id
              JOIN meters m ON m.meter_type_id = r.meter_type_id
            UNION ALL
            SELECT 2 * (req.id::bigint * 1000000 + um.meter_type_id) + 1 AS id,
                   'failure' AS row_type,
                   u.lot_id, u.product_id, u.product_tmpl_id, u.categ_id,
                   u.company_id, u.customer_id,
                   um.meter_type_id,
                   req.id AS request_id,
                   req.request_date AS date,
                   0 AS usage,
                   m.usage_scale,
                   0 AS usage_scaled,
                   1 AS failure_count,
                   NULL::float AS failure_rate
              FROM maintenance_request req
              JOIN units u ON u.lot_id = req.lot_id
              JOIN unit_meters um ON um.lot_id = req.lot_id
              JOIN meters m ON m.meter_type_id = um.meter_type_id
             WHERE req.maintenance_type = 'corrective'
               AND NOT COALESCE(req.archive, FALSE)
            )
                """,
                table=SQL.identifier(self._table),
                time_scale=TIME_SCALE,
                count_scale=COUNT_SCALE,
            )
        )

    def _read_group_select(self, aggregate_spec, query):
        """The rate from the sums of the group, so that it stays right at every
        level of grouping."""
        if aggregate_spec.split(":")[0] != "failure_rate":
            return super()._read_group_select(aggregate_spec, query)
        return ratio_of_sums(self, query, "failure_count", "usage_scaled")

    @api.model
    def _get_kpi_sheets(self, date_from=None, date_to=None):
        """Failures per usage, per product model and meter, over the period."""
        groups = self._read_group(
            period_domain("date", date_from, date_to),
            ["product_tmpl_id", "meter_type_id"],
            ["usage:sum", "usage_scale:max", "failure_count:sum", "failure_rate:avg"],
            order="product_tmpl_id, meter_type_id",
        )
        return [
            {
                "name": self.env._("Failures per usage"),
                "headers": [
                    self.env._("Product Model"),
                    self.env._("Meter"),
                    self.env._("Usage"),
                    self.env._("Failures per"),
                    self.env._("Corrective Jobs"),
                    self.env._("Failures per Usage"),
                ],
                "rows": [
                    [
                        tmpl.display_name,
                        meter.display_name,
                        usage,
                        f"{scale:,.0f} {meter.uom_id.name or ''}".strip(),
                        failures,
                        rate,
                    ]
                    for tmpl, meter, usage, scale, failures, rate in groups
                ],
            }
        ]
