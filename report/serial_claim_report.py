from odoo import api, fields, models, tools
from odoo.tools import SQL

from .kpi_period import period_domain, ratio_of_sums


class SerialClaimReport(models.Model):
    """Supplier claim recovery: what was claimed from vendors (every claim
    past draft) and what they credited (the posted vendor credit note of the
    claim), one row per claim."""

    _name = "serial.claim.report"
    _description = "Supplier Claim Recovery Report"
    _auto = False
    _rec_name = "claim_id"
    _order = "date desc, id"

    claim_id = fields.Many2one("serial.warranty.claim", string="Claim", readonly=True)
    lot_id = fields.Many2one("stock.lot", string="Failed Serial", readonly=True)
    product_id = fields.Many2one("product.product", string="Product", readonly=True)
    vendor_id = fields.Many2one("res.partner", string="Vendor", readonly=True)
    request_id = fields.Many2one("maintenance.request", string="Job", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date = fields.Date(string="Failure Date", readonly=True)
    state = fields.Selection(
        selection=[
            ("submitted", "Submitted"),
            ("accepted", "Accepted"),
            ("rejected", "Rejected"),
            ("credited", "Credited"),
        ],
        readonly=True,
    )
    claim_count = fields.Integer(string="Claims", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    claimed_amount = fields.Monetary(string="Claimed", readonly=True)
    credited_amount = fields.Monetary(
        string="Credited",
        readonly=True,
        help="Untaxed amount of the claim's posted vendor credit note.",
    )
    recovery_rate = fields.Float(
        string="Recovery Rate (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Credited amount per 100 claimed.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %(table)s AS (
            SELECT c.id,
                   c.id AS claim_id,
                   c.lot_id, c.product_id, c.vendor_id, c.request_id,
                   c.company_id,
                   company.currency_id,
                   c.failure_date AS date,
                   c.state,
                   1 AS claim_count,
                   COALESCE(c.amount, 0) AS claimed_amount,
                   CASE WHEN m.state = 'posted'
                        THEN ABS(m.amount_untaxed_signed) ELSE 0 END
                       AS credited_amount,
                   NULL::float AS recovery_rate
              FROM serial_warranty_claim c
              JOIN res_company company ON company.id = c.company_id
              LEFT JOIN account_move m ON m.id = c.refund_move_id
             WHERE c.state != 'draft'
            )
                """,
                table=SQL.identifier(self._table),
            )
        )

    def _read_group_select(self, aggregate_spec, query):
        """Credited over claimed of the whole group, not an average of claims."""
        if aggregate_spec.split(":")[0] != "recovery_rate":
            return super()._read_group_select(aggregate_spec, query)
        return ratio_of_sums(
            self, query, "credited_amount", "claimed_amount", factor=100.0
        )

    @api.model
    def _get_kpi_sheets(self, date_from=None, date_to=None):
        """Claim recovery per vendor, for the failures of the period."""
        groups = self._read_group(
            period_domain("date", date_from, date_to),
            ["vendor_id"],
            [
                "claim_count:sum",
                "claimed_amount:sum",
                "credited_amount:sum",
                "recovery_rate:avg",
            ],
            order="vendor_id",
        )
        return [
            {
                "name": self.env._("Claim recovery"),
                "headers": [
                    self.env._("Vendor"),
                    self.env._("Claims"),
                    self.env._("Claimed"),
                    self.env._("Credited"),
                    self.env._("Recovery Rate (%)"),
                ],
                "rows": [
                    [vendor.display_name, count, claimed, credited, rate]
                    for vendor, count, claimed, credited, rate in groups
                ],
            }
        ]
