import io

from odoo import api, models

from .xlsx_safe import new_workbook


class StockLot(models.Model):
    """The serial overview as an xlsx workbook (the Serial Overview list's
    Export to Excel button and the list's server action)."""

    _inherit = "stock.lot"

    # --- overview xlsx export: action ---
    def action_export_overview_xlsx(self):
        """Download the serial overview of the selected serials as xlsx."""
        attachment = self.env["ir.attachment"].create(
            {
                "name": "serial_overview.xlsx",
                "raw": self._export_overview_xlsx(),
                "mimetype": "application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    # --- overview xlsx export: workbook ---
    @api.model
    def _get_overview_columns(self):
        return [
            self.env._("Serial Number"),
            self.env._("Item Code"),
            self.env._("Item Name"),
            self.env._("Location"),
            self.env._("Customer"),
            self.env._("Purchase Order"),
            self.env._("Sale Order"),
            self.env._("Invoice"),
        ]

    def _export_overview_xlsx(self):
        """The serial overview as the bytes of an xlsx workbook: one row per
        serial, each document a hyperlink to its record in Odoo."""
        base_url = self.env["stock.lot"].get_base_url()
        output = io.BytesIO()
        workbook = new_workbook(output)
        sheet = workbook.add_worksheet(self.env._("Serials"))
        bold = workbook.add_format({"bold": True})
        for col, title in enumerate(self._get_overview_columns()):
            sheet.write(0, col, title, bold)
        sheet.freeze_panes(1, 0)

        def write_link(row, col, record):
            if record:
                url = f"{base_url}/odoo/{record._name}/{record.id}"
                sheet.write_url(row, col, url, string=record.display_name)

        for row, lot in enumerate(self, start=1):
            write_link(row, 0, lot)
            sheet.write(row, 1, lot.product_id.default_code or "")
            sheet.write(row, 2, lot.product_id.name)
            sheet.write(row, 3, lot.location_id.display_name or "")
            write_link(row, 4, lot.customer_id)
            write_link(row, 5, lot.last_purchase_id)
            write_link(row, 6, lot.last_sale_id)
            write_link(row, 7, lot.last_invoice_id)
        sheet.set_column(0, 7, 22)
        workbook.close()
        return output.getvalue()
