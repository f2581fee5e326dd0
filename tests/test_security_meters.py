"""Meters: the meter e-mail inbox records readings on its own company's
serials only, refusing a serial number it cannot tell apart; a held spike
corrected by a person is reviewed: no longer flagged, billed, out of the
review queue."""

from datetime import timedelta
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestSecurityMeterInbox(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Inbox Other Co"})
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Inbox pages", "code": "INBOXPAGES"}
        )
        cls.lot_a = cls._make_lots(cls.product_unit, ["TWIN-1"])
        Lot = cls.env["stock.lot"]
        cls.lot_b, cls.only_b = Lot.create(
            [
                {
                    "name": name,
                    "product_id": cls.product_unit.id,
                    "company_id": cls.company_b.id,
                }
                for name in ("TWIN-1", "ONLY-B")
            ]
        )
        # two products of this company sharing a serial number
        cls.dup_unit, cls.dup_part = (
            cls._make_lots(cls.product_unit, ["DUP-1"]),
            cls._make_lots(cls.product_part, ["DUP-1"]),
        )
        domain = cls.env["mail.alias.domain"].create({"name": "inbox.example.com"})
        cls.inbox_a, cls.inbox_b = cls.env["serial.meter.inbox"].create(
            [
                {
                    "name": "Counters A",
                    "alias_name": "counters-a",
                    "alias_domain_id": domain.id,
                    "company_id": cls.company.id,
                },
                {
                    "name": "Counters B",
                    "alias_name": "counters-b",
                    "alias_domain_id": domain.id,
                    "company_id": cls.company_b.id,
                },
            ]
        )
        cls.sender = "fleet@inbox-dealer.example.com"
        device = cls.env["res.partner"].create(
            {"name": "Inbox fleet tool", "email": cls.sender}
        )
        (cls.inbox_a | cls.inbox_b).message_subscribe(partner_ids=device.ids)
        cls.day = (fields.Datetime.now() - timedelta(days=1)).strftime(
            "%Y-%m-%d %H:%M:%S"
        )

    def _send(self, to, rows, message_id):
        csv_text = "serial,meter,date,value\n" + "".join(
            f"{serial},INBOXPAGES,{self.day},{value}\n" for serial, value in rows
        )
        message = MIMEMultipart()
        message["From"] = self.sender
        message["To"] = f"{to}@inbox.example.com"
        message["Subject"] = "Counters"
        message["Message-Id"] = message_id
        message.attach(MIMEText("Counters attached.", "plain"))
        attachment = MIMEApplication(csv_text.encode(), Name="counters.csv")
        attachment["Content-Disposition"] = 'attachment; filename="counters.csv"'
        message.attach(attachment)
        before = self.env["mail.mail"].search([("email_to", "=", self.sender)])
        self.env["mail.thread"].message_process(False, message.as_string())
        return self.env["mail.mail"].search([("email_to", "=", self.sender)]) - before

    def _readings(self, lots):
        return self.env["serial.meter.reading"].search([("lot_id", "in", lots.ids)])

    def test_a_mail_lands_on_its_inbox_s_company_serial(self):
        everything = self.lot_a | self.lot_b | self.only_b
        reply = self._send("counters-a", [("TWIN-1", 500)], "<twin-a@fleet>")
        self.assertIn("1 meter readings were recorded", reply.body_html)
        self.assertEqual(self._readings(self.lot_a).mapped("value"), [500])
        self.assertFalse(self._readings(self.lot_b))
        # the same serial number mailed to the other company's inbox is its own
        reply = self._send("counters-b", [("TWIN-1", 700)], "<twin-b@fleet>")
        self.assertIn("1 meter readings were recorded", reply.body_html)
        self.assertEqual(self._readings(self.lot_b).mapped("value"), [700])
        self.assertEqual(self._readings(self.lot_a).mapped("value"), [500])
        self.assertEqual(len(self._readings(everything)), 2)

    def test_another_company_s_serial_and_a_shared_number_are_refused(self):
        everything = self.lot_a | self.lot_b | self.only_b | self.dup_unit
        everything |= self.dup_part
        # a serial number only the other company holds: unknown here
        reply = self._send(
            "counters-a", [("TWIN-1", 500), ("ONLY-B", 900)], "<only-b@fleet>"
        )
        self.assertIn("nothing was recorded", reply.subject)
        self.assertIn(f"unknown serial ONLY-B at {self.company.name}", reply.body_html)
        # two of the inbox's company's serials share the number: not guessed
        reply = self._send("counters-a", [("DUP-1", 300)], "<dup@fleet>")
        self.assertIn("nothing was recorded", reply.subject)
        self.assertIn("belongs to several products", reply.body_html)
        self.assertFalse(self._readings(everything))
        self.assertEqual(
            (self.inbox_a.imported_count, self.inbox_b.imported_count), (0, 0)
        )
        # the refusals are noted on the inbox
        notes = " ".join(str(body) for body in self.inbox_a.message_ids.mapped("body"))
        self.assertIn("ONLY-B", notes)
        self.assertIn("DUP-1", notes)


