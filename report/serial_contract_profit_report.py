from odoo import api, fields, models, tools
from odoo.tools import SQL

from odoo.addons.serial_service.models.product_template import LINE_TYPES

from .kpi_period import period_domain


class SerialContractProfitReport(models.Model):
    """Contract profitability: what a contract invoiced against what its
    covered parts, labour, travel and supplies cost.

    One row per product line of a posted customer invoice or credit note of
    the contract (its own invoices, or those of its sale orders), untaxed in
    company currency, and one per job line the contract covered on a done
    job, at cost (quantity x cost price x covered share), and one per
    supplies order line the contract covered, at the cost of what was
    delivered."""

    _name = "serial.contract.profit.report"
    _description = "Contract Profitability Report"
    _auto = False
    _rec_name = "subscription_id"
    _order = "date desc, id"

    row_type = fields.Selection(
        selection=[
            ("invoice", "Invoiced"),
            ("cost", "Covered Cost"),
            ("supply", "Covered Supplies"),
        ],
        readonly=True,
    )
    subscription_id = fields.Many2one(
        "sale.subscription", string="Contract", readonly=True
    )
    template_id = fields.Many2one(
        "sale.subscription.template", string="Contract Template", readonly=True
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    date = fields.Date(readonly=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        readonly=True,
        groups="account.group_account_invoice",
    )
    request_id = fields.Many2one(
        "maintenance.request",
        string="Job",
        readonly=True,
        groups="serial_service.group_service_technician",
    )
    line_type = fields.Selection(
        selection=LINE_TYPES,
        readonly=True,
    )
    revenue = fields.Monetary(string="Invoiced", readonly=True)
    cost = fields.Monetary(string="Covered Cost", readonly=True)
    margin = fields.Monetary(readonly=True)
    margin_rate = fields.Float(
        string="Margin (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Margin per 100 invoiced (empty when nothing was invoiced).",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %(table)s AS (
            WITH invoice_lines AS (
                SELECT aml.id, aml.move_id, am.invoice_date AS date,
                       -aml.balance AS revenue,
                       COALESCE(
                           am.subscription_id,
                           (
                               SELECT MIN(so.order_subscription_id)
                                 FROM sale_order_line_invoice_rel rel
                                 JOIN sale_order_line sol ON sol.id = rel.order_line_id
                                 JOIN sale_order so ON so.id = sol.order_id
                                WHERE rel.invoice_line_id = aml.id
                           )
                       ) AS subscription_id
                  FROM account_move_line aml
                  JOIN account_move am ON am.id = aml.move_id
                 WHERE am.state = 'posted'
                   AND am.move_type IN ('out_invoice', 'out_refund')
                   AND aml.display_type = 'product'
            )
            SELECT 3 * l.id AS id,
                   'invoice' AS row_type,
                   s.id AS subscription_id, s.template_id, s.partner_id,
                   s.company_id, company.currency_id,
                   l.date, l.move_id,
                   NULL::integer AS request_id,
                   NULL::varchar AS line_type,
                   l.revenue,
                   0 AS cost,
                   l.revenue AS margin,
                   NULL::float AS margin_rate
              FROM invoice_lines l
              JOIN sale_subscription s ON s.id = l.subscription_id
              JOIN res_company company ON company.id = s.company_id
            UNION ALL
            SELECT 3 * sl.id + 1 AS id,
                   'cost' AS row_type,
                   s.id AS subscription_id, s.template_id, s.partner_id,
                   s.company_id, company.currency_id,
                   COALESCE(r.close_date, r.request_date) AS date,
                   NULL::integer AS move_id,
                   r.id AS request_id,
                   sl.line_type,
                   0 AS revenue,
                   c.cost,
                   -c.cost AS margin,
                   NULL::float AS margin_rate
              FROM serial_service_line sl
              JOIN maintenance_request r ON r.id = sl.request_id
              JOIN maintenance_stage st ON st.id = r.stage_id
              JOIN sale_subscription s ON s.id = sl.subscription_id
              JOIN res_company company ON company.id = s.company_id
              JOIN product_product part ON part.id = sl.product_id
              CROSS JOIN LATERAL (
                  SELECT sl.quantity
                             * COALESCE(part.standard_price -> sl.company_id::text,
                                        to_jsonb(0.0))::float
                             * COALESCE(sl.coverage_percent, 0) / 100.0 AS cost
              ) c
             WHERE sl.coverage_source = 'contract'
               AND st.done
               AND NOT COALESCE(r.archive, FALSE)
            UNION ALL
            SELECT 3 * sol.id + 2 AS id,
                   'supply' AS row_type,
                   s.id AS subscription_id, s.template_id, s.partner_id,
                   s.company_id, company.currency_id,
                   COALESCE(so.effective_date, so.date_order)::date AS date,
                   NULL::integer AS move_id,
                   NULL::integer AS request_id,
                   'consumable' AS line_type,
                   0 AS revenue,
                   c.cost,
                   -c.cost AS margin,
                   NULL::float AS margin_rate
              FROM sale_order_line sol
              JOIN sale_order so ON so.id = sol.order_id
              JOIN sale_subscription s ON s.id = sol.supply_subscription_id
              JOIN res_company company ON company.id = s.company_id
              JOIN product_product supply ON supply.id = sol.product_id
              CROSS JOIN LATERAL (
                  SELECT sol.qty_delivered
                             * COALESCE(supply.standard_price -> sol.company_id::text,
                                        to_jsonb(0.0))::float
                             * COALESCE(sol.supply_coverage_percent, 0) / 100.0 AS cost
              ) c
             WHERE sol.supply_coverage_source = 'contract'
               AND sol.qty_delivered > 0
               AND so.state = 'sale'
            )
                """,
                table=SQL.identifier(self._table),
            )
        )

    def _read_group_select(self, aggregate_spec, query):
        """Margin over invoiced of the whole group; none when nothing (or only
        credit notes) was invoiced."""
        if aggregate_spec.split(":")[0] != "margin_rate":
            return super()._read_group_select(aggregate_spec, query)
        return SQL(
            "CASE WHEN SUM(%(revenue)s) > 0"
            " THEN 100.0 * SUM(%(margin)s) / SUM(%(revenue)s) END",
            margin=self._field_to_sql(self._table, "margin", query),
            revenue=self._field_to_sql(self._table, "revenue", query),
        )

    @api.model
    def _get_kpi_sheets(self, date_from=None, date_to=None):
        """Profitability per contract and per contract template over the
        period."""
        domain = period_domain("date", date_from, date_to)
        aggregates = ["revenue:sum", "cost:sum", "margin:sum", "margin_rate:avg"]
        per_contract = self._read_group(
            domain, ["subscription_id"], aggregates, order="subscription_id"
        )
        per_template = self._read_group(
            domain,
            ["template_id"],
            ["subscription_id:count_distinct", *aggregates],
            order="template_id",
        )
        amounts = [
            self.env._("Invoiced"),
            self.env._("Covered Cost"),
            self.env._("Margin"),
            self.env._("Margin (%)"),
        ]
        return [
            {
                "name": self.env._("Contract profitability"),
                "headers": [
                    self.env._("Contract"),
                    self.env._("Contract Template"),
                    self.env._("Customer"),
                    *amounts,
                ],
                "rows": [
                    [
                        contract.display_name,
                        contract.template_id.display_name or "",
                        contract.partner_id.display_name or "",
                        revenue,
                        cost,
                        margin,
                        rate,
                    ]
                    for contract, revenue, cost, margin, rate in per_contract
                ],
            },
            {
                "name": self.env._("Template profitability"),
                "headers": [
                    self.env._("Contract Template"),
                    self.env._("Contracts"),
                    *amounts,
                ],
                "rows": [
                    [
                        template.display_name or self.env._("No template"),
                        contracts,
                        revenue,
                        cost,
                        margin,
                        rate,
                    ]
                    for template, contracts, revenue, cost, margin, rate in per_template
                ],
            },
        ]
