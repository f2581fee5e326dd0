from odoo import models


class StockLot(models.Model):
    """What a portal customer may read of their own serials: what the portal
    shows (the list, the serial's page) and what its searches and sorts use;
    never the note, the supplier, stock quantities and values, contracts or
    purchase and sale documents."""

    _name = "stock.lot"
    _inherit = ["stock.lot", "serial.portal.readable.mixin"]

    # --- portal: readable fields ---
    _portal_readable_fields = (
        "name",
        "product_id",
        "company_id",
        "customer_id",
        "site_id",
        "delivery_date",
        "installation_date",
        "warranty_start_date",
        "warranty_end_date",
        "warranty_state",
    )
