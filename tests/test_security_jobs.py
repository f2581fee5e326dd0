"""Money and frozen records on jobs: the coverage and price of a job line are
the engine's (a service manager overrides them, with a reason, noted); a
completed job, its lines and billed readings stay as they are, whoever asks;
nothing is added to a completed job; consultants use the coverage simulator."""

from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import SerialServiceCase


class TrustJobsCase(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["stock.lot"])
        cls.toner = cls._make_product(
            "Trust Toner",
            categ=cls.categ_consumables,
            tracking="none",
            service_line_type="consumable",
            list_price=80,
        )
        cls.labour = cls.env["product.product"].create(
            {
                "name": "Trust Labour",
                "type": "service",
                "service_line_type": "labour",
                "list_price": 60,
            }
        )
        cls.van = cls.env["stock.location"].create(
            {
                "name": "Trust Van",
                "usage": "internal",
                "location_id": cls.warehouse.view_location_id.id,
            }
        )
        cls.technician.van_location_id = cls.van
        cls.env["stock.quant"]._update_available_quantity(cls.toner, cls.van, 5)
        cls.unit, cls.covered_unit = cls._make_lots(
            cls.product_unit, ["TRUST-UNIT", "TRUST-COVERED"]
        )
        cls._receive(cls.unit | cls.covered_unit)
        cls._deliver(cls.unit | cls.covered_unit)
        cls.contract = cls._create_contract(
            cls.customer,
            cls.covered_unit,
            rules=[{"line_type": "labour", "coverage_percent": 100}],
            date_start=cls.today - timedelta(days=5),
        )
        cls.rule = cls.contract.coverage_rule_ids

    @classmethod
    def _job(cls, lot=None, lines=None):
        lines = lines or [
            {"product_id": cls.toner.id, "quantity": 1},
            {"product_id": cls.labour.id, "quantity": 1},
        ]
        return cls.env["maintenance.request"].create(
            {
                "name": "Trust job",
                "lot_id": (lot or cls.unit).id,
                "user_id": cls.technician.id,
                "service_line_ids": [Command.create(vals) for vals in lines],
            }
        )

    def _line_state(self, line):
        line.invalidate_recordset()
        return (
            line.price_unit,
            line.coverage_source,
            line.coverage_percent,
            line.coverage_rule_id,
            line.subscription_id,
            line.covered_qty,
            line.covered_amount,
            line.coverage_overridden,
            line.charge_amount,
        )

    def _toner_in_van(self):
        return self.env["stock.quant"]._get_available_quantity(
            self.toner, self.van, strict=True
        )

    def _notes(self, job):
        return " ".join(job.message_ids.mapped(lambda m: str(m.body)))


