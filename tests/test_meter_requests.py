"""Meter collection: read requests sent before the invoice (with one
reminder), the tokenised page where the customer enters the meters due,
source precedence, the review queue's kinds and the meter e-mail inbox."""

from datetime import timedelta
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytz
from freezegun import freeze_time

from odoo import Command, fields, http
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestMeterRequests(SerialServiceCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.today = fields.Date.today()
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Request black", "code": "REQMETER"}
        )
        cls.product_unit.meter_type_ids = cls.meter
        cls.pages = cls.env["product.product"].create(
            {"name": "Request pages", "type": "service"}
        )
        cls.rental = cls.env["product.product"].create(
            {"name": "Request rental", "type": "service", "list_price": 100.0}
        )
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Requests"})
        cls.template = cls.env["sale.subscription.template"].create(
            {"name": "Clicks asked", "invoicing_mode": "draft", "meter_request_days": 7}
        )
        cls.lots = cls._make_lots(
            cls.product_unit, ["REQ-1", "REQ-2", "REQ-3", "REQ-4", "REQ-5"]
        )
        cls.lots.write({"customer_id": cls.customer.id})
        cls.contact = cls.env["res.partner"].create(
            {
                "name": "Meter Reader",
                "email": "reader@customer.example.com",
                "parent_id": cls.customer.id,
            }
        )
        cls.customer.email = "office@customer.example.com"
        Reading = cls.env["serial.meter.reading"]
        for lot in cls.lots:
            Reading.create(cls._vals(lot, 40, 1000, source="technician"))

    @classmethod
    def _vals(cls, lot, days_ago, value, **vals):
        return {
            "lot_id": lot.id,
            "meter_type_id": cls.meter.id,
            "reading_date": cls.now - timedelta(days=days_ago),
            "value": value,
            **vals,
        }

    @classmethod
    def _contract(cls, lots, next_in_days, template=None):
        contract = cls.env["sale.subscription"].create(
            {
                "partner_id": cls.customer.id,
                "template_id": (template or cls.template).id,
                "pricelist_id": cls.pricelist.id,
                "date_start": cls.today - timedelta(days=60),
                "sale_subscription_line_ids": [
                    Command.create({"product_id": cls.rental.id, "price_unit": 100})
                ],
                "usage_tariff_ids": [
                    Command.create(
                        {
                            "meter_type_id": cls.meter.id,
                            "product_id": cls.pages.id,
                            "price_unit": 0.01,
                        }
                    )
                ],
            }
        )
        contract.stage_id = cls.env.ref(
            "subscription_oca.subscription_stage_in_progress"
        )
        contract.covered_lot_ids = lots
        contract.recurring_next_date = cls.today + timedelta(days=next_in_days)
        return contract

    def _requests(self, contract):
        return contract.message_ids.filtered(
            lambda m: m.subject and "Your meter readings" in m.subject
        )

    # --- read requests ------------------------------------------------------
    def test_requests_sent_the_right_day_with_one_reminder(self):
        Contract = self.env["sale.subscription"]
        due = self._contract(self.lots[0] | self.lots[1], 7)
        due.meter_contact_id = self.contact
        early = self._contract(self.lots[2], 10)
        read = self._contract(self.lots[3], 7)
        # the device of REQ-4 reported two days ago: nothing to ask for
        self.env["serial.meter.reading"].create(
            self._vals(self.lots[3], 2, 1500, source="device")
        )
        never = self._contract(
            self.lots[4],
            7,
            template=self.template.copy({"meter_request_days": 0}),
        )
        Contract._cron_send_meter_requests()
        message = self._requests(due)
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, self.contact, "to the meter contact")
        self.assertIn("REQ-1", message.body)
        self.assertIn("REQ-2", message.body)
        self.assertIn(f"/meter/{due.id}/{due.access_token}", message.body)
        self.assertEqual(due.meter_request_date, due.recurring_next_date)
        self.assertEqual(due.meter_request_sent_date, self.today)
        for contract in early | read | never:
            self.assertFalse(self._requests(contract), contract.covered_lot_ids.name)
        # the next day: no second request for the same invoice date
        with freeze_time(self.now + timedelta(days=1)):
            Contract._cron_send_meter_requests()
        self.assertEqual(len(self._requests(due)), 1)
        # half the window later, nothing came: one reminder, then no more
        with freeze_time(self.now + timedelta(days=3)):
            Contract._cron_send_meter_requests()
        reminders = self._requests(due).filtered(lambda m: "Reminder" in m.subject)
        self.assertEqual(len(reminders), 1)
        self.assertEqual(due.meter_reminder_sent_date, self.today + timedelta(days=3))
        with freeze_time(self.now + timedelta(days=4)):
            Contract._cron_send_meter_requests()
        self.assertEqual(len(self._requests(due)), 2)
        # the early contract is asked on its own day, 7 days before
        with freeze_time(self.now + timedelta(days=3)):
            Contract._cron_send_meter_requests()
        self.assertEqual(len(self._requests(early)), 1)
        self.assertEqual(self._requests(early).partner_ids, self.customer)

    def test_no_reminder_when_the_readings_came(self):
        contract = self._contract(self.lots[0], 7)
        self.env["sale.subscription"]._cron_send_meter_requests()
        self.assertEqual(len(self._requests(contract)), 1)
        self.env["serial.meter.reading"].create(
            self._vals(self.lots[0], 0.5, 1300, source="customer")
        )
        with freeze_time(self.now + timedelta(days=3)):
            self.env["sale.subscription"]._cron_send_meter_requests()
        self.assertEqual(len(self._requests(contract)), 1)

    def test_send_now_and_nothing_due(self):
        contract = self._contract(self.lots[0], 20)
        billing = new_test_user(
            self.env, login="meter_billing", groups="account.group_account_invoice"
        )
        with self.assertRaises(AccessError):
            contract.with_user(self.technician).action_send_meter_request()
        self.assertFalse(self._requests(contract))
        contract.with_user(billing).action_send_meter_request()
        self.assertEqual(len(self._requests(contract)), 1)
        contract.with_user(self.manager).action_send_meter_request()
        self.assertEqual(len(self._requests(contract)), 2)
        self.env["serial.meter.reading"].create(
            self._vals(self.lots[0], 1, 1300, source="device")
        )
        with self.assertRaisesRegex(Exception, "No meter is due"):
            contract.with_user(self.manager).action_send_meter_request()

    # --- the request's page -------------------------------------------------
    def _post(self, contract, values, token=None):
        self.authenticate(None, None)
        url = f"/meter/{contract.id}/{token or contract.access_token}"
        page = self.url_open(url)
        data = {
            "reading_date": (self.now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "csrf_token": http.Request.csrf_token(self),
        }
        for lot, value in values.items():
            data[f"value_{lot.id}_{self.meter.id}"] = str(value)
        return page, self.url_open(url, data=data)

    def _count(self, lots):
        return self.env["serial.meter.reading"].search_count(
            [("lot_id", "in", lots.ids)]
        )

    def test_tokenised_page_records_the_readings(self):
        lots = self.lots[0] | self.lots[1]
        contract = self._contract(lots, 7)
        self.customer.tz = "Europe/Brussels"
        contract.action_send_meter_request()
        page, response = self._post(contract, {self.lots[0]: 1400, self.lots[1]: 1250})
        self.assertEqual(page.status_code, 200)
        self.assertIn("REQ-1", page.text)
        self.assertEqual(page.text.count("o_meter_request_due"), 2)
        self.assertEqual(response.status_code, 200)
        self.assertIn("your readings were recorded", response.text)
        readings = self.env["serial.meter.reading"].search(
            [("lot_id", "in", lots.ids), ("source", "=", "customer")]
        )
        self.assertEqual(sorted(readings.mapped("value")), [1250, 1400])
        self.assertEqual(sorted(readings.mapped("delta")), [250, 400])
        # the date typed is the customer's local time (no user logged in)
        typed = (self.now - timedelta(hours=1)).replace(second=0)
        expected = (
            pytz.timezone("Europe/Brussels")
            .localize(typed)
            .astimezone(pytz.utc)
            .replace(tzinfo=None)
        )
        self.assertEqual(set(readings.mapped("reading_date")), {expected})
        # entered: no longer due, no reminder
        self.assertEqual(contract._get_meters_due()[contract], [])
        self.assertNotIn("o_meter_request_due", response.text)

    def test_wrong_token_and_refused_value_write_nothing(self):
        lots = self.lots[0] | self.lots[1]
        contract = self._contract(lots, 7)
        contract.action_send_meter_request()
        other = self._contract(self.lots[2], 7)
        other._portal_ensure_token()
        before = self._count(self.lots)
        self.authenticate(None, None)
        # the contract's portal URL (the e-mails' View button) leads to it
        page = self.url_open(contract.get_portal_url())
        self.assertEqual(page.status_code, 200)
        self.assertIn(f"/meter/{contract.id}/{contract.access_token}", page.url)
        self.assertIn("REQ-1", page.text)
        for url in (
            f"/meter/{contract.id}?access_token=wrong-token",
            f"/meter/{contract.id}/wrong-token",
            f"/meter/{contract.id}/{other.access_token}",
            f"/meter/999999999/{contract.access_token}",
        ):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 404, url)
            self.assertNotIn("REQ-1", response.text)
        _page, response = self._post(
            contract, {self.lots[0]: 1400}, token="wrong-token"
        )
        self.assertEqual(response.status_code, 404)
        # one good value, one below the last reading: nothing at all written
        _page, response = self._post(contract, {self.lots[0]: 1400, self.lots[1]: 900})
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_meter_request_error", response.text)
        self.assertIn("lower than the previous one (1000", response.text)
        self.assertEqual(self._count(self.lots), before)
        _page, response = self._post(contract, {self.lots[0]: "12,500"})
        self.assertIn("must be a number", response.text)
        _page, response = self._post(contract, {})
        self.assertIn("Enter at least one meter value", response.text)
        self.assertEqual(self._count(self.lots), before)

    # --- source precedence --------------------------------------------------
    def _read(self, lot, hours_ago, value, source):
        return self.env["serial.meter.reading"].create(
            {
                "lot_id": lot.id,
                "meter_type_id": self.meter.id,
                "reading_date": self.now - timedelta(hours=hours_ago),
                "value": value,
                "source": source,
            }
        )

    def _usage_lines(self, contract):
        return contract.invoice_ids.invoice_line_ids.filtered(
            lambda line: line.product_id == self.pages
        )

    def test_device_supersedes_the_customer_of_the_same_day(self):
        lot = self.lots[0]
        contract = self._contract(lot, 0)
        customer = self._read(lot, 5, 1500, "customer")
        # the device reads less than the customer typed: it wins all the same
        device = self._read(lot, 2, 1480, "device")
        self.assertEqual(customer.superseded_by_id, device)
        self.assertEqual((customer.delta, device.delta), (0, 480))
        # a technician later the same day loses to the device too
        technician = self._read(lot, 1, 1490, "technician")
        self.assertEqual(technician.superseded_by_id, device)
        self.assertEqual(technician.delta, 0)
        contract.generate_invoice()
        line = self._usage_lines(contract)
        self.assertEqual(line.quantity, 480, "only the device's reading is billed")
        self.assertEqual(device.invoice_line_id, line)
        self.assertFalse((customer | technician).invoice_line_id)
        # the next invoice does not bill the superseded ones either; it bills
        # no real reading (only an estimate, when the readings were taken the
        # day before its date: around midnight)
        contract.recurring_next_date = self.today
        contract.generate_invoice()
        self.assertFalse((customer | technician).invoice_line_id)
        second = contract.invoice_ids.sorted("id")[-1]
        billed = self.env["serial.meter.reading"].search(
            [("invoice_line_id", "in", second.invoice_line_ids.ids)]
        )
        self.assertEqual(set(billed.mapped("source")) - {"estimate"}, set())
        self.assertEqual(device.invoice_line_id, line)

    def test_precedence_per_template_and_the_winner_deleted(self):
        lot = self.lots[1]
        template = self.template.copy({"meter_source_priority": "customer,device"})
        self._contract(lot, 10, template=template)
        device = self._read(lot, 5, 1480, "device")
        customer = self._read(lot, 2, 1500, "customer")
        self.assertEqual(device.superseded_by_id, customer)
        self.assertEqual((device.delta, customer.delta), (0, 500))
        # the customer's deleted: the device's reading counts again
        customer.unlink()
        self.assertFalse(device.superseded_by_id)
        self.assertEqual(device.delta, 480)
        # readings more than a day apart do not compete
        earlier = self._read(lot, 30, 1200, "customer")
        self.assertFalse(earlier.superseded_by_id)
        self.assertFalse(device.superseded_by_id)
        self.assertEqual((earlier.delta, device.delta), (200, 280))
        # recorded in one batch (an import, the device API): the same decision
        batch = self.env["serial.meter.reading"].create(
            [
                self._vals(self.lots[2], 0.2, 1300, source="customer"),
                self._vals(self.lots[2], 0.1, 1290, source="device"),
                self._vals(self.lots[3], 0.2, 1100, source="technician"),
            ]
        )
        self.assertEqual(batch[0].superseded_by_id, batch[1])
        self.assertEqual([r.delta for r in batch], [0, 290, 100])
        self.assertFalse(batch[2].superseded_by_id)
        with self.assertRaisesRegex(Exception, "names sources once each"):
            template.meter_source_priority = "device,printer"

    # --- the review queue ---------------------------------------------------
    def test_review_queue_kinds_and_actions(self):
        Reading = self.env["serial.meter.reading"].with_user(self.manager)
        Lot = self.env["stock.lot"].with_user(self.manager)
        self.company.write(
            {"meter_billing_window_days": 7, "meter_conflict_tolerance": 1.0}
        )
        # window: REQ-1 is invoiced in 3 days on a reading 40 days old
        soon = self._contract(self.lots[0], 3)
        stale = Reading.search([("lot_id", "=", self.lots[0].id)])
        # conflict: the customer typed 1500, the device read 1400 the same day;
        # the technician's 1401 is within the tolerance
        self._contract(self.lots[1], 20)
        customer = self._read(self.lots[1], 5, 1500, "customer")
        self._read(self.lots[1], 2, 1400, "device")
        close = self._read(self.lots[1], 1, 1401, "technician")
        self.assertTrue(close.superseded_by_id)
        # not read: REQ-6 billed up to today, invoiced again in 3 days; REQ-7
        # never read
        new, never = self._make_lots(self.product_unit, ["REQ-6", "REQ-7"])
        (new | never).customer_id = self.customer
        Reading.create(self._vals(new, 50, 100))
        Reading.create(self._vals(new, 20, 400))
        billed = self._contract(new | never, 0)
        billed.generate_invoice()
        billed.recurring_next_date = self.today + timedelta(days=3)
        far = self._contract(self._make_lots(self.product_unit, ["REQ-8"]), 20)
        # this test's serials (the demo data has readings to review of its own)
        own = self.lots | new | never | far.covered_lot_ids
        mine = [("lot_id", "in", own.ids)]

        queue = Reading.search([("review_reason", "!=", False), *mine])
        self.assertEqual(queue.filtered(lambda r: r.review_reason == "window"), stale)
        self.assertEqual(
            queue.filtered(lambda r: r.review_reason == "conflict"), customer
        )
        self.assertNotIn(close, queue)
        self.assertEqual(
            Reading.search([("review_reason", "=", "conflict"), *mine]), customer
        )
        missing = Lot.search([("meter_read_missing", "=", True), ("id", "in", own.ids)])
        self.assertEqual(missing, new | never)
        self.assertNotIn(far.covered_lot_ids, missing)

        # approve: kept as it is, out of the queue
        (stale | customer).action_approve()
        self.assertTrue(customer.review_accepted)
        self.assertFalse(Reading.search([("review_reason", "!=", False), *mine]))
        # ask for a read from the queue
        stale.action_send_meter_request()
        self.assertEqual(len(self._requests(soon)), 1)
        # accept the estimate: recorded now, the serial leaves the list; none
        # without a history
        with self.assertRaisesRegex(Exception, "No estimate can be made for REQ-7"):
            never.with_user(self.manager).action_accept_estimate()
        new.with_user(self.manager).action_accept_estimate()
        estimate = Reading.search(
            [("lot_id", "=", new.id), ("source", "=", "estimate")]
        )
        self.assertEqual(len(estimate), 1)
        self.assertEqual(
            Lot.search([("meter_read_missing", "=", True), ("id", "in", own.ids)]),
            never,
        )
        never.with_user(self.manager).action_send_meter_request()
        self.assertEqual(len(self._requests(billed)), 1)

    # --- the meter e-mail inbox ---------------------------------------------
    def _mail(self, sender, csv_text, message_id):
        message = MIMEMultipart()
        message["From"] = sender
        message["To"] = "meters@meters.example.com"
        message["Subject"] = "Counters"
        message["Message-Id"] = message_id
        message.attach(MIMEText("Counters attached.", "plain"))
        attachment = MIMEApplication(csv_text.encode(), Name="counters.csv")
        attachment["Content-Disposition"] = 'attachment; filename="counters.csv"'
        message.attach(attachment)
        return message.as_string()

    def _replies(self, sender):
        return self.env["mail.mail"].search([("email_to", "=", sender)])

    def test_inbox_imports_a_mailed_csv_all_or_nothing(self):
        domain = self.env["mail.alias.domain"].create({"name": "meters.example.com"})
        inbox = (
            self.env["serial.meter.inbox"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Fleet counters",
                    "alias_name": "meters",
                    "alias_domain_id": domain.id,
                }
            )
        )
        self.assertEqual(inbox.alias_contact, "followers")
        device = self.env["res.partner"].create(
            {"name": "Fleet tool", "email": "fleet@dealer.example.com"}
        )
        inbox.message_subscribe(partner_ids=device.ids)
        day = (self.now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
        Reading = self.env["serial.meter.reading"]
        before = Reading.search_count([])
        good = f"serial,meter,date,value\nREQ-1,REQMETER,{day},1200\nREQ-2,REQMETER,{day},1300\n"
        self.env["mail.thread"].message_process(
            False, self._mail("fleet@dealer.example.com", good, "<good@fleet>")
        )
        recorded = Reading.search([("source", "=", "import")])
        self.assertEqual(len(recorded), 2)
        self.assertEqual(sorted(recorded.mapped("delta")), [200, 300])
        replies = self._replies("fleet@dealer.example.com")
        self.assertEqual(len(replies), 1)
        self.assertIn("2 meter readings were recorded", replies.body_html)
        self.assertEqual(inbox.imported_count, 2)
        # a bad row: nothing of the file is written, one reply lists it
        bad = (
            f"serial,meter,date,value\nREQ-3,REQMETER,{day},1200\n"
            f"NO-SUCH,REQMETER,{day},10\nREQ-4,REQMETER,{day},900\n"
        )
        self.env["mail.thread"].message_process(
            False, self._mail("fleet@dealer.example.com", bad, "<bad@fleet>")
        )
        self.assertEqual(Reading.search_count([]), before + 2)
        replies = self._replies("fleet@dealer.example.com") - replies
        self.assertEqual(len(replies), 1)
        self.assertIn("nothing was recorded", replies.subject)
        self.assertIn("unknown serial NO-SUCH", replies.body_html)
        self.assertIn("lower than the previous reading", replies.body_html)
        # a sender who is not a follower: refused, nothing written
        self.env["mail.thread"].message_process(
            False, self._mail("stranger@example.com", good, "<stranger@x>")
        )
        self.assertEqual(Reading.search_count([]), before + 2)

    # --- portal home ----------------------------------------------------------
    def test_portal_home_counts_the_meters_due(self):
        portal_user = new_test_user(
            self.env, login="meter_portal", groups="base.group_portal", tz="UTC"
        )
        portal_user.partner_id.parent_id = self.customer
        contract = self._contract(self.lots[0] | self.lots[1], 7)
        self._contract(self.lots[2], 7).partner_id = self.other_customer
        self.env["serial.meter.reading"].create(
            self._vals(self.lots[1], 1, 1100, source="device")
        )
        self.authenticate("meter_portal", "meter_portal")
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["meter_due_count"]}
        )
        self.assertEqual(counters["meter_due_count"], 1, "REQ-2 was read by its device")
        self.assertIn('href="/my/meters"', self.url_open("/my").text)
        page = self.url_open("/my/meters")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.text.count("o_meter_due_contract"), 1)
        self.assertIn(f"/meter/{contract.id}/{contract.access_token}", page.text)
