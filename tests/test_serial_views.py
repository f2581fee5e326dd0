from lxml import etree

from odoo.tests import Form, tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestSerialViews(SerialServiceCase):
    def _arch(self, view_type):
        return etree.fromstring(
            self.env["stock.lot"].get_view(view_type=view_type)["arch"]
        )

    def test_list_shows_warranty_contract_and_site(self):
        names = {f.get("name") for f in self._arch("list").iter("field")}
        for name in (
            "warranty_state",
            "warranty_end_date",
            "running_subscription_id",
            "site_id",
        ):
            self.assertIn(name, names)

    def test_form_summary_strip_at_top_of_sheet(self):
        sheet = self._arch("form").find(".//sheet")
        strip = sheet.find("div[@name='service_summary']")
        self.assertIsNotNone(strip, "the summary strip is a direct child of the sheet")
        position = list(sheet).index(strip)
        title = sheet.find("div[@class='oe_title']")
        self.assertIsNotNone(title)
        self.assertLess(position, list(sheet).index(title), "above the title")
        names = {f.get("name") for f in strip.iter("field")}
        self.assertEqual(
            names, {"warranty_state", "warranty_end_date", "running_subscription_id"}
        )

    def test_form_opens_with_summary_values(self):
        lot = self._make_lots(self.product_unit, ["VIEW-1"])
        form = Form(lot)
        self.assertEqual(form.warranty_state, lot.warranty_state)
        self.assertEqual(form.running_subscription_id, lot.running_subscription_id)
