import base64
import io

from markupsafe import Markup

from odoo import models


class StockLot(models.Model):
    """Barcodes of the serial label report (stock_lot_label_report.xml)."""

    _inherit = "stock.lot"

    # --- labels: Code 128 barcode ---
    def _get_label_barcode_svg(self):
        """Code 128 of the serial number, as inline SVG for the label report."""
        self.ensure_one()
        from barcode import Code128
        from barcode.writer import SVGWriter

        stream = io.BytesIO()
        Code128(self.name, writer=SVGWriter()).write(
            stream,
            options={"module_height": 8.0, "font_size": 6, "text_distance": 3.0},
        )
        svg = stream.getvalue().decode()
        # drop the XML prolog and doctype: the SVG is embedded in HTML
        return Markup(svg[svg.index("<svg") :])

    def _get_label_barcode_data_uri(self):
        self.ensure_one()
        svg = self._get_label_barcode_svg().encode()
        return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
