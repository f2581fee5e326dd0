from odoo.tests import tagged
from odoo.tools.sql import index_exists

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestSerialLookup(SerialServiceCase):
    """Looking a serial up among millions: exact and 'starts with' searches
    are served by btree indexes, with the ORM's own semantics."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lots = cls._make_lots(
            cls.product_unit, ["ZQ9-0001", "zq9-0002", "ZQ90-0003", "ZQ8-0004"]
        )

    def _names(self, domain):
        return sorted(self.env["stock.lot"].search(domain).mapped("name"))

    def test_starts_with_is_case_insensitive(self):
        self.assertEqual(
            self._names([("name", "=ilike", "zq9-%")]), ["ZQ9-0001", "zq9-0002"]
        )
        self.assertEqual(
            self._names([("name", "=ilike", "ZQ9%")]),
            ["ZQ9-0001", "ZQ90-0003", "zq9-0002"],
        )
        # other patterns keep Odoo's ILIKE
        self.assertEqual(self._names([("name", "=ilike", "zq_-0004")]), ["ZQ8-0004"])
        self.assertEqual(self._names([("name", "=ilike", "%0003")]), ["ZQ90-0003"])

    def test_starts_with_uses_the_upper_case_index(self):
        query = self.env["stock.lot"]._search([("name", "=ilike", "ZQ9-%")])
        self.assertIn("upper(", str(query.where_clause.code))
        query = self.env["stock.lot"]._search([("name", "=ilike", "%ZQ9")])
        self.assertNotIn("upper(", str(query.where_clause.code))
        for index in (
            "stock_lot_name_pattern_index",
            "stock_lot_name_upper_pattern_index",
            "stock_lot__warranty_end_date_index",
        ):
            self.assertTrue(index_exists(self.env.cr, index), index)

    def test_search_view_offers_starts_with(self):
        arch = self.env["stock.lot"].get_views([(False, "search")])["views"]["search"][
            "arch"
        ]
        self.assertIn("Serial Starts With", arch)
