from odoo import api, fields, models, tools
from odoo.tools import SQL

from .kpi_period import period_domain


class SerialMeterVolumeReport(models.Model):
    """Meter volumes: the usage of each reading (its delta), to be summed per
    meter and month, product, customer..."""

    _name = "serial.meter.volume.report"
    _description = "Meter Volume Report"
    _auto = False
    _rec_name = "meter_type_id"
    _order = "reading_date desc, id"

    reading_id = fields.Many2one(
        "serial.meter.reading", string="Meter Reading", readonly=True
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
    meter_type_id = fields.Many2one("serial.meter.type", string="Meter", readonly=True)
    customer_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    reading_date = fields.Datetime(readonly=True)
    source = fields.Selection(
        selection=[
            ("technician", "Technician"),
            ("customer", "Customer"),
            ("import", "Import"),
            ("device", "Device"),
            ("estimate", "Estimate"),
        ],
        readonly=True,
    )
    reading_count = fields.Integer(string="Readings", readonly=True)
    volume = fields.Float(
        readonly=True, digits=(16, 2), help="Usage since the previous reading."
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %(table)s AS (
            SELECT r.id,
                   r.id AS reading_id,
                   r.lot_id, lot.product_id, pp.product_tmpl_id,
                   r.meter_type_id, lot.customer_id, lot.company_id,
                   r.reading_date, r.source,
                   1 AS reading_count,
                   COALESCE(r.delta, 0) AS volume
              FROM serial_meter_reading r
              JOIN stock_lot lot ON lot.id = r.lot_id
              JOIN product_product pp ON pp.id = lot.product_id
            )
                """,
                table=SQL.identifier(self._table),
            )
        )

    @api.model
    def _get_kpi_sheets(self, date_from=None, date_to=None):
        """Meter volumes per month and meter over the period."""
        groups = self._read_group(
            period_domain("reading_date", date_from, date_to, is_datetime=True),
            ["reading_date:month", "meter_type_id"],
            ["volume:sum", "reading_count:sum"],
            order="reading_date:month, meter_type_id",
        )
        return [
            {
                "name": self.env._("Meter volumes"),
                "headers": [
                    self.env._("Month"),
                    self.env._("Meter"),
                    self.env._("Volume"),
                    self.env._("Readings"),
                ],
                "rows": [
                    [month.strftime("%Y-%m"), meter.display_name, volume, count]
                    for month, meter, volume, count in groups
                ],
            }
        ]
