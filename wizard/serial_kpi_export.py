import base64
import io

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..report.xlsx_safe import new_workbook

# the reporting models, in the order of their sheets
KPI_REPORTS = [
    "serial.failure.report",
    "serial.usage.failure.report",
    "serial.job.report",
    "serial.warranty.cost.report",
    "serial.claim.report",
    "serial.contract.profit.report",
    "serial.meter.volume.report",
]


class SerialKpiExport(models.TransientModel):
    _name = "serial.kpi.export"
    _description = "Service KPI Export"

    date_from = fields.Date(
        string="From", help="Leave empty to count from the first record."
    )
    date_to = fields.Date(
        string="To",
        required=True,
        default=fields.Date.context_today,
        help="Units still in the field count up to this day.",
    )
    file_data = fields.Binary(string="File", readonly=True, attachment=False)
    file_name = fields.Char(readonly=True)

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for export in self:
            if export.date_from and export.date_from > export.date_to:
                raise ValidationError(
                    self.env._(
                        "The period starts on %(start)s, after its end on %(end)s.",
                        start=export.date_from,
                        end=export.date_to,
                    )
                )

    def action_export(self):
        """Build the workbook and download it."""
        self.ensure_one()
        self.write(
            {
                "file_data": base64.b64encode(self._export_xlsx()),
                "file_name": f"service_kpis_{self.date_to}.xlsx",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content?model={self._name}&id={self.id}&field=file_data"
            "&filename_field=file_name&download=true",
            "target": "self",
        }

    def _get_kpi_sheets(self):
        """The sheets of every KPI report the user may read, for the period."""
        self.ensure_one()
        sheets = []
        for model in KPI_REPORTS:
            report = self.env[model]
            if report.has_access("read"):
                sheets += report._get_kpi_sheets(self.date_from, self.date_to)
        if not sheets:
            raise UserError(self.env._("You may not read any of the service KPIs."))
        return sheets

    def _export_xlsx(self):
        """The KPIs as the bytes of an xlsx workbook: one sheet per KPI, a
        header row, then one row per product, serial, technician..."""
        sheets = self._get_kpi_sheets()
        output = io.BytesIO()
        workbook = new_workbook(output)
        bold = workbook.add_format({"bold": True})
        number = workbook.add_format({"num_format": "#,##0.00"})
        for sheet_data in sheets:
            sheet = workbook.add_worksheet(sheet_data["name"][:31])
            for col, title in enumerate(sheet_data["headers"]):
                sheet.write(0, col, title, bold)
            for row, values in enumerate(sheet_data["rows"], start=1):
                for col, value in enumerate(values):
                    if isinstance(value, float):
                        sheet.write_number(row, col, value, number)
                    elif value is None or value is False:
                        sheet.write_blank(row, col, None)
                    else:
                        sheet.write(row, col, value)
            sheet.freeze_panes(1, 0)
            sheet.set_column(0, len(sheet_data["headers"]) - 1, 20)
        workbook.close()
        return output.getvalue()
