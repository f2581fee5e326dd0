import base64
import io

from odoo import models


class StockLot(models.Model):
    _inherit = "stock.lot"

    # --- label: a QR code of the unit's portal page ---
    def _get_portal_page_url(self):
        self.ensure_one()
        return f"{self.get_base_url()}/my/serials/{self.id}"

    def _get_label_qr_svg(self):
        """QR code of the serial's portal page (where the customer requests
        service), as SVG: drawn in Python, as the Code 128 of the label."""
        self.ensure_one()
        import qrcode
        import qrcode.image.svg

        image = qrcode.make(
            self._get_portal_page_url(),
            image_factory=qrcode.image.svg.SvgPathImage,
            border=0,
        )
        stream = io.BytesIO()
        image.save(stream)
        return stream.getvalue()

    def _get_label_qr_data_uri(self):
        self.ensure_one()
        svg = self._get_label_qr_svg()
        return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
