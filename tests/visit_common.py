"""A visit to a customer: a unit delivered to its site, a contract covering
labour, a technician with a fuser in the van, and a job on the unit."""

from datetime import timedelta

from odoo import Command, fields

from .common import SerialServiceCase

# a 1x1 PNG, as the signature widget and a phone's camera send
PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


class VisitCase(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["stock.lot"])
        cls.customer.email = "customer@example.com"
        cls.customer_site.write(
            {"street": "1 Harbour Road", "city": "Portsmouth", "zip": "PO1 1AA"}
        )
        cls.product_part.list_price = 300
        cls.labour = cls.env["product.product"].create(
            {
                "name": "Visit Labour",
                "type": "service",
                "service_line_type": "labour",
                "list_price": 60,
                "uom_id": cls.env.ref("uom.product_uom_hour").id,
                "uom_po_id": cls.env.ref("uom.product_uom_hour").id,
            }
        )
        cls.toner = cls._make_product(
            "Visit Toner",
            tracking="none",
            service_line_type="consumable",
            list_price=80,
        )
        cls.company.write(
            {
                "service_labour_product_id": cls.labour.id,
                "service_timer_rounding": 15,
                "service_quote_threshold": 0.0,
                "service_report_send": True,
            }
        )
        cls.van = cls.env["stock.location"].create(
            {
                "name": "Visit Van",
                "usage": "internal",
                "location_id": cls.warehouse.view_location_id.id,
            }
        )
        cls.technician.van_location_id = cls.van
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Visit pages", "code": "VISITPG"}
        )
        cls.unit = cls._make_lots(cls.product_unit, ["VISIT-UNIT"])
        cls.fuser = cls._make_lots(cls.product_part, ["VISIT-FUSER-NEW"])
        cls._receive(cls.unit)
        cls._deliver(cls.unit, partner=cls.customer_site)
        cls.unit.write(
            {"customer_id": cls.customer.id, "site_id": cls.customer_site.id}
        )
        Quant = cls.env["stock.quant"]
        Quant._update_available_quantity(cls.product_part, cls.van, 1, lot_id=cls.fuser)
        Quant._update_available_quantity(cls.toner, cls.van, 5)
        template = cls.env["sale.subscription.template"].create({"name": "Visit Care"})
        cls.contract = cls._create_contract(
            cls.customer,
            cls.unit,
            template,
            rules=[
                {
                    "name": "Labour included",
                    "line_type": "labour",
                    "coverage_percent": 100,
                }
            ],
            date_start=cls.today - timedelta(days=10),
            response_hours=4,
            resolution_hours=24,
        )

    def _job(self, lines=None, user=None, **vals):
        return self.env["maintenance.request"].create(
            {
                "name": "Copier jams",
                "lot_id": self.unit.id,
                "user_id": (user or self.technician).id,
                "service_line_ids": [Command.create(line) for line in lines or []],
                **vals,
            }
        )

    def _visit_job(self):
        """The fuser (chargeable, 300) and an hour of labour (covered)."""
        return self._job(
            [
                {"product_id": self.product_part.id, "lot_id": self.fuser.id},
                {"product_id": self.labour.id, "quantity": 1},
            ]
        )

    def _on_hand(self, product, location, lot=None):
        return self.env["stock.quant"]._get_available_quantity(
            product, location, lot_id=lot, strict=True
        )
