from odoo import api, fields, models, tools
from odoo.tools import SQL

from .kpi_period import period_domain, ratio_of_sums


class SerialJobReport(models.Model):
    """Repeat repairs and first-time fixes: one row per job on a serial.

    A repeat visit is the job's own ``is_repeat_visit`` (another corrective
    job on the serial closed within the company's repeat-visit window before
    it). A corrective job done is fixed the first time when no other
    corrective job on the serial was opened within that window after its
    close date."""

    _name = "serial.job.report"
    _description = "Repeat Repairs and First-Time Fix Report"
    _auto = False
    _rec_name = "request_id"
    _order = "request_date desc, id"

    request_id = fields.Many2one("maintenance.request", string="Job", readonly=True)
    lot_id = fields.Many2one("stock.lot", string="Serial Number", readonly=True)
    product_id = fields.Many2one("product.product", string="Product", readonly=True)
    product_tmpl_id = fields.Many2one(
        "product.template", string="Product Model", readonly=True
    )
    categ_id = fields.Many2one(
        "product.category", string="Product Category", readonly=True
    )
    company_id = fields.Many2one("res.company", readonly=True)
    customer_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Technician", readonly=True)
    maintenance_team_id = fields.Many2one(
        "maintenance.team", string="Team", readonly=True
    )
    maintenance_type = fields.Selection(
        selection=[("corrective", "Corrective"), ("preventive", "Preventive")],
        readonly=True,
    )
    request_date = fields.Date(readonly=True)
    close_date = fields.Date(readonly=True)
    is_done = fields.Boolean(string="Done", readonly=True)
    is_repeat_visit = fields.Boolean(string="Repeat Visit", readonly=True)
    is_first_time_fix = fields.Boolean(string="Fixed First Time", readonly=True)
    job_count = fields.Integer(string="Jobs", readonly=True)
    corrective_count = fields.Integer(string="Corrective Jobs", readonly=True)
    repeat_count = fields.Integer(string="Repeat Visits", readonly=True)
    fixed_count = fields.Integer(
        string="Corrective Jobs Done", readonly=True, help="Corrective jobs closed."
    )
    first_time_fix_count = fields.Integer(string="First-Time Fixes", readonly=True)
    repeat_rate = fields.Float(
        string="Repeat Rate (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Repeat visits per 100 corrective jobs.",
    )
    first_time_fix_rate = fields.Float(
        string="First-Time-Fix Rate (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Corrective jobs done without a repeat visit following them, per "
        "100 corrective jobs done.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %(table)s AS (
            WITH jobs AS (
                SELECT r.id, r.lot_id, lot.product_id, pp.product_tmpl_id,
                       pt.categ_id, r.company_id, r.customer_id, r.user_id,
                       r.maintenance_team_id, r.maintenance_type,
                       r.request_date, r.close_date,
                       COALESCE(st.done, FALSE) AS is_done,
                       r.maintenance_type = 'corrective' AS is_corrective,
                       COALESCE(r.is_repeat_visit, FALSE) AS is_repeat_visit,
                       r.maintenance_type = 'corrective'
                           AND COALESCE(st.done, FALSE)
                           AND r.close_date IS NOT NULL AS is_fixed,
                       COALESCE(c.serial_repeat_visit_days, 0) AS window_days
                  FROM maintenance_request r
                  JOIN stock_lot lot ON lot.id = r.lot_id
                  JOIN product_product pp ON pp.id = lot.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  LEFT JOIN maintenance_stage st ON st.id = r.stage_id
                  LEFT JOIN res_company c ON c.id = r.company_id
                 WHERE NOT COALESCE(r.archive, FALSE)
            ), fixed AS (
                SELECT j.id,
                       j.is_fixed AND NOT EXISTS (
                           SELECT 1
                             FROM maintenance_request nxt
                            WHERE nxt.lot_id = j.lot_id
                              AND nxt.id != j.id
                              AND nxt.maintenance_type = 'corrective'
                              AND NOT COALESCE(nxt.archive, FALSE)
                              AND nxt.request_date >= j.close_date
                              AND nxt.request_date <= j.close_date + j.window_days
                       ) AS is_first_time_fix
                  FROM jobs j
            )
            SELECT j.id,
                   j.id AS request_id,
                   j.lot_id, j.product_id, j.product_tmpl_id, j.categ_id,
                   j.company_id, j.customer_id, j.user_id, j.maintenance_team_id,
                   j.maintenance_type, j.request_date, j.close_date, j.is_done,
                   j.is_corrective AND j.is_repeat_visit AS is_repeat_visit,
                   f.is_first_time_fix,
                   1 AS job_count,
                   CASE WHEN j.is_corrective THEN 1 ELSE 0 END AS corrective_count,
                   CASE WHEN j.is_corrective AND j.is_repeat_visit THEN 1 ELSE 0 END
                       AS repeat_count,
                   CASE WHEN j.is_fixed THEN 1 ELSE 0 END AS fixed_count,
                   CASE WHEN f.is_first_time_fix THEN 1 ELSE 0 END
                       AS first_time_fix_count,
                   NULL::float AS repeat_rate,
                   NULL::float AS first_time_fix_rate
              FROM jobs j
              JOIN fixed f ON f.id = j.id
            )
                """,
                table=SQL.identifier(self._table),
            )
        )

    def _read_group_select(self, aggregate_spec, query):
        """Rates from the sums of the group (weighted), never an average of
        per-row rates."""
        ratios = {
            "repeat_rate": ("repeat_count", "corrective_count"),
            "first_time_fix_rate": ("first_time_fix_count", "fixed_count"),
        }
        fname = aggregate_spec.split(":")[0]
        if fname not in ratios:
            return super()._read_group_select(aggregate_spec, query)
        return ratio_of_sums(self, query, *ratios[fname], factor=100.0)

    @api.model
    def _get_kpi_sheets(self, date_from=None, date_to=None):
        """Repeat repairs per serial (jobs requested in the period) and the
        first-time-fix rate per technician (jobs closed in the period)."""
        repeats = self._read_group(
            [
                ("maintenance_type", "=", "corrective"),
                *period_domain("request_date", date_from, date_to),
            ],
            ["lot_id", "product_tmpl_id"],
            ["corrective_count:sum", "repeat_count:sum", "repeat_rate:avg"],
            order="lot_id",
        )
        fixes = self._read_group(
            [
                ("fixed_count", "=", 1),
                *period_domain("close_date", date_from, date_to),
            ],
            ["user_id"],
            ["fixed_count:sum", "first_time_fix_count:sum", "first_time_fix_rate:avg"],
            order="user_id",
        )
        return [
            {
                "name": self.env._("Repeat repairs"),
                "headers": [
                    self.env._("Serial Number"),
                    self.env._("Product Model"),
                    self.env._("Corrective Jobs"),
                    self.env._("Repeat Visits"),
                    self.env._("Repeat Rate (%)"),
                ],
                "rows": [
                    [lot.name, tmpl.display_name, jobs, repeat, rate]
                    for lot, tmpl, jobs, repeat, rate in repeats
                ],
            },
            {
                "name": self.env._("First-time fix"),
                "headers": [
                    self.env._("Technician"),
                    self.env._("Corrective Jobs Done"),
                    self.env._("Fixed First Time"),
                    self.env._("First-Time-Fix Rate (%)"),
                ],
                "rows": [
                    [user.name or self.env._("Unassigned"), done, first, rate]
                    for user, done, first, rate in fixes
                ],
            },
        ]
