from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import SerialServiceCase


@freeze_time("2026-03-02 10:00:00")
@tagged("post_install", "-at_install")
class TestLoadList(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.technician.tz = "Europe/Brussels"
        cls.toner, cls.belt, cls.drum = (
            cls._make_product(name, tracking="none", service_line_type="consumable")
            for name in ("Load Toner", "Load Belt", "Load Drum")
        )
        cls.labour = cls.env["product.product"].create(
            {"name": "Load Labour", "type": "service", "service_line_type": "labour"}
        )
        cls.env["serial.van.setup"].create(
            {
                "warehouse_id": cls.warehouse.id,
                "user_ids": [Command.set((cls.technician | cls.manager).ids)],
            }
        )._create_vans()
        cls.van = cls.technician.van_location_id
        Quant = cls.env["stock.quant"]
        Quant._update_available_quantity(cls.toner, cls.van, 1)
        Quant._update_available_quantity(cls.belt, cls.van, 5)
        for product in (cls.toner, cls.belt, cls.drum):
            Quant._update_available_quantity(product, cls.stock_location, 20)

        def job(user, when, lines):
            return cls.env["maintenance.request"].create(
                {
                    "name": f"Load job {when}",
                    "user_id": user.id,
                    "schedule_date": when,
                    "service_line_ids": [
                        Command.create({"product_id": p.id, "quantity": q})
                        for p, q in lines.items()
                    ],
                }
            )

        # 3 March in Brussels (UTC+1) runs from 2 March 23:00 to 3 March 23:00 UTC
        cls.job_morning = job(
            cls.technician,
            datetime(2026, 3, 2, 23, 30),
            {cls.toner: 2, cls.belt: 1, cls.labour: 1},
        )
        cls.job_afternoon = job(
            cls.technician, datetime(2026, 3, 3, 13, 0), {cls.toner: 1, cls.drum: 2}
        )
        job(cls.technician, datetime(2026, 3, 3, 23, 30), {cls.toner: 5})  # 4 March
        job(cls.technician, datetime(2026, 3, 2, 22, 30), {cls.drum: 5})  # 2 March
        job(cls.manager, datetime(2026, 3, 3, 9, 0), {cls.drum: 3})  # someone else
        # one drum is already on its way to the van
        transfer = cls.env["stock.picking"].create(
            {
                "picking_type_id": cls.warehouse.van_resupply_type_id.id,
                "location_id": cls.stock_location.id,
                "location_dest_id": cls.van.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": "drum",
                            "product_id": cls.drum.id,
                            "product_uom_qty": 1,
                            "product_uom": cls.drum.uom_id.id,
                            "location_id": cls.stock_location.id,
                            "location_dest_id": cls.van.id,
                        }
                    )
                ],
            }
        )
        transfer.action_confirm()

    def _quantities(self, load_list):
        return {
            line.product_id: (
                line.needed_qty,
                line.van_qty,
                line.incoming_qty,
                line.to_load_qty,
            )
            for line in load_list.line_ids
        }

    def test_load_list_of_tomorrow(self):
        load_list = (
            self.env["serial.van.load.list"].with_user(self.technician).create({})
        )
        self.assertEqual(load_list.user_id, self.technician)
        self.assertEqual(load_list.date, date(2026, 3, 3))
        self.assertEqual(load_list.request_ids, self.job_morning | self.job_afternoon)
        # needed, in the van, on the way, to load
        self.assertEqual(
            self._quantities(load_list),
            {
                self.toner: (3.0, 1.0, 0.0, 2.0),
                self.belt: (1.0, 5.0, 0.0, 0.0),
                self.drum: (2.0, 0.0, 1.0, 1.0),
            },
        )
        toner_line = load_list.line_ids.filtered(
            lambda line: line.product_id == self.toner
        )
        self.assertEqual(toner_line.request_ids, self.job_morning | self.job_afternoon)

        load_list.action_create_transfers()
        picking = load_list.picking_ids
        self.assertEqual(len(picking), 1)
        self.assertEqual(picking.picking_type_id, self.warehouse.van_resupply_type_id)
        self.assertEqual(picking.location_id, self.stock_location)
        self.assertEqual(picking.location_dest_id, self.van)
        self.assertEqual(
            {m.product_id: m.product_uom_qty for m in picking.move_ids},
            {self.toner: 2.0, self.drum: 1.0},
        )
        # the list now sees the transfer on its way: nothing more to load
        self.assertEqual(
            {line.product_id: line.to_load_qty for line in load_list.line_ids},
            {self.toner: 0.0, self.belt: 0.0, self.drum: 0.0},
        )
        with self.assertRaises(UserError) as cm:
            load_list.action_create_transfers()
        self.assertIn("Nothing to load", str(cm.exception))
        self.assertEqual(load_list.picking_ids, picking)

    def test_technician_sees_only_own_load_list(self):
        LoadList = self.env["serial.van.load.list"]
        with self.assertRaises(AccessError):
            LoadList.with_user(self.technician).create({"user_id": self.manager.id})
        for_manager = LoadList.with_user(self.manager).create(
            {"user_id": self.manager.id}
        )
        self.assertEqual(
            {line.product_id: line.to_load_qty for line in for_manager.line_ids},
            {self.drum: 3.0},
        )
        with self.assertRaises(AccessError):
            for_manager.with_user(self.technician).read(["line_ids"])
        # a manager prepares a technician's list too
        for_technician = LoadList.with_user(self.manager).create(
            {"user_id": self.technician.id}
        )
        self.assertEqual(len(for_technician.line_ids), 3)

    def test_one_query_per_kind_of_data(self):
        load_list = self.env["serial.van.load.list"].create(
            {"user_id": self.technician.id}
        )
        load_list.invalidate_recordset()
        # the technician's van, the jobs, their parts, the van's stock and the
        # transfers on their way: the same for two jobs as for two hundred
        with self.assertQueryCount(__system__=5):
            load_list._get_load_lines()
