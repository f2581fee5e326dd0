from datetime import date, datetime, timedelta

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestMeterReadings(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pages = cls.env["serial.meter.type"].create(
            {"name": "Pages (test)", "code": "TPAGES", "rollover_value": 99999}
        )
        cls.hours = cls.env["serial.meter.type"].create(
            {"name": "Hours (test)", "code": "THOURS"}
        )
        cls.lot = cls._make_lots(cls.product_unit, ["MTR-1"])
        cls.day0 = datetime(2026, 1, 1, 12, 0)

    def _read(self, days, value, meter=None, **vals):
        return self.env["serial.meter.reading"].create(
            {
                "lot_id": self.lot.id,
                "meter_type_id": (meter or self.pages).id,
                "reading_date": self.day0 + timedelta(days=days),
                "value": value,
                **vals,
            }
        )

    def test_baseline_ordinary_reset_and_rollover(self):
        baseline = self._read(0, 1000)
        second = self._read(10, 1500)
        self.assertEqual(baseline.delta, 0, "the first reading is the baseline")
        self.assertEqual(second.delta, 500)
        reset = self._read(20, 30, is_reset=True)
        self.assertEqual(reset.delta, 0, "a reset is a new baseline")
        after_reset = self._read(30, 130)
        self.assertEqual(after_reset.delta, 100)
        # the hours meter of the same serial has its own chain
        self.assertEqual(self._read(30, 7, meter=self.hours).delta, 0)
        # rollover: previous in the top 10 % of 99999
        high = self._read(40, 95000)
        wrapped = self._read(50, 200)
        self.assertEqual(high.delta, 95000 - 130)
        self.assertEqual(wrapped.delta, 99999 + 1 - 95000 + 200)

    def test_backdated_reading_recomputes_the_next_delta(self):
        self._read(0, 1000)
        late = self._read(20, 3000)
        middle = self._read(10, 1800)
        self.assertEqual(middle.delta, 800)
        self.assertEqual(late.delta, 1200)
        middle.unlink()
        self.assertEqual(late.delta, 2000)

    def test_refused_inputs(self):
        self._read(0, 1000)
        cases = [
            ({"days": 5, "value": 900}, "lower than the previous one"),
            ({"days": 5, "value": -1}, "cannot be negative"),
            ({"days": 5000, "value": 2000}, "cannot be in the future"),
            ({"days": 0, "value": 1000}, "already has a reading"),
        ]
        for kwargs, message in cases:
            with self.subTest(message), self.assertRaises(ValidationError) as error:
                self._read(**kwargs)
            self.assertIn(message, str(error.exception))
        # a lower value that is no rollover (previous far below the top)
        with self.assertRaises(ValidationError):
            self._read(6, 10)

    def test_spike_is_accepted_but_flagged(self):
        self._read(0, 1000)
        self._read(10, 1100)  # 10 a day
        normal = self._read(20, 1250)  # 15 a day
        spike = self._read(21, 5000)  # 3750 in a day
        self.assertFalse(normal.is_flagged)
        self.assertTrue(spike.is_flagged)
        self.assertEqual(spike.delta, 3750)

    def test_billed_reading_cannot_change(self):
        self._read(0, 1000)
        reading = self._read(10, 1500)
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_line_ids": [(0, 0, {"name": "Pages", "price_unit": 1})],
            }
        )
        reading.invoice_line_id = move.invoice_line_ids
        with self.assertRaises(UserError):
            reading.value = 1600
        with self.assertRaises(UserError):
            reading.unlink()
        with self.assertRaises(UserError):
            # a backdated reading would change the billed usage
            self._read(5, 1200)
        correction = self._read(11, 1510)
        self.assertEqual(correction.delta, 10)

    def test_usage_limit_ends_the_warranty_early(self):
        policy = self.env["serial.warranty.policy"].create(
            {
                "name": "2 years or 50,000 pages",
                "duration_months": 24,
                "usage_meter_type_id": self.pages.id,
                "usage_limit": 50000,
            }
        )
        self.lot.write(
            {"warranty_policy_id": policy.id, "delivery_date": date(2026, 1, 1)}
        )
        self.assertEqual(self.lot.warranty_end_date, date(2027, 12, 31))
        self._read(0, 0)
        self._read(30, 30000)
        self.assertEqual(self.lot.warranty_end_date, date(2027, 12, 31))
        self._read(60, 52000)
        self.assertEqual(self.lot.warranty_end_date, date(2026, 3, 2))
