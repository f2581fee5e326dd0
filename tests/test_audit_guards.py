"""Database guards (what no code path may break) and the audit trail in the
chatter (who changed what, and when)."""

from datetime import timedelta

import psycopg2.errors

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestAuditGuards(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the audit lives in the chatter: tracking on, unlike the other tests
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Audit pages", "code": "AUDPAGES"}
        )
        cls.lot, cls.lot2 = cls._make_lots(cls.product_unit, ["AUD-1", "AUD-2"])
        cls.labour = cls.env["product.product"].create(
            {"name": "Audit labour", "type": "service", "service_line_type": "labour"}
        )
        cls.template = cls.env["sale.subscription.template"].create(
            {"name": "Audit care"}
        )
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Audit"})
        cls.contract = cls._create_contract(
            cls.customer,
            None,
            cls.template,
            pricelist=cls.pricelist,
            date_start=fields.Date.today() - timedelta(days=5),
        )
        cls.invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.customer.id,
                "invoice_line_ids": [
                    Command.create({"name": "usage", "quantity": 1, "price_unit": 1})
                ],
            }
        )

    def setUp(self):
        super().setUp()
        # what the class set-up tracked is posted now, as its own user: each
        # test's changes are then posted as the user who made them (in
        # production every request commits, and so runs this, on its own)
        self.env.flush_all()
        self.env.cr.precommit.run()

    def _notes(self, record):
        # tracking messages are written just before the commit
        self.env.flush_all()
        self.env.cr.precommit.run()
        return record.message_ids.filtered(
            lambda m: m.message_type in ("notification", "comment")
        )

    def _last_note(self, record):
        return self._notes(record).sorted("id")[-1:]

    # ------------------------------------------------------------------
    # Guards
    # ------------------------------------------------------------------
    def test_one_equipment_per_serial_at_the_database_level(self):
        Equipment = self.env["maintenance.equipment"]
        first = Equipment.create({"name": "Unit", "lot_id": self.lot.id})
        with self.assertRaises(ValidationError) as cm:
            Equipment.create({"name": "Twin", "lot_id": self.lot.id})
        self.assertIn("only one equipment", str(cm.exception))
        other = Equipment.create({"name": "Other", "lot_id": self.lot2.id})
        with self.assertRaises(ValidationError):
            other.lot_id = self.lot
        # archived equipment still holds its serial
        first.active = False
        with self.assertRaises(ValidationError):
            Equipment.create({"name": "Twin", "lot_id": self.lot.id})
        # and SQL written around the ORM is refused by the index itself
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                "UPDATE maintenance_equipment SET lot_id = %s WHERE id = %s",
                [self.lot.id, other.id],
            )
        Equipment.create([{"name": "Free 1"}, {"name": "Free 2"}])

    def test_one_running_contract_per_serial(self):
        self.contract.covered_lot_ids = self.lot
        second = self.contract.copy({"date_start": fields.Date.today()})
        second.stage_id = self.contract.stage_id
        with self.assertRaises(ValidationError) as cm:
            second.covered_lot_ids = self.lot
        self.assertIn("one running contract at a time", str(cm.exception))

    def test_billed_readings_lines_and_serials_cannot_be_deleted(self):
        reading = self.env["serial.meter.reading"].create(
            {
                "lot_id": self.lot.id,
                "meter_type_id": self.meter.id,
                "reading_date": self.now - timedelta(days=2),
                "value": 10,
            }
        )
        job = self.env["maintenance.request"].create(
            {
                "name": "Audit job",
                "lot_id": self.lot2.id,
                "service_line_ids": [Command.create({"product_id": self.labour.id})],
            }
        )
        line = job.service_line_ids
        # not billed yet: a mistake may still be deleted
        spare = line.copy({"request_id": job.id})
        spare.unlink()
        reading.invoice_line_id = self.invoice.invoice_line_ids
        line.write(
            {
                "invoice_line_id": self.invoice.invoice_line_ids.id,
                "coverage_locked": True,
            }
        )
        with self.assertRaises(UserError) as cm:
            reading.unlink()
        self.assertIn("was billed and cannot be deleted", str(cm.exception))
        with self.assertRaises(UserError) as cm:
            line.unlink()
        self.assertIn("completed or billed and cannot be deleted", str(cm.exception))
        for lot in (self.lot, self.lot2):
            with self.subTest(lot=lot.name), self.assertRaises(UserError) as cm:
                lot.unlink()
            self.assertIn("were billed", str(cm.exception))
        self.assertTrue(reading.exists() and line.exists())
        self.assertTrue((self.lot | self.lot2).exists())
        # a serial with nothing billed can still be deleted
        lot3 = self._make_lots(self.product_unit, ["AUD-3"])
        lot3.unlink()
        self.assertFalse(lot3.exists())

    # ------------------------------------------------------------------
    # Audit trail
    # ------------------------------------------------------------------
    def test_warranty_dates_and_owner_are_tracked_with_who_and_when(self):
        self.lot.with_user(self.manager).write(
            {"customer_id": self.customer.id, "warranty_end_date": "2030-06-30"}
        )
        message = self._last_note(self.lot)
        self.assertEqual(message.author_id, self.manager.partner_id)
        self.assertTrue(message.date)
        tracked = message.tracking_value_ids.field_id.mapped("name")
        self.assertIn("customer_id", tracked)
        self.assertIn("warranty_end_date", tracked)

    def test_covered_serials_are_tracked_on_the_contract(self):
        self.contract.with_user(self.manager).covered_lot_ids = self.lot | self.lot2
        message = self._last_note(self.contract)
        self.assertEqual(message.author_id, self.manager.partner_id)
        values = message.tracking_value_ids.filtered(
            lambda v: v.field_id.name == "covered_lot_ids"
        )
        self.assertEqual(len(values), 1)
        self.assertIn("AUD-1", values.new_value_char)
        self.assertIn("AUD-2", values.new_value_char)

    def test_rule_and_tariff_changes_are_noted_on_the_contract(self):
        consultant = self.consultant
        contract = self.contract.with_user(consultant)
        contract.coverage_rule_ids = [
            Command.create({"name": "Labour included", "line_type": "labour"})
        ]
        note = self._last_note(self.contract)
        self.assertEqual(note.author_id, consultant.partner_id)
        self.assertIn("Contract Coverage Rule added", note.body)
        self.assertIn("Labour included", note.body)
        rule = self.contract.coverage_rule_ids
        rule.with_user(consultant).coverage_percent = 60
        note = self._last_note(self.contract)
        self.assertIn("Contract Coverage Rule changed", note.body)
        self.assertIn("100.0", note.body)
        self.assertIn("60.0", note.body)
        count = len(self._notes(self.contract))
        rule.with_user(consultant).write({"coverage_percent": 60})
        self.assertEqual(len(self._notes(self.contract)), count, "no change, no note")
        contract.usage_tariff_ids = [
            Command.create(
                {
                    "meter_type_id": self.meter.id,
                    "product_id": self.labour.id,
                    "price_unit": 0.02,
                }
            )
        ]
        self.assertIn("Usage Tariff added", self._last_note(self.contract).body)
        self.contract.usage_tariff_ids.with_user(consultant).price_unit = 0.03
        note = self._last_note(self.contract)
        self.assertIn("Usage Tariff changed", note.body)
        self.assertIn("0.03", note.body)
        rule.with_user(consultant).unlink()
        note = self._last_note(self.contract)
        self.assertIn("Contract Coverage Rule removed", note.body)
        self.assertIn("Labour included", note.body)

    def test_reading_corrections_are_noted_and_billed_ones_frozen(self):
        Reading = self.env["serial.meter.reading"].with_user(self.manager)
        first, second = Reading.create(
            [
                {
                    "lot_id": self.lot.id,
                    "meter_type_id": self.meter.id,
                    "reading_date": self.now - timedelta(days=days),
                    "value": value,
                }
                for days, value in ((5, 100), (2, 150))
            ]
        )
        second.value = 160
        note = self._last_note(self.lot)
        self.assertEqual(note.author_id, self.manager.partner_id)
        self.assertIn("Meter reading changed", note.body)
        self.assertIn("150", note.body)
        self.assertIn("160", note.body)
        second.unlink()
        self.assertIn("Meter reading deleted", self._last_note(self.lot).body)
        # billed by the billing run (as the system): no user marks it by hand
        first.sudo().invoice_line_id = self.invoice.invoice_line_ids
        with self.assertRaises(UserError):
            first.value = 90
        self.assertEqual(first.value, 100)
