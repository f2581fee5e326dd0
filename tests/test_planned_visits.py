from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command, http
from odoo.tests import HttpCase, tagged

from .dispatch_common import DispatchCase


@tagged("post_install", "-at_install")
class TestPlannedVisits(DispatchCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.email = "customer@example.com"
        cls.template = cls.env["sale.subscription.template"].create(
            {
                "name": "Quarterly Care",
                "visit_interval_months": 3,
                "visit_lead_days": 14,
                "visit_duration": 1.5,
            }
        )
        cls.contract = cls._create_contract(
            cls.customer, cls.lot, cls.template, date_start=date(2026, 1, 1)
        )
        # only Ann covers Bristol among those qualified: Ben works elsewhere
        cls.ben.service_zip_prefixes = "YO"

    def _visits(self):
        return self.env["maintenance.request"].search(
            [("planned_visit_date", "!=", False), ("lot_id", "=", self.lot.id)],
            order="planned_visit_date",
        )

    def _visit_mails(self, job):
        return self.env["mail.mail"].search(
            [("model", "=", "maintenance.request"), ("res_id", "=", job.id)]
        )

    def test_next_visit_date(self):
        self.assertEqual(
            self.contract._get_next_visit_date(date(2026, 3, 10)), date(2026, 4, 1)
        )
        self.assertEqual(
            self.contract._get_next_visit_date(date(2026, 4, 1)), date(2026, 4, 1)
        )
        self.assertEqual(
            self.contract._get_next_visit_date(date(2026, 4, 2)), date(2026, 7, 1)
        )
        self.contract.date = date(2026, 6, 30)
        self.assertFalse(self.contract._get_next_visit_date(date(2026, 4, 2)))

    def test_visits_generated_ahead_once_per_period(self):
        with freeze_time("2026-03-17 06:00:00"):
            self.env["sale.subscription"]._cron_planned_visits()
            self.assertFalse(self._visits(), "not yet 14 days ahead")
        with freeze_time("2026-03-18 06:00:00"):
            self.env["sale.subscription"]._cron_planned_visits()
            visit = self._visits()
            self.assertEqual(len(visit), 1)
            self.assertEqual(visit.planned_visit_date, date(2026, 4, 1))
            self.assertEqual(visit.maintenance_type, "preventive")
            self.assertEqual(visit.subscription_id, self.contract)
            self.assertEqual(visit.customer_id, self.customer)
            self.assertEqual(visit.duration, 1.5)
        with freeze_time("2026-03-25 06:00:00"):
            self.env["sale.subscription"]._cron_planned_visits()
            self.assertEqual(self._visits(), visit, "one visit per period")
        with freeze_time("2026-06-20 06:00:00"):
            self.env["sale.subscription"]._cron_planned_visits()
            visits = self._visits()
            self.assertEqual(
                visits.mapped("planned_visit_date"),
                [date(2026, 4, 1), date(2026, 7, 1)],
            )

    @freeze_time("2026-03-18 06:00:00")
    def test_clear_winner_assigned_and_told_by_email(self):
        visit = self.contract._create_planned_visits()
        self.assertEqual(visit.user_id, self.ann)
        # the visit day's first working hour (a Wednesday)
        self.assertEqual(visit.schedule_date, datetime(2026, 4, 1, 8))
        self.assertEqual(visit.response_deadline, datetime(2026, 4, 2))
        mail = self._visit_mails(visit)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.state, "outgoing")
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertIn("Your planned service visit", mail.subject)
        token = visit.visit_access_token
        self.assertTrue(token)
        self.assertIn(f"/my/visits/{visit.id}?access_token={token}", mail.body_html)
        self.assertTrue(visit.visit_notified_on)
        # announced once: assigning again sends nothing more
        visit.action_assign_technician(self.ann)
        self.assertEqual(len(self._visit_mails(visit)), 1)

    @freeze_time("2026-03-18 06:00:00")
    def test_no_clear_winner_waits_for_the_dispatcher(self):
        self.ben.service_zip_prefixes = False
        visit = self.contract._create_planned_visits()
        self.assertEqual(len(visit), 1)
        self.assertFalse(visit.user_id)
        self.assertFalse(visit.schedule_date)
        self.assertFalse(self._visit_mails(visit))
        self.assertEqual(
            [s["user_id"] for s in visit._get_technician_suggestions()][:2],
            [self.ann.id, self.ben.id],
        )

    @freeze_time("2026-03-18 06:00:00")
    def test_a_visit_that_cannot_be_assigned_leaves_an_activity(self):
        # a second copier model whose visits need a fuser, in a van whose
        # warehouse cannot bring parts: that visit waits, the other is assigned
        kit_copier = self._make_product(
            "Kit Copier",
            categ=self.categ_copiers,
            serial_service_managed=True,
            preventive_kit_line_ids=[
                Command.create({"product_id": self.fuser.id, "quantity": 1})
            ],
        )
        kit_lot = self._make_lots(kit_copier, ["DISP-KIT"])
        kit_lot.write({"customer_id": self.customer.id, "site_id": self.site.id})
        self.contract.covered_lot_ids |= kit_lot
        self.warehouse.van_job_route_id = False
        visits = self.contract._create_planned_visits()
        self.assertEqual(len(visits), 2)
        done = visits.filtered(lambda v: v.lot_id == self.lot)
        waiting = visits - done
        self.assertEqual(done.user_id, self.ann)
        self.assertFalse(waiting.user_id)
        self.assertFalse(waiting.schedule_date)
        self.assertEqual(waiting.activity_ids.summary, "Planned visit not assigned")
        self.assertIn("no route for job parts", str(waiting.activity_ids.note))


