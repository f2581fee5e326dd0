"""The whole job on a phone, in a real browser: the tour
static/src/tours/serial_service_job_tour.js, then the database."""

from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged

from .common import SerialServiceCase


class JobTourCase(HttpCase, SerialServiceCase):
    """A dispatched job for the technician, its unit at the customer, a part
    in the van, a contract covering labour."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = fields.Date.context_today(cls.env["stock.lot"])
        cls.tax = cls.env["account.tax"].create(
            {"name": "Tour VAT 10%", "amount": 10, "type_tax_use": "sale"}
        )
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Tour pages", "code": "TOURPAGES"}
        )
        cls.product_unit.meter_type_ids = cls.meter
        cls.fuser = cls._make_product(
            "Tour Fuser",
            service_line_type="part",
            list_price=300,
            taxes_id=[Command.set(cls.tax.ids)],
        )
        cls.labour = cls.env["product.product"].create(
            {
                "name": "Tour Labour",
                "type": "service",
                "service_line_type": "labour",
                "list_price": 60,
                "taxes_id": [Command.set(cls.tax.ids)],
            }
        )
        cls.customer.name = "Tour Customer"
        cls.van = cls.env["stock.location"].create(
            {
                "name": "Tour Van",
                "usage": "internal",
                "location_id": cls.warehouse.view_location_id.id,
            }
        )
        cls.technician.van_location_id = cls.van
        cls.unit = cls._make_lots(cls.product_unit, ["TOUR-UNIT"])
        cls._receive(cls.unit)
        cls._deliver(cls.unit)
        cls.new_fuser = cls._make_lots(cls.fuser, ["TOUR-FUSER-NEW"])
        cls.env["stock.quant"]._update_available_quantity(
            cls.fuser, cls.van, 1, lot_id=cls.new_fuser
        )
        cls.env["serial.meter.reading"].create(
            {
                "lot_id": cls.unit.id,
                "meter_type_id": cls.meter.id,
                "reading_date": fields.Datetime.now() - timedelta(days=30),
                "value": 900,
            }
        )
        template = cls.env["sale.subscription.template"].create(
            {"name": "Tour Care", "code": "TOUR"}
        )
        cls.contract = cls._create_contract(
            cls.customer,
            cls.unit,
            template,
            rules=[{"line_type": "labour", "coverage_percent": 100}],
            date_start=today - timedelta(days=10),
        )
        # the job as dispatched: a technician, an hour of labour, no unit yet
        cls.job = cls.env["maintenance.request"].create(
            {
                "name": "Tour copier jams",
                "user_id": cls.technician.id,
                "schedule_date": fields.Datetime.now(),
                "service_line_ids": [Command.create({"product_id": cls.labour.id})],
            }
        )
        cls.overdue_job = cls.env["maintenance.request"].create(
            {
                "name": "Tour overdue visit",
                "user_id": cls.technician.id,
                "schedule_date": fields.Datetime.now() - timedelta(days=2),
            }
        )
        cls.colleague_job = cls.env["maintenance.request"].create(
            {"name": "Tour colleague's job", "user_id": cls.manager.id}
        )


@tagged("post_install", "-at_install")
class TestJobTour(JobTourCase):
    # a phone: Odoo's web client switches to its small-screen layout
    browser_size = "375x667"
    touch_enabled = True

    def test_job_on_a_phone(self):
        action = self.env.ref("serial_service.maintenance_request_action_my_jobs")
        self.start_tour(
            f"/odoo/action-{action.id}",
            "serial_service_job_tour",
            login=self.technician.login,
        )
        job = self.job
        customers = self.customer_location
        # the scan set the unit, its customer, contract and equipment
        self.assertEqual(job.lot_id, self.unit)
        self.assertEqual(job.customer_id, self.customer)
        self.assertEqual(job.subscription_id, self.contract)
        self.assertTrue(self.unit.equipment_id)
        self.assertEqual(job.equipment_id, self.unit.equipment_id)
        # completed
        self.assertTrue(job.completed_on)
        self.assertTrue(job.stage_id.done)
        labour, part = job.service_line_ids.sorted("id")
        self.assertEqual((part.product_id, part.lot_id), (self.fuser, self.new_fuser))
        self.assertEqual(part.location_id, self.van)
        # stock: one done move of the serial from the van to the customer
        move = part.move_id
        self.assertEqual(move.state, "done")
        self.assertEqual(
            (move.location_id, move.location_dest_id), (self.van, customers)
        )
        self.assertEqual(move.move_line_ids.lot_id, self.new_fuser)
        self.assertEqual(move.quantity, 1)
        self.assertFalse(labour.move_id, "labour moves no stock")
        self.assertEqual(
            self.env["stock.quant"]._get_available_quantity(
                self.fuser, self.van, lot_id=self.new_fuser, strict=True
            ),
            0,
        )
        self.assertEqual(self.new_fuser.location_id, customers)
        self.assertEqual(self.new_fuser.parent_lot_id, self.unit)
        # the draft invoice: the fuser at 300, the labour covered by the
        # contract at 100 % discount; 10 % tax on 300
        invoice = job.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(
            (invoice.state, invoice.move_type, invoice.partner_id),
            ("draft", "out_invoice", self.customer),
        )
        lines = invoice.invoice_line_ids.sorted("id")
        self.assertEqual(
            [
                (line.product_id, line.quantity, line.price_unit, line.discount)
                for line in lines
            ],
            [(self.labour, 1, 60, 100), (self.fuser, 1, 300, 0)],
        )
        self.assertIn("TOUR-FUSER-NEW", lines[1].name)
        self.assertIn(self.contract.name, lines[0].name)
        self.assertEqual(part.invoice_line_id, lines[1])
        self.assertAlmostEqual(invoice.amount_untaxed, 300)
        self.assertAlmostEqual(invoice.amount_tax, 30)
        self.assertAlmostEqual(invoice.amount_total, 330)
        # the reading and the signature
        reading = job.meter_reading_ids
        self.assertEqual(
            (reading.value, reading.delta, reading.source, reading.meter_type_id),
            (1400, 500, "technician", self.meter),
        )
        self.assertEqual(job.signed_by, "Dana Customer")
        self.assertTrue(job.signature)
        self.assertTrue(job.signed_on)
        # the colleague's job was never shown nor touched
        self.assertFalse(self.colleague_job.lot_id)


@tagged("post_install", "-at_install")
class TestJobTourDesktop(JobTourCase):
    """The phone bar keeps the desktop form usable: a row of buttons, Complete
    in the header, the lines in a list."""

    def test_job_on_a_desktop(self):
        action = self.env.ref("serial_service.maintenance_request_action_my_jobs")
        self.start_tour(
            f"/odoo/action-{action.id}",
            "serial_service_job_desktop_tour",
            login=self.technician.login,
        )
        self.assertEqual(self.job.lot_id, self.unit)
        self.assertEqual(self.job.service_line_ids.coverage_source, "contract")
        self.assertFalse(self.job.completed_on)
