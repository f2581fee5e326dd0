from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL

# days per year of exposure: a unit in the field for 365.25 days is one unit-year
DAYS_PER_YEAR = 365.25


class SerialFailureReport(models.Model):
    """Failure rate per product model: corrective jobs per unit-year in the
    field, and mean time between failures.

    One row per unit in the field (its exposure, from its delivery date to its
    return, or to the report date included) and one per corrective job on it while it
    was in the field. Exposure depends on the report date, so it is summed at
    read time (``_read_group_select``) with the date of the context (today,
    or the period of an export: ``serial_kpi_date_from`` /
    ``serial_kpi_date_to``), and the ratios are computed from the sums at
    every level of grouping, never averaged.
    """

    _name = "serial.failure.report"
    _description = "Failure Rate Report"
    _auto = False
    _rec_name = "product_tmpl_id"
    _order = "delivery_date desc, id"

    row_type = fields.Selection(
        selection=[("exposure", "Unit in the Field"), ("failure", "Failure")],
        readonly=True,
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
    vendor_id = fields.Many2one("res.partner", string="Vendor", readonly=True)
    delivery_date = fields.Date(readonly=True)
    return_date = fields.Date(
        readonly=True, help="The unit came back from the customer that day."
    )
    request_id = fields.Many2one(
        "maintenance.request",
        string="Job",
        readonly=True,
        groups="serial_service.group_service_technician",
    )
    failure_date = fields.Date(readonly=True)
    unit_count = fields.Integer(string="Units", readonly=True)
    failure_count = fields.Integer(string="Corrective Jobs", readonly=True)
    field_days = fields.Float(string="Days in the Field", readonly=True)
    unit_years = fields.Float(
        string="Unit-Years",
        readonly=True,
        digits=(16, 2),
        help="Years the units spent at customers, from their delivery date to "
        "their return or today.",
    )
    failure_rate = fields.Float(
        string="Failures per Unit-Year",
        readonly=True,
        aggregator="avg",
        digits=(16, 3),
        help="Corrective jobs divided by unit-years in the field.",
    )
    mtbf_days = fields.Float(
        string="MTBF (days)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Mean time between failures: days in the field divided by the "
        "corrective jobs.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %(table)s AS (
            WITH field_lots AS (
                SELECT lot.id AS lot_id,
                       lot.product_id,
                       pp.product_tmpl_id,
                       pt.categ_id,
                       lot.company_id,
                       lot.customer_id,
                       lot.supplier_id AS vendor_id,
                       lot.delivery_date,
                       (
                           SELECT MIN(ml.date)::date
                             FROM stock_move_line ml
                             JOIN stock_location src ON src.id = ml.location_id
                             JOIN stock_location dst ON dst.id = ml.location_dest_id
                            WHERE ml.lot_id = lot.id
                              AND ml.state = 'done'
                              AND src.usage = 'customer'
                              AND dst.usage != 'customer'
                              AND ml.date::date >= lot.delivery_date
                       ) AS return_date
                  FROM stock_lot lot
                  JOIN product_product pp ON pp.id = lot.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                 WHERE lot.delivery_date IS NOT NULL
                   AND pt.serial_service_managed
            )
            SELECT 2 * f.lot_id AS id,
                   'exposure' AS row_type,
                   f.lot_id, f.product_id, f.product_tmpl_id, f.categ_id,
                   f.company_id, f.customer_id, f.vendor_id,
                   f.delivery_date, f.return_date,
                   NULL::integer AS request_id,
                   NULL::date AS failure_date,
                   1 AS unit_count,
                   0 AS failure_count,
                   GREATEST(
                       COALESCE(f.return_date, CURRENT_DATE + 1) - f.delivery_date, 0
                   ) AS field_days,
                   GREATEST(
                       COALESCE(f.return_date, CURRENT_DATE + 1) - f.delivery_date, 0
                   ) / %(days_per_year)s AS unit_years,
                   NULL::float AS failure_rate,
                   NULL::float AS mtbf_days
              FROM field_lots f
            UNION ALL
            SELECT 2 * r.id + 1 AS id,
                   'failure' AS row_type,
                   f.lot_id, f.product_id, f.product_tmpl_id, f.categ_id,
                   f.company_id, f.customer_id, f.vendor_id,
                   f.delivery_date, f.return_date,
                   r.id AS request_id,
                   r.request_date AS failure_date,
                   0 AS unit_count,
                   1 AS failure_count,
                   0 AS field_days,
                   0 AS unit_years,
                   NULL::float AS failure_rate,
                   NULL::float AS mtbf_days
              FROM field_lots f
              JOIN maintenance_request r ON r.lot_id = f.lot_id
             WHERE r.maintenance_type = 'corrective'
               AND NOT COALESCE(r.archive, FALSE)
               AND r.request_date >= f.delivery_date
               AND (f.return_date IS NULL OR r.request_date <= f.return_date)
            )
                """,
                table=SQL.identifier(self._table),
                days_per_year=DAYS_PER_YEAR,
            )
        )

    @api.model
    def _get_kpi_period(self):
        """(first day or None, last day, end of the exposure) of the period the
        KPIs cover: the context's export period, else everything up to today.
        The last day counts in full: the exposure ends the day after."""
        since = self.env.context.get("serial_kpi_date_from")
        until = self.env.context.get("serial_kpi_date_to")
        since = fields.Date.to_date(since) if since else None
        until = fields.Date.to_date(until) or fields.Date.context_today(self)
        return since, until, until + timedelta(days=1)

    def _read_group_select(self, aggregate_spec, query):
        """Exposure, failures and their ratios for the period: days in the field
        within [since, until], corrective jobs dated within it."""
        fname = aggregate_spec.split(":")[0]
        if fname not in (
            "unit_count",
            "failure_count",
            "field_days",
            "unit_years",
            "failure_rate",
            "mtbf_days",
        ):
            return super()._read_group_select(aggregate_spec, query)
        since, until, end = self._get_kpi_period()
        cols = {
            name: self._field_to_sql(self._table, name, query)
            for name in ("row_type", "delivery_date", "return_date", "failure_date")
        }
        params = dict(
            type=cols["row_type"],
            dlv=cols["delivery_date"],
            ret=cols["return_date"],
            day=cols["failure_date"],
            since=since,
            until=until,
            end=end,
        )
        days = SQL(
            "SUM(CASE WHEN %(type)s = 'exposure' THEN GREATEST("
            "LEAST(COALESCE(%(ret)s, %(end)s::date), %(end)s::date)"
            " - GREATEST(%(dlv)s, COALESCE(%(since)s::date, %(dlv)s)), 0)"
            " ELSE 0 END)::float",
            **params,
        )
        failures = SQL(
            "SUM(CASE WHEN %(type)s = 'failure' AND %(day)s <= %(until)s::date"
            " AND %(day)s >= COALESCE(%(since)s::date, %(day)s)"
            " THEN 1 ELSE 0 END)",
            **params,
        )
        if fname == "unit_count":
            return SQL(
                "SUM(CASE WHEN %(type)s = 'exposure' AND %(dlv)s <= %(until)s::date"
                " AND (%(ret)s IS NULL"
                " OR %(ret)s > COALESCE(%(since)s::date, %(dlv)s))"
                " THEN 1 ELSE 0 END)",
                **params,
            )
        if fname == "failure_count":
            return failures
        if fname == "field_days":
            return days
        if fname == "unit_years":
            return SQL("%s / %s", days, DAYS_PER_YEAR)
        if fname == "failure_rate":
            return SQL("%s / NULLIF(%s / %s, 0)", failures, days, DAYS_PER_YEAR)
        # mtbf_days
        return SQL("%s / NULLIF(%s, 0)", days, failures)

    @api.model
    def _get_kpi_sheets(self, date_from=None, date_to=None):
        """Failure rate per product model and MTBF per serial over the period,
        as export sheets."""
        report = self.with_context(
            serial_kpi_date_from=date_from,
            serial_kpi_date_to=date_to or fields.Date.context_today(self),
        )
        aggregates = [
            "unit_count:sum",
            "field_days:sum",
            "unit_years:sum",
            "failure_count:sum",
            "failure_rate:avg",
            "mtbf_days:avg",
        ]
        per_model = report._read_group(
            [], ["product_tmpl_id"], aggregates, order="product_tmpl_id"
        )
        # serials are for stock users (not contract consultants)
        per_serial = (
            report._read_group(
                [], ["lot_id", "product_tmpl_id"], aggregates, order="lot_id"
            )
            if self.env["stock.lot"].has_access("read")
            else None
        )
        sheets = [
            {
                "name": self.env._("Failure rate"),
                "headers": [
                    self.env._("Product Model"),
                    self.env._("Units"),
                    self.env._("Unit-Years"),
                    self.env._("Corrective Jobs"),
                    self.env._("Failures per Unit-Year"),
                ],
                "rows": [
                    [tmpl.display_name, units, years, failures, rate]
                    for tmpl, units, _days, years, failures, rate, _mtbf in per_model
                    if units
                ],
            },
        ]
        if per_serial is not None:
            sheets.append(
                {
                    "name": self.env._("MTBF per serial"),
                    "headers": [
                        self.env._("Serial Number"),
                        self.env._("Product Model"),
                        self.env._("Days in the Field"),
                        self.env._("Corrective Jobs"),
                        self.env._("MTBF (days)"),
                    ],
                    "rows": [
                        [lot.name, tmpl.display_name, days, failures, mtbf]
                        for lot, tmpl, units, days, _y, failures, _r, mtbf in per_serial
                        if units
                    ],
                }
            )
        return sheets