@tagged("post_install", "-at_install")
class TestPlannedVisitPortal(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {"name": "Visit Customer", "email": "visit@example.com"}
        )
        cls.job = cls.env["maintenance.request"].create(
            {
                "name": "Planned visit",
                "customer_id": cls.customer.id,
                "planned_visit_date": date(2026, 4, 1),
                "schedule_date": datetime(2026, 4, 1, 8),
            }
        )
        cls.job._ensure_visit_token()
        cls.portal_user = cls.env["res.users"].create(
            {
                "name": "Visit Customer",
                "login": "visit_portal",
                "password": "visit_portal",
                "partner_id": cls.customer.id,
                "groups_id": [Command.set([cls.env.ref("base.group_portal").id])],
            }
        )

    def _confirm(self, token):
        if not getattr(self, "session", None):
            self.authenticate(None, None)
        return self.url_open(
            f"/my/visits/{self.job.id}/confirm",
            data={"access_token": token, "csrf_token": http.Request.csrf_token(self)},
        )

    def test_confirm_with_the_email_token(self):
        token = self.job.visit_access_token
        page = self.url_open(f"/my/visits/{self.job.id}?access_token={token}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Confirm the visit", page.text)
        response = self._confirm(token)
        self.assertEqual(response.status_code, 200)
        self.assertIn("the visit is confirmed", response.text)
        self.assertTrue(self.job.visit_confirmed_on)
        self.assertIn(
            "confirmed by Visit Customer",
            " ".join(str(body) for body in self.job.message_ids.mapped("body")),
        )

    def test_wrong_token_or_other_customer_is_refused(self):
        self.assertEqual(
            self.url_open(f"/my/visits/{self.job.id}?access_token=nope").status_code,
            404,
        )
        self.assertEqual(self._confirm("nope").status_code, 404)
        self.assertFalse(self.job.visit_confirmed_on)
        other = self.env["res.partner"].create({"name": "Someone Else"})
        self.env["res.users"].create(
            {
                "name": "Other Portal",
                "login": "other_portal",
                "password": "other_portal",
                "partner_id": other.id,
                "groups_id": [Command.set([self.env.ref("base.group_portal").id])],
            }
        )
        self.authenticate("other_portal", "other_portal")
        self.assertEqual(self.url_open(f"/my/visits/{self.job.id}").status_code, 404)

    def test_customer_logged_in_confirms_without_token(self):
        self.authenticate("visit_portal", "visit_portal")
        page = self.url_open(f"/my/visits/{self.job.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Confirm the visit", page.text)
        self._confirm("")
        self.assertTrue(self.job.visit_confirmed_on)