@tagged("post_install", "-at_install")
class TestTrustJobLines(TrustJobsCase):
    def test_technician_cannot_set_coverage_or_price(self):
        job = self._job()
        labour = job.service_line_ids.filtered(
            lambda line: line.product_id == self.labour
        )
        before = self._line_state(labour)
        self.assertEqual(before[:3], (60, "none", 0))
        line = labour.with_user(self.technician)
        for vals in (
            {"coverage_percent": 100},
            {"coverage_source": "warranty"},
            {"coverage_reason": "Covered by the warranty"},
            {"price_unit": 0},
            {"covered_qty": 5},
            {"covered_amount": 500},
            {"subscription_id": self.contract.id},
            {"coverage_rule_id": self.rule.id},
            {"coverage_overridden": True},
            {"coverage_override_reason": "Customer is a friend"},
            {"quantity": 3, "coverage_percent": 100},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                line.write(vals)
        self.assertEqual(self._line_state(labour), before)
        self.assertEqual(labour.quantity, 1)
        # an ordinary change is the engine's to price and decide
        line.write({"quantity": 2})
        self.assertEqual(self._line_state(labour)[:3], (60, "none", 0))
        self.assertEqual(labour.charge_amount, 120)
        # sending the values as they are (as a client may) changes nothing
        line.write({"price_unit": 60, "coverage_percent": 0, "quantity": 1})
        self.assertEqual(labour.charge_amount, 60)

    def test_technician_create_ignores_coverage_and_price(self):
        job = self._job(lines=[{"product_id": self.toner.id}])
        Line = self.env["serial.service.line"].with_user(self.technician)
        line = Line.create(
            {
                "request_id": job.id,
                "product_id": self.labour.id,
                "price_unit": 0,
                "coverage_source": "warranty",
                "coverage_percent": 100,
                "covered_amount": 60,
                "coverage_locked": True,
            }
        )
        self.assertEqual(self._line_state(line)[:3], (60, "none", 0))
        self.assertFalse(line.coverage_locked)
        self.assertEqual(line.charge_amount, 60)
        count = len(job.service_line_ids)
        with self.assertRaises(AccessError):
            Line.create(
                {
                    "request_id": job.id,
                    "product_id": self.labour.id,
                    "coverage_percent": 100,
                    "coverage_override_reason": "I say so",
                }
            )
        job.invalidate_recordset()
        self.assertEqual(len(job.service_line_ids), count)

    def test_technician_cannot_replace_a_part_of_another_unit(self):
        """The removed part leaves the customer for the defective returns at
        completion: naming another customer's installed part is refused."""
        other_unit = self._make_lots(self.product_unit, ["TRUST-OTHER"])
        other_part, own_part, spare = self._make_lots(
            self.product_part, ["TRUST-OTHER-FU", "TRUST-OWN-FU", "TRUST-SPARE"]
        )
        self._receive(other_unit | other_part | own_part)
        self._deliver(other_unit | other_part, partner=self.other_customer)
        self._deliver(own_part)
        other_part.parent_lot_id = other_unit
        own_part.parent_lot_id = self.unit
        self.env["stock.quant"]._update_available_quantity(
            self.product_part, self.van, 1, lot_id=spare
        )
        job = self._job(lines=[{"product_id": self.labour.id}])
        Line = self.env["serial.service.line"].with_user(self.technician)
        values = {
            "request_id": job.id,
            "product_id": self.product_part.id,
            "lot_id": spare.id,
            "location_id": self.van.id,
        }
        with self.assertRaises(ValidationError):
            Line.create(dict(values, removed_lot_id=other_part.id))
        line = Line.create(dict(values, removed_lot_id=own_part.id))
        with self.assertRaises(ValidationError):
            line.write({"removed_lot_id": other_part.id})
        line.invalidate_recordset()
        self.assertEqual(line.removed_lot_id, own_part)
        job.invalidate_recordset()
        self.assertEqual(len(job.service_line_ids), 2)
        self.assertEqual(other_part.parent_lot_id, other_unit)
        self.assertEqual(other_part.location_id, other_unit.location_id)

    def test_a_line_keeps_its_jobs_unit_company_and_date(self):
        """The unit, company and date a line stores are its job's: a
        technician cannot book a line on another unit or day, at creation or
        after; sending the job's own values passes."""
        job = self._job(lines=[{"product_id": self.labour.id}])
        line = job.service_line_ids.with_user(self.technician)
        for vals in (
            {"unit_lot_id": self.covered_unit.id},
            {"service_date": self.today - timedelta(days=40)},
            {"company_id": False},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                line.write(vals)
        line.write(
            {
                "unit_lot_id": job.lot_id.id,
                "service_date": job.request_date,
                "company_id": job.company_id.id,
            }
        )
        Line = self.env["serial.service.line"].with_user(self.technician)
        with self.assertRaises(UserError):
            Line.create(
                {
                    "request_id": job.id,
                    "product_id": self.labour.id,
                    "unit_lot_id": self.covered_unit.id,
                }
            )
        line.invalidate_recordset()
        self.assertEqual(line.unit_lot_id, job.lot_id)
        self.assertEqual(line.service_date, job.request_date)
        job.invalidate_recordset()
        self.assertEqual(len(job.service_line_ids), 1)

    def test_the_contract_decides_and_technicians_cannot_undo_it(self):
        job = self._job(lot=self.covered_unit)
        labour = job.service_line_ids.filtered(
            lambda line: line.product_id == self.labour
        )
        self.assertEqual(
            (labour.coverage_source, labour.coverage_percent, labour.coverage_rule_id),
            ("contract", 100, self.rule),
        )
        with self.assertRaises(AccessError):
            labour.with_user(self.technician).write(
                {"subscription_id": False, "coverage_rule_id": False, "covered_qty": 0}
            )
        self.assertEqual(labour.subscription_id, self.contract)
        self.assertEqual(labour.covered_qty, 1)

    def test_manager_overrides_with_a_reason_noted_on_the_job(self):
        job = self._job()
        labour = job.service_line_ids.filtered(
            lambda line: line.product_id == self.labour
        )
        before = self._line_state(labour)
        line = labour.with_user(self.manager)
        with self.assertRaises(UserError) as cm:
            line.write({"coverage_percent": 100})
        self.assertIn("Give the reason", str(cm.exception))
        self.assertEqual(self._line_state(labour), before)
        line.write(
            {"coverage_percent": 100, "coverage_override_reason": "Goodwill: late part"}
        )
        self.assertTrue(labour.coverage_overridden)
        self.assertEqual(labour.charge_amount, 0)
        notes = self._notes(job)
        self.assertIn("overridden", notes)
        self.assertIn("Goodwill: late part", notes)
        note = job.message_ids.filtered(lambda m: "overridden" in str(m.body))
        self.assertEqual(note.author_id, self.manager.partner_id)
        # the override holds when the quantity changes, and the technician
        # still cannot touch it
        labour.with_user(self.technician).quantity = 2
        self.assertEqual(labour.coverage_percent, 100)
        with self.assertRaises(AccessError):
            labour.with_user(self.technician).coverage_overridden = False
        # given back to the engine, it decides again
        line.write({"coverage_overridden": False})
        self.assertEqual((labour.coverage_percent, labour.charge_amount), (0, 120))
        self.assertIn("given back to the engine", self._notes(job))
        # the price too is the manager's to override, with a reason
        line.write({"price_unit": 50, "coverage_override_reason": "Agreed price"})
        self.assertEqual((labour.price_unit, labour.charge_amount), (50, 100))

    def test_form_shows_coverage_and_price_read_only_to_technicians(self):
        job = self._job()
        with Form(job.with_user(self.technician)) as form:
            with form.service_line_ids.edit(1) as line:
                for fname in ("price_unit", "coverage_percent", "coverage_overridden"):
                    with self.subTest(fname=fname), self.assertRaises(AssertionError):
                        setattr(line, fname, 1)
                line.quantity = 2
        self.assertEqual(job.service_line_ids[1].charge_amount, 120)
        with Form(job.with_user(self.manager)) as form:
            with form.service_line_ids.edit(1) as line:
                line.coverage_overridden = True
                line.coverage_override_reason = "Goodwill"
                line.coverage_percent = 50
        self.assertEqual(job.service_line_ids[1].charge_amount, 60)

    def test_phone_and_completion_still_price_and_decide(self):
        job = self._job(lot=self.covered_unit)
        Part = self.env["serial.job.part"].with_user(self.technician)
        wizard = Part.create({"request_id": job.id, "product_id": self.toner.id})
        wizard.action_apply()
        job.with_user(self.technician).action_complete_job()
        self.assertTrue(job.completed_on)
        self.assertEqual(len(job.invoice_ids), 1)
        self.assertEqual(
            sorted(job.service_line_ids.mapped("charge_amount")), [0, 80, 80]
        )

    def test_open_job_bookkeeping_fields_are_not_written_by_hand(self):
        """On an open job too, what marks a line completed, moved, quoted or
        billed, and its charge, are set by the code that owns them: a
        technician (or a manager) marking the toner completed, moved or
        billed would keep it in the van and off the invoice."""
        job = self._job()
        toner = job.service_line_ids.filtered(
            lambda line: line.product_id == self.toner
        )
        invoice = (
            self.env["account.move"]
            .sudo()
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Other", "quantity": 1, "price_unit": 1}
                        )
                    ],
                }
            )
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": self.toner.id})],
            }
        )
        other_move = self.env["stock.move"].search([], limit=1)
        self.assertTrue(other_move)

        def state():
            toner.invalidate_recordset()
            return (
                toner.coverage_locked,
                toner.move_id,
                toner.invoice_line_id,
                toner.sale_line_id,
                toner.charge_amount,
                toner.line_type,
                toner.quantity,
            )

        before = state()
        self.assertEqual(
            before,
            (
                False,
                other_move.browse(),
                invoice.line_ids.browse(),
                order.order_line.browse(),
                80,
                "consumable",
                1,
            ),
        )
        for user in (self.technician, self.manager):
            line = toner.with_user(user)
            for vals in (
                {"coverage_locked": True},
                {"move_id": other_move.id},
                {"invoice_line_id": invoice.invoice_line_ids.id},
                {"sale_line_id": order.order_line.id},
                {"charge_amount": 0},
                {"quantity": 2, "coverage_locked": True},
            ):
                with (
                    self.subTest(user=user.login, vals=vals),
                    self.assertRaises(AccessError) as caught,
                ):
                    line.write(vals)
                self.assertIn("not by hand", str(caught.exception))
            # the type is the product's: a consumable switched to labour
            # would leave the van without a stock move
            for vals in (
                {"line_type": "labour"},
                {"line_type": "travel", "quantity": 2},
            ):
                with (
                    self.subTest(user=user.login, vals=vals),
                    self.assertRaises(UserError) as caught,
                ):
                    line.write(vals)
                self.assertIn("is its product's", str(caught.exception))
        self.assertEqual(state(), before)
        # values sent as they are (as a client may) change nothing and pass;
        # a changed product gives its own type
        toner.with_user(self.technician).write(
            {"coverage_locked": False, "line_type": "consumable", "charge_amount": 80}
        )
        self.assertEqual(state(), before)
        # a technician's create ignores them too
        line = (
            self.env["serial.service.line"]
            .with_user(self.technician)
            .create(
                {
                    "request_id": job.id,
                    "product_id": self.toner.id,
                    "line_type": "labour",
                    "charge_amount": 0,
                    "sale_line_id": order.order_line.id,
                    "move_id": other_move.id,
                }
            )
        )
        self.assertEqual(
            (line.line_type, line.charge_amount, line.sale_line_id, line.move_id),
            ("consumable", 80, order.order_line.browse(), other_move.browse()),
        )
        line.with_user(self.technician).unlink()
        # completion, run by the technician, still sets them: the toner leaves
        # the van and is invoiced
        job.with_user(self.technician).action_complete_job()
        self.assertTrue(toner.coverage_locked)
        self.assertEqual(self._toner_in_van(), 4)
        self.assertEqual(toner.move_id.product_id, self.toner)
        self.assertEqual(toner.invoice_line_id.move_id, job.invoice_ids)
        self.assertNotEqual(toner.invoice_line_id, invoice.invoice_line_ids)
        self.assertEqual(job.invoice_ids.amount_untaxed, 140)

    def test_open_job_is_not_marked_completed_quoted_or_invoiced_by_hand(self):
        """A job marked completed by hand would be skipped by completion (the
        toner never leaves the van, nothing is invoiced); a cancelled order
        linked as its quotation would drop its chargeable work."""
        job = self._job()
        cancelled = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": self.toner.id})],
            }
        )
        cancelled._action_cancel()
        invoice = (
            self.env["account.move"]
            .sudo()
            .create({"move_type": "out_invoice", "partner_id": self.customer.id})
        )

        def state():
            self.env.invalidate_all()
            return (
                job.completed_on,
                job.quotation_id,
                job.invoice_ids,
                len(job.service_line_ids),
                self._toner_in_van(),
            )

        before = state()
        for user in (self.technician, self.manager):
            for vals in (
                {"completed_on": fields.Datetime.now()},
                {"quotation_id": cancelled.id},
                {"invoice_ids": [Command.link(invoice.id)]},
            ):
                with (
                    self.subTest(user=user.login, vals=vals),
                    self.assertRaises(AccessError) as caught,
                ):
                    job.with_user(user).write(vals)
                self.assertIn("not by hand", str(caught.exception))
        self.assertEqual(state(), before)
        # sent as they are, they pass; a technician's create ignores them
        job.with_user(self.technician).write(
            {"completed_on": False, "quotation_id": False, "name": "Trust job 2"}
        )
        created = (
            self.env["maintenance.request"]
            .with_user(self.technician)
            .create(
                {
                    "name": "Created completed",
                    "lot_id": self.unit.id,
                    "user_id": self.technician.id,
                    "completed_on": fields.Datetime.now(),
                    "quotation_id": cancelled.id,
                }
            )
        )
        self.assertFalse(created.completed_on or created.quotation_id)
        # completion by the technician still completes, moves and invoices
        job.with_user(self.technician).action_complete_job()
        self.assertTrue(job.completed_on)
        self.assertEqual(self._toner_in_van(), 4)
        self.assertEqual(len(job.invoice_ids), 1)
        self.assertEqual(len(job.service_line_ids), 2)

    def test_a_sale_line_cannot_claim_a_job_line(self):
        """The quotation link is the job's to set: linking a job line from
        a sales order line is refused."""
        job = self._job()
        toner = job.service_line_ids.filtered(
            lambda line: line.product_id == self.toner
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "user_id": self.manager.id,
                "order_line": [Command.create({"product_id": self.toner.id})],
            }
        )
        sale_line = order.order_line.with_user(self.manager)
        sale_line.name = "Toner for the job"
        with self.assertRaises(AccessError) as caught:
            sale_line.write({"service_line_ids": [Command.link(toner.id)]})
        self.assertIn("not by hand", str(caught.exception))
        toner.invalidate_recordset()
        self.assertFalse(toner.sale_line_id)


