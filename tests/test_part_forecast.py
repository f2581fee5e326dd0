from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestPartForecast(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.toner = cls._make_product(
            "Forecast Toner", tracking="none", service_line_type="consumable"
        )
        cls.env["serial.van.setup"].create(
            {
                "warehouse_id": cls.warehouse.id,
                "user_ids": [Command.set(cls.technician.ids)],
            }
        )._create_vans()
        cls.van = cls.technician.van_location_id
        cls.env["stock.quant"]._update_available_quantity(
            cls.toner, cls.stock_location, 40
        )
        cls.pages = cls.env["serial.meter.type"].create(
            {"name": "Forecast pages", "code": "FCPAGES"}
        )
        cls.product_part.expected_life_months = 24
        cls.drum = cls._make_product(
            "Forecast Drum",
            service_line_type="part",
            expected_life_usage=9000,
            expected_life_meter_type_id=cls.pages.id,
        )

    @classmethod
    def _move(cls, product, source, dest, qty):
        move = cls.env["stock.move"].create(
            {
                "name": "forecast",
                "product_id": product.id,
                "product_uom": product.uom_id.id,
                "product_uom_qty": qty,
                "location_id": source.id,
                "location_dest_id": dest.id,
            }
        )
        move._action_confirm()
        move._action_assign()
        move.picked = True
        move._action_done()
        return move

    @staticmethod
    def _rows(rows, product):
        return {row.location_id: row for row in rows if row.product_id == product}

    def test_consumption_and_days_of_cover(self):
        customers = self.customer_location
        with freeze_time("2025-11-10 10:00:00"):
            self._move(self.toner, self.stock_location, self.van, 13)
            self._move(self.toner, self.van, customers, 2)  # before the 90 days
        with freeze_time("2026-02-01 10:00:00"):
            self._move(self.toner, self.van, customers, 9)
            self._move(self.toner, self.stock_location, customers, 18)
        with freeze_time("2026-03-02 10:00:00"):
            rows = self._rows(
                self.env["serial.part.forecast"]._generate_forecast(), self.toner
            )
        self.assertEqual(set(rows), {self.stock_location, self.van})
        van, depot = rows[self.van], rows[self.stock_location]
        self.assertEqual(van.location_kind, "van")
        self.assertEqual(depot.location_kind, "depot")
        # van: 13 in, 2 + 9 out; 9 within the 90 days: 0.1 a day, 2 left
        self.assertEqual(
            (van.on_hand_qty, van.consumed_qty, van.days_of_cover), (2.0, 9.0, 20.0)
        )
        self.assertAlmostEqual(van.daily_consumption, 0.1)
        # depot: 40 - 13 to the van (not consumed) - 18 delivered: 0.2 a day
        self.assertEqual(
            (depot.on_hand_qty, depot.consumed_qty, depot.days_of_cover),
            (9.0, 18.0, 45.0),
        )
        self.assertFalse(depot.is_suggested)

    def test_end_of_life_suggestion(self):
        old, young = self._make_lots(self.product_part, ["FC-OLD", "FC-YOUNG"])
        unit_busy, unit_idle = self._make_lots(
            self.product_unit, ["FC-UNIT-1", "FC-UNIT-2"]
        )
        worn, fresh = self._make_lots(self.drum, ["FC-DRUM-1", "FC-DRUM-2"])
        with freeze_time("2024-01-10 10:00:00"):
            self._receive(old | young | unit_busy | unit_idle | worn | fresh)
            self._deliver(old | young | unit_busy | unit_idle | worn | fresh)
        old.write({"delivery_date": date(2024, 4, 15)})  # 24 months: 2026-04-15
        young.write({"delivery_date": date(2025, 6, 1)})  # 24 months: 2027-06-01
        worn.write(
            {"installation_date": date(2025, 11, 30), "parent_lot_id": unit_busy.id}
        )
        fresh.write(
            {"installation_date": date(2025, 11, 30), "parent_lot_id": unit_idle.id}
        )
        Reading = self.env["serial.meter.reading"]
        with freeze_time("2026-03-02 10:00:00"):
            for unit, values in (
                (unit_busy, (0, 3000, 5000)),
                (unit_idle, (0, 300, 500)),
            ):
                Reading.create(
                    [
                        {
                            "lot_id": unit.id,
                            "meter_type_id": self.pages.id,
                            "reading_date": when,
                            "value": value,
                        }
                        for when, value in zip(
                            (
                                datetime(2025, 11, 20),
                                datetime(2026, 1, 1),
                                datetime(2026, 3, 1),
                            ),
                            values,
                            strict=True,
                        )
                    ]
                )
            # one drum in the van: the suggestion is what it does not cover
            self.env["stock.quant"]._update_available_quantity(self.drum, self.van, 1)
            rows = self.env["serial.part.forecast"]._generate_forecast()
        fuser_rows = self._rows(rows, self.product_part)
        drum_rows = self._rows(rows, self.drum)
        # the old fuser reaches 24 months on 2026-04-15, within 90 days
        fuser = fuser_rows[self.stock_location]
        self.assertEqual((fuser.eol_unit_count, fuser.suggested_qty), (1, 1.0))
        self.assertTrue(fuser.is_suggested)
        # the busy unit's drum: 5000 pages in 92 days, 4891 more in the next 90,
        # over its 9000; the idle one's 500 pages are far from it
        drum = drum_rows[self.stock_location]
        self.assertEqual(drum.eol_unit_count, 1)
        self.assertEqual(drum.suggested_qty, 0.0, "the van's drum covers it")
        self.assertFalse(drum.is_suggested)
        self.assertEqual(drum_rows[self.van].eol_unit_count, 0)

    def test_manager_opens_the_forecast(self):
        self._move(self.toner, self.stock_location, self.customer_location, 9)
        action = (
            self.env["serial.part.forecast"]
            .with_user(self.manager)
            .action_open_forecast()
        )
        rows = self.env["serial.part.forecast"].search(action["domain"])
        toner = rows.filtered(lambda row: row.product_id == self.toner)
        self.assertEqual(toner.location_id, self.stock_location)
        self.assertEqual((toner.on_hand_qty, toner.consumed_qty), (31.0, 9.0))
        self.assertAlmostEqual(toner.days_of_cover, 310.0)