@tagged("post_install", "-at_install")
class TestMeterReviewCorrected(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Review pages", "code": "REVIEWPAGES"}
        )
        cls.lot = cls._make_lots(cls.product_unit, ["REVIEW-1"])
        cls.now = fields.Datetime.now().replace(microsecond=0)

    def _read(self, days_ago, value, user=None):
        Reading = self.env["serial.meter.reading"]
        if user:
            Reading = Reading.with_user(user)
        return Reading.create(
            {
                "lot_id": self.lot.id,
                "meter_type_id": self.meter.id,
                "reading_date": self.now - timedelta(days=days_ago),
                "value": value,
                "source": "technician",
            }
        )

    def _spike(self):
        for days, value in ((40, 1000), (30, 1100), (20, 1200)):
            self._read(days, value)
        spike = self._read(10, 501300)
        self.assertEqual((spike.is_flagged, spike.review_state), (True, "to_review"))
        self.assertEqual(spike.review_reason, "held")
        return spike

    def _in_review(self, reading):
        Reading = self.env["serial.meter.reading"]
        return reading in Reading.search(
            [("review_reason", "=", "held")]
        ) or reading in Reading.search([("is_flagged", "=", True)])

    def test_a_corrected_spike_is_reviewed_and_no_longer_flagged(self):
        for new_value in (1300, 401300):
            with self.subTest(new_value=new_value):
                spike = self._spike()
                spike.with_user(self.manager).with_context(
                    tracking_disable=False
                ).value = new_value
                # the queue's reason is computed per request, not stored
                spike.invalidate_recordset(["review_reason"])
                self.assertEqual(
                    (spike.is_flagged, spike.review_state, spike.review_reason),
                    (False, "approved", False),
                )
                self.assertFalse(self._in_review(spike))
                self.assertFalse(
                    self.env["sale.subscription"]._get_held_readings(spike)
                )
                notes = " ".join(str(b) for b in self.lot.message_ids.mapped("body"))
                self.assertIn("Meter reading changed", notes)
                # a reading recorded before it later keeps it reviewed
                self._read(15, 1250)
                self.assertEqual(spike.review_state, "approved")
                self.assertFalse(
                    self.env["sale.subscription"]._get_held_readings(spike)
                )
                self.env["serial.meter.reading"].search(
                    [("lot_id", "=", self.lot.id)]
                ).unlink()

    def test_a_technician_neither_reviews_nor_sees_the_review_menu(self):
        """Readings to Review is the service managers' and billing's: a
        technician who records readings may not approve a held one, and has
        no menu to the list."""
        spike = self._spike()
        with self.assertRaises(AccessError):
            spike.with_user(self.technician).action_approve()
        self.assertEqual(spike.review_state, "to_review")
        menu = self.env.ref("serial_service.serial_meter_reading_menu_review")
        visible = self.env["ir.ui.menu"].with_user(self.technician)._visible_menu_ids()
        self.assertNotIn(menu.id, visible)
        self.assertIn(
            menu.id,
            self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids(),
        )

    def test_approved_as_it_is_stays_flagged_and_a_new_spike_is_held(self):
        spike = self._spike()
        spike.with_user(self.manager).action_approve()
        # billed as it is: the usage is still far above the usual
        self.assertEqual((spike.is_flagged, spike.review_state), (True, "approved"))
        self.assertFalse(self.env["sale.subscription"]._get_held_readings(spike))
        later = self._read(5, 501400)
        self.assertEqual(later.review_state, "none")
        # a new spike after it waits for a person, until corrected
        jump = self._read(1, 9_000_000)
        self.assertEqual((jump.is_flagged, jump.review_state), (True, "to_review"))
        self.assertTrue(self.env["sale.subscription"]._get_held_readings(jump))
        jump.with_user(self.manager).value = 501500
        self.assertEqual((jump.is_flagged, jump.review_state), (False, "approved"))
        self.assertEqual(jump.delta, 100)
