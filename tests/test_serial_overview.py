import base64
import io
import shutil

import openpyxl

from odoo.tests import HttpCase, tagged
from odoo.tools.pdf import PdfFileReader

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestSerialOverview(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lots = cls._make_lots(cls.product_unit, ["OVW-1", "OVW-2"])
        cls.product_unit.default_code = "CPY-TEST"
        cls._receive(cls.lots)
        cls._deliver(cls.lots[0])

    def test_overview_xlsx_has_the_right_rows(self):
        content = self.lots._export_overview_xlsx()
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        sheet = workbook.active
        rows = list(sheet.iter_rows(values_only=True))
        self.assertEqual(
            rows[0],
            (
                "Serial Number",
                "Item Code",
                "Item Name",
                "Location",
                "Customer",
                "Purchase Order",
                "Sale Order",
                "Invoice",
            ),
        )
        self.assertEqual(len(rows), 3)
        by_serial = {row[0]: row for row in rows[1:]}
        delivered, in_stock = by_serial["OVW-1"], by_serial["OVW-2"]
        self.assertEqual(delivered[1], "CPY-TEST")
        self.assertEqual(delivered[2], "Test Copier")
        self.assertEqual(delivered[3], self.customer_location.display_name)
        self.assertEqual(delivered[4], "Test Customer")
        self.assertEqual(in_stock[3], self.stock_location.display_name)
        self.assertIsNone(in_stock[4])
        # the serial and the customer are links to their records
        link = (
            sheet.cell(row=2, column=1).hyperlink
            or sheet.cell(row=3, column=1).hyperlink
        )
        self.assertIn("/odoo/stock.lot/", link.target)

    def test_overview_action_downloads_an_attachment(self):
        action = self.lots.action_export_overview_xlsx()
        self.assertEqual(action["type"], "ir.actions.act_url")
        attachment_id = int(action["url"].split("/web/content/")[1].split("?")[0])
        attachment = self.env["ir.attachment"].browse(attachment_id)
        workbook = openpyxl.load_workbook(
            io.BytesIO(base64.b64decode(attachment.datas))
        )
        self.assertEqual(workbook.active.max_row, 3)

    def test_label_barcode_is_code128_svg(self):
        svg = self.lots[0]._get_label_barcode_svg()
        self.assertTrue(svg.startswith("<svg"))
        self.assertIn("OVW-1", svg)

    def test_label_report_renders(self):
        report = self.env.ref("serial_service.stock_lot_label_report")
        html, _type = report._render_qweb_html(report.report_name, self.lots.ids)
        html = html.decode()
        self.assertEqual(
            html.count("o_serial_label_barcode"), 2, "one label per serial"
        )
        self.assertIn("OVW-2", html)
        self.assertIn("data:image/svg+xml;base64,", html)


@tagged("post_install", "-at_install")
class TestSerialLabelPdf(HttpCase):
    """wkhtmltopdf fetches the report's assets from Odoo's HTTP server, which
    shares the test transaction only in an HttpCase."""

    def test_label_pdf_renders(self):
        if not shutil.which("wkhtmltopdf"):
            self.fail("wkhtmltopdf is needed to print labels: run the set-up command")
        product = self.env["product.product"].create(
            {"name": "Label Copier", "is_storable": True, "tracking": "serial"}
        )
        lots = self.env["stock.lot"].create(
            [{"name": f"LBL-{i}", "product_id": product.id} for i in range(3)]
        )
        report = self.env.ref("serial_service.stock_lot_label_report")
        pdf, report_type = report.with_context(
            force_report_rendering=True
        )._render_qweb_pdf(report.report_name, lots.ids)
        self.assertEqual(report_type, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertEqual(len(PdfFileReader(io.BytesIO(pdf)).pages), 3, "one per serial")