@tagged("post_install", "-at_install")
class TestTrustFrozen(TrustJobsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.job = cls._job()
        cls.job.with_user(cls.technician).action_complete_job()
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Trust pages", "code": "TRUST_PAGES"}
        )

    def _job_state(self):
        self.env.invalidate_all()
        job = self.job
        return (
            job.completed_on,
            job.stage_id,
            job.invoice_ids,
            self.env["account.move"].search_count([("invoice_origin", "=", job.name)]),
            job.service_line_ids.mapped("coverage_locked"),
            job.service_line_ids.invoice_line_id,
            job.service_line_ids.move_id,
            self._toner_in_van(),
            len(job.service_line_ids),
            len(job.meter_reading_ids),
        )

    def test_completed_lines_stay_frozen(self):
        self.assertEqual(self._toner_in_van(), 4)
        before = self._job_state()
        line = self.job.service_line_ids[0]
        other_line = self.env["account.move.line"].search(
            [("id", "not in", self.job.service_line_ids.invoice_line_id.ids)], limit=1
        )
        for user in (self.technician, self.manager):
            for vals in (
                {"coverage_locked": False},
                {"invoice_line_id": False},
                {"invoice_line_id": other_line.id},
                {"move_id": False},
                {"coverage_percent": 100, "coverage_override_reason": "x"},
            ):
                with (
                    self.subTest(user=user.login, vals=vals),
                    self.assertRaises(UserError),
                ):
                    line.with_user(user).write(vals)
        with self.assertRaises(UserError):
            line.write({"coverage_locked": False})
        self.assertEqual(self._job_state(), before)

    def test_completed_job_is_not_reopened_nor_completed_twice(self):
        before = self._job_state()
        open_stage = self.env["maintenance.stage"].search(
            [("done", "=", False)], limit=1
        )
        for job in (
            self.job.with_user(self.technician),
            self.job.with_user(self.manager),
            self.job,
        ):
            for vals in (
                {"completed_on": False},
                {"completed_on": fields.Datetime.now() - timedelta(days=3)},
                {"stage_id": open_stage.id},
            ):
                with self.subTest(user=job.env.user.login, vals=vals):
                    with self.assertRaises(UserError) as cm:
                        job.write(vals)
                    self.assertIn("cannot be reopened", str(cm.exception))
        self.job.with_user(self.manager).action_complete_job()
        self.assertEqual(self._job_state(), before)

    def test_completed_job_is_never_deleted(self):
        before = self._job_state()
        lines = self.job.service_line_ids
        for job in (
            self.job.with_user(self.technician),
            self.job.with_user(self.manager),
            self.job,
        ):
            with self.subTest(user=job.env.user.login), self.assertRaises(UserError):
                job.unlink()
        for user in (self.technician, self.manager):
            with self.subTest(user=user.login), self.assertRaises(UserError):
                self.job.with_user(user).write(
                    {"service_line_ids": [Command.unlink(lines[0].id)]}
                )
        self.assertTrue(self.job.exists())
        self.assertEqual(lines.exists(), lines)
        self.assertEqual(self._job_state(), before)

    def test_nothing_is_added_to_a_completed_job(self):
        before = self._job_state()
        for user in (self.technician, self.manager):
            Line = self.env["serial.service.line"].with_user(user)
            with self.subTest(user=user.login), self.assertRaises(UserError):
                Line.create({"request_id": self.job.id, "product_id": self.labour.id})
            with self.subTest(user=user.login), self.assertRaises(UserError):
                self.job.with_user(user).write(
                    {
                        "service_line_ids": [
                            Command.create({"product_id": self.toner.id})
                        ]
                    }
                )
            Reading = self.env["serial.meter.reading"].with_user(user)
            with self.subTest(user=user.login), self.assertRaises(UserError):
                Reading.create(
                    {
                        "lot_id": self.unit.id,
                        "meter_type_id": self.meter.id,
                        "value": 100,
                        "source": "technician",
                        "request_id": self.job.id,
                    }
                )
        # nor moved onto it from an open job
        open_job = self._job()
        with self.assertRaises(UserError):
            open_job.service_line_ids[0].with_user(
                self.technician
            ).request_id = self.job
        self.assertEqual(self._job_state(), before)
        # the form shows them read-only
        with Form(self.job.with_user(self.technician)) as form:
            with self.assertRaises(AssertionError):
                form.service_line_ids.new()
            with self.assertRaises(AssertionError):
                form.meter_reading_ids.new()

    def test_billed_reading_stays_billed(self):
        Reading = self.env["serial.meter.reading"]
        reading, unbilled = Reading.create(
            [
                {
                    "lot_id": self.unit.id,
                    "meter_type_id": self.meter.id,
                    "value": value,
                    "reading_date": fields.Datetime.now() - timedelta(days=days),
                }
                for value, days in ((100, 3), (150, 2))
            ]
        )
        invoice_line = self.job.invoice_ids.invoice_line_ids[0]
        reading.invoice_line_id = invoice_line
        for user in (self.technician, self.manager):
            with self.subTest(user=user.login):
                with self.assertRaises(UserError):
                    reading.with_user(user).write({"invoice_line_id": False})
                with self.assertRaises(AccessError):
                    unbilled.with_user(user).write({"invoice_line_id": invoice_line.id})
        with self.assertRaises(UserError):
            reading.write({"invoice_line_id": False})
        self.env.invalidate_all()
        self.assertEqual(reading.invoice_line_id, invoice_line)
        self.assertFalse(unbilled.invoice_line_id)
        with self.assertRaises(UserError):
            reading.with_user(self.manager).unlink()
        self.assertTrue(reading.exists())
        self.assertEqual((reading.value, unbilled.delta), (100, 50))

    def test_deleting_a_draft_invoice_still_unbills_its_readings(self):
        """The one way a reading leaves its invoice: the draft invoice (or its
        line) is deleted, the database clears the link."""
        reading = self.env["serial.meter.reading"].create(
            {
                "lot_id": self.unit.id,
                "meter_type_id": self.meter.id,
                "value": 100,
                "reading_date": fields.Datetime.now() - timedelta(days=1),
            }
        )
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_line_ids": [
                    Command.create({"name": "Pages", "quantity": 1, "price_unit": 1})
                ],
            }
        )
        reading.sudo().invoice_line_id = invoice.invoice_line_ids
        invoice.unlink()
        self.env.invalidate_all()
        self.assertFalse(reading.invoice_line_id)
        reading.with_user(self.manager).value = 110
        self.assertEqual(reading.value, 110)


@tagged("post_install", "-at_install")
class TestTrustSimulator(TrustJobsCase):
    def test_consultant_simulates_a_template_and_a_contract(self):
        Simulator = self.env["serial.coverage.simulator"].with_user(self.consultant)
        by_contract = Simulator.create(
            {
                "subscription_id": self.contract.id,
                "lot_id": self.covered_unit.id,
                "product_id": self.labour.id,
            }
        )
        self.assertEqual(
            (by_contract.source, by_contract.percent, by_contract.rule_id),
            ("contract", 100, self.rule),
        )
        template = self.contract.template_id
        template.coverage_rule_ids = [
            Command.create({"line_type": "consumable", "coverage_percent": 50})
        ]
        by_template = Simulator.create(
            {
                "template_id": template.id,
                "lot_id": self.unit.id,
                "product_id": self.toner.id,
            }
        )
        self.assertEqual((by_template.source, by_template.percent), ("contract", 50))
        self.assertTrue(by_template.reason)
