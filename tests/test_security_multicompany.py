"""Another company's users never reach this company's contract prices, tier
prices or serials, by id through the ORM; tier changes are noted on the
contract."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestSecurityMultiCompany(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Security Other Co"})
        cls.outsider = new_test_user(
            cls.env,
            login="sec_outsider",
            groups="serial_service.group_service_manager,"
            "serial_service.group_contract_consultant",
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Security pages", "code": "SECPAGES"}
        )
        cls.pages = cls.env["product.product"].create(
            {"name": "Security pages", "type": "service"}
        )
        template = cls.env["sale.subscription.template"].create(
            {"name": "Security MC care"}
        )
        cls.contract = cls._create_contract(
            cls.customer,
            None,
            template,
            lines=[{"product_id": cls.pages.id, "price_unit": 90}],
            tariffs=[
                {
                    "meter_type_id": cls.meter.id,
                    "product_id": cls.pages.id,
                    "tiers": [(0, 0.05), (1000, 0.04)],
                }
            ],
            running=False,
            date_start=fields.Date.today() - timedelta(days=5),
        )
        cls.line = cls.contract.sale_subscription_line_ids
        cls.tiers = cls.contract.usage_tariff_ids.tier_ids

    def test_other_company_cannot_read_or_change_contract_lines_and_tiers(self):
        outsider = self.outsider
        for records, vals in (
            (self.line, {"price_unit": 1}),
            (self.tiers, {"price_unit": 0}),
        ):
            with self.subTest(model=records._name):
                mine = records.with_user(outsider)
                self.assertFalse(
                    mine.search([("id", "in", records.ids)]), "not even listed"
                )
                with self.assertRaises(AccessError):
                    mine.read(["price_unit"])
                with self.assertRaises(AccessError):
                    mine.write(vals)
                with self.assertRaises(AccessError):
                    mine.unlink()
        self.env.invalidate_all()
        self.assertEqual(self.line.price_unit, 90)
        self.assertEqual(sorted(self.tiers.mapped("price_unit")), [0.04, 0.05])
        # this company's consultant still changes them
        self.tiers[1].with_user(self.consultant).price_unit = 0.03
        self.assertEqual(self.tiers[1].price_unit, 0.03)

    def test_tier_changes_are_noted_on_the_contract(self):
        contract = self.contract.with_context(tracking_disable=False)
        tiers = self.tiers.with_context(tracking_disable=False)
        before = len(contract.message_ids)
        tiers[1].with_user(self.consultant).price_unit = 0.03
        tiers.with_user(self.consultant).create(
            {"tariff_id": tiers.tariff_id.id, "from_qty": 5000, "price_unit": 0.02}
        )
        tiers[0].with_user(self.consultant).unlink()
        notes = contract.message_ids[: len(contract.message_ids) - before]
        self.assertEqual(len(notes), 3)
        bodies = " ".join(notes.mapped("body"))
        self.assertIn("Usage tier changed", bodies)
        self.assertIn("0.04", bodies)
        self.assertIn("0.03", bodies)
        self.assertIn("Usage tier added", bodies)
        self.assertIn("Usage tier removed", bodies)
        self.assertEqual(notes.author_id, self.consultant.partner_id)
