from odoo import Command
from odoo.tests import new_test_user

from .common import SerialServiceCase


class DispatchCase(SerialServiceCase):
    """Technicians with skills, zones, vans and a UTC working week (Monday to
    Friday, 8-12 and 13-17), and a copier (a sub-category of the units) at a
    Bristol site."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls.env["resource.calendar"].create(
            {"name": "Dispatch 40h", "tz": "UTC", "company_id": cls.company.id}
        )
        cls.categ_copiers = cls.env["product.category"].create(
            {"name": "Copiers", "parent_id": cls.categ_equipment.id}
        )
        cls.copier = cls._make_product(
            "Dispatch Copier", categ=cls.categ_copiers, serial_service_managed=True
        )
        cls.fuser = cls._make_product(
            "Dispatch Fuser", tracking="none", service_line_type="part"
        )
        cls.site = cls.env["res.partner"].create(
            {
                "name": "Bristol Site",
                "type": "delivery",
                "parent_id": cls.customer.id,
                "zip": "BS1 4DJ",
            }
        )
        cls.lot = cls._make_lots(cls.copier, ["DISP-1"])
        cls.lot.write({"customer_id": cls.customer.id, "site_id": cls.site.id})
        # Ann: units (the copiers' parent category), Bristol and Bath
        cls.ann = cls._make_technician("disp_ann", [cls.categ_equipment], "bs, BA")
        # Ben: units, anywhere
        cls.ben = cls._make_technician("disp_ben", [cls.categ_equipment], "")
        # Carl: parts only, anywhere: not qualified for a copier
        cls.carl = cls._make_technician("disp_carl", [cls.categ_parts], "")
        # Dora: units, York only: not around Bristol
        cls.dora = cls._make_technician("disp_dora", [cls.categ_equipment], "YO")
        cls.env["serial.van.setup"].create(
            {
                "warehouse_id": cls.warehouse.id,
                "user_ids": [Command.set((cls.ann | cls.ben).ids)],
            }
        )._create_vans()

    @classmethod
    def _make_technician(cls, login, categs, zips):
        user = new_test_user(
            cls.env,
            login=login,
            name=login.replace("_", " ").title(),
            groups="serial_service.group_service_technician",
        )
        user.write(
            {
                "service_skill_categ_ids": [Command.set([c.id for c in categs])],
                "service_zip_prefixes": zips,
            }
        )
        cls.env["resource.resource"].create(
            {
                "name": user.name,
                "user_id": user.id,
                "calendar_id": cls.calendar.id,
                "tz": "UTC",
                "company_id": cls.company.id,
            }
        )
        return user

    def _make_job(self, parts=None, **vals):
        return self.env["maintenance.request"].create(
            {
                "name": "Dispatch job",
                "lot_id": self.lot.id,
                "duration": 2.0,
                "service_line_ids": [
                    Command.create({"product_id": product.id, "quantity": qty})
                    for product, qty in (parts or {}).items()
                ],
                **vals,
            }
        )

    def _ranked(self, job):
        return [s["user_id"] for s in job._get_technician_suggestions()]
