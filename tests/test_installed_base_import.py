import base64
import io
from datetime import date

import xlsxwriter

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import SerialServiceCase

HEADER = [
    "serial",
    "product",
    "customer",
    "site",
    "delivery_date",
    "installation_date",
    "warranty_end",
    "supplier",
    "receipt_date",
    "contract",
    "meter_IBLACK",
    "meter_IBLACK_date",
]


@tagged("post_install", "-at_install")
class TestInstalledBaseImport(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy = cls.env["serial.warranty.policy"].create(
            {"name": "Two years", "duration_months": 24}
        )
        cls.product_unit.write(
            {"default_code": "IB-COPIER", "warranty_policy_id": cls.policy.id}
        )
        cls.product_unit_plain = cls._make_product(
            "Untracked Unit", tracking="none", default_code="IB-PLAIN"
        )
        cls.customer.ref = "CUST-001"
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Black pages (import test)", "code": "IBLACK"}
        )
        template = cls.env["sale.subscription.template"].create({"name": "Care"})
        pricelist = cls.env["product.pricelist"].create({"name": "Import test"})
        # contracts in their first stage: the import links serials to them
        cls.contract = cls._create_contract(
            cls.customer, None, template, pricelist=pricelist, running=False
        )
        cls.other_contract = cls._create_contract(
            cls.other_customer, None, template, pricelist=pricelist, running=False
        )
        cls.good_rows = [
            [
                "IB-1",
                "IB-COPIER",
                "CUST-001",
                "2 Quay Street",
                "2025-03-01",
                "2025-03-04",
                "",
                "Test Vendor",
                "2025-02-20",
                cls.contract.code,
                125000,
                "2026-10-31",
            ],
            [
                "IB-2",
                "IB-COPIER",
                "Test Customer",
                "",
                "2025-06-10",
                "",
                "2027-12-31",
                "",
                "",
                "",
                "",
                "",
            ],
        ]

    def _xlsx(self, rows):
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, HEADER)
        for number, row in enumerate(rows, start=1):
            sheet.write_row(number, 0, row)
        workbook.close()
        return output.getvalue()

    def _csv(self, rows):
        lines = [",".join(HEADER)] + [",".join(str(v) for v in row) for row in rows]
        return ("\n".join(lines) + "\n").encode()

    def _wizard(self, content, filename="base.xlsx", user=None):
        env = self.env(user=user) if user else self.env
        return env["serial.installed.base.import"].create(
            {"file": base64.b64encode(content), "filename": filename}
        )

    def _snapshot(self):
        return {
            "lots": self.env["stock.lot"].search_count([]),
            "moves": self.env["stock.move"].search_count([]),
            "readings": self.env["serial.meter.reading"].search_count([]),
            "equipment": self.env["maintenance.equipment"].search_count([]),
            "messages": self.env["mail.message"].search_count(
                [("model", "=", "stock.lot")]
            ),
        }

    def test_dry_run_reports_every_bad_row_and_writes_nothing(self):
        at_other = self._make_lots(self.product_unit, ["IB-OTHER"])
        self._receive(at_other)
        self._deliver(at_other, partner=self.other_customer)

        def row(serial, product="IB-COPIER", customer="CUST-001", **values):
            values = {"delivery_date": "2025-01-01", **values}
            base = dict(zip(HEADER, [""] * len(HEADER), strict=True))
            base.update(serial=serial, product=product, customer=customer, **values)
            return [base[column] for column in HEADER]

        bad_rows = [
            row("IB-10", product="NOPE"),
            row("IB-11", customer="Nobody Ltd"),
            row("IB-12", product="IB-PLAIN"),
            row("IB-13"),
            row("IB-13"),
            row("IB-OTHER"),
            row("IB-14", delivery_date="2025-05-01", installation_date="2025-04-01"),
            row("IB-15", delivery_date="2999-01-01"),
            row("IB-16", meter_IBLACK="lots"),
            row("IB-17", contract=self.other_contract.code),
        ]
        before = self._snapshot()
        wizard = self._wizard(self._xlsx([*self.good_rows, *bad_rows]))
        wizard.action_dry_run()
        problems = wizard.problems.splitlines()
        expected = {
            4: "unknown product reference NOPE",
            5: "unknown customer Nobody Ltd",
            6: "not tracked by serial number",
            7: "appears more than once in the file",
            8: "appears more than once in the file",
            9: "already at another customer (Other Customer)",
            10: "delivery_date 2025-05-01 is after installation_date 2025-04-01",
            11: "delivery_date 2999-01-01 is in the future",
            12: "meter IBLACK value lots is not a number",
            13: "belongs to Other Customer, not to Test Customer",
        }
        self.assertEqual(wizard.problem_count, len(expected))
        for row, reason in expected.items():
            line = next((p for p in problems if p.startswith(f"Row {row}:")), "")
            self.assertIn(reason, line, f"row {row}")
        self.assertEqual(wizard.serials_to_create, 2, "the two good rows")
        self.assertEqual(self._snapshot(), before, "a dry run writes nothing")
        wizard.action_apply()
        self.assertEqual(wizard.state, "checked", "nothing imported")
        self.assertEqual(self._snapshot(), before, "all or nothing")

    def test_good_file_lands_serials_at_the_customer(self):
        wizard = self._wizard(self._xlsx(self.good_rows))
        wizard.action_dry_run()
        self.assertEqual(wizard.problem_count, 0, wizard.problems)
        self.assertEqual(
            (
                wizard.serials_to_create,
                wizard.serials_to_update,
                wizard.equipment_to_create,
                wizard.contract_links,
                wizard.baseline_readings,
            ),
            (2, 0, 2, 1, 1),
        )
        wizard.action_apply()
        self.assertEqual(wizard.state, "done")
        lot1, lot2 = (
            self.env["stock.lot"].search([("name", "=", name)])
            for name in ("IB-1", "IB-2")
        )
        customer_location = self.env.ref("stock.stock_location_customers")
        for lot in lot1 | lot2:
            quants = self.env["stock.quant"].search(
                [("lot_id", "=", lot.id), ("quantity", ">", 0)]
            )
            self.assertEqual(quants.location_id, customer_location)
            self.assertEqual(quants.quantity, 1.0)
            self.assertEqual(lot.customer_id, self.customer)
            self.assertEqual(lot.equipment_id.customer_id, self.customer)
            self.assertEqual(lot.warranty_policy_id, self.policy)
        self.assertEqual(lot1.delivery_date, date(2025, 3, 1))
        self.assertEqual(lot1.installation_date, date(2025, 3, 4))
        self.assertEqual(lot1.supplier_id, self.vendor)
        self.assertEqual(lot1.receipt_date, date(2025, 2, 20))
        self.assertEqual(lot1.site_id.street, "2 Quay Street")
        self.assertEqual(lot1.site_id.parent_id, self.customer)
        self.assertEqual(lot1.warranty_end_date, date(2027, 2, 28), "24 months - 1 day")
        self.assertEqual(lot2.warranty_end_date, date(2027, 12, 31), "from the file")
        self.assertEqual(self.contract.covered_lot_ids, lot1)
        reading = lot1.meter_reading_ids
        self.assertEqual(len(reading), 1)
        self.assertEqual(
            (reading.meter_type_id, reading.value, reading.source, reading.delta),
            (self.meter, 125000.0, "import", 0.0),
        )
        self.assertEqual(reading.reading_date.date(), date(2026, 10, 31))
        note = lot1.message_ids.filtered(
            lambda m: "installed base file" in (m.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertIn(self.env.user.name, note.body)

    def test_reimport_is_a_no_op_and_a_correction_updates_one_field(self):
        self._wizard(self._xlsx(self.good_rows)).action_apply()
        before = self._snapshot()
        again = self._wizard(self._xlsx(self.good_rows))
        again.action_apply()
        self.assertEqual(again.state, "done")
        self.assertEqual(
            (again.serials_to_create, again.serials_to_update, again.serials_unchanged),
            (0, 0, 2),
        )
        self.assertEqual(self._snapshot(), before, "re-importing changes nothing")

        corrected = [list(row) for row in self.good_rows]
        corrected[1][5] = "2025-06-12"  # IB-2 installation date
        fix = self._wizard(self._xlsx(corrected))
        fix.action_apply()
        self.assertEqual((fix.serials_to_update, fix.serials_unchanged), (1, 1))
        lot2 = self.env["stock.lot"].search([("name", "=", "IB-2")])
        self.assertEqual(lot2.installation_date, date(2025, 6, 12))
        after = self._snapshot()
        self.assertEqual(after["moves"], before["moves"], "no stock moved again")
        self.assertEqual(after["lots"], before["lots"])

    def test_csv_and_xlsx_give_the_same_result(self):
        fields_to_compare = [
            "customer_id",
            "delivery_date",
            "installation_date",
            "warranty_end_date",
            "supplier_id",
            "receipt_date",
        ]
        self._wizard(self._csv(self.good_rows), filename="base.csv").action_apply()
        lots = self.env["stock.lot"].search([("name", "in", ["IB-1", "IB-2"])])
        from_csv = lots.read(fields_to_compare)
        readings_csv = lots.meter_reading_ids.mapped("value")
        # same file as xlsx on renamed serials
        renamed = [["X" + row[0], *row[1:]] for row in self.good_rows]
        renamed[0][9] = ""  # the contract link was checked above
        self._wizard(self._xlsx(renamed)).action_apply()
        lots_xlsx = self.env["stock.lot"].search([("name", "in", ["XIB-1", "XIB-2"])])
        from_xlsx = lots_xlsx.read(fields_to_compare)
        for row in from_csv + from_xlsx:
            row.pop("id")
        self.assertEqual(from_csv, from_xlsx)
        self.assertEqual(readings_csv, lots_xlsx.meter_reading_ids.mapped("value"))

    def test_template_has_the_columns_and_their_help(self):
        import openpyxl

        wizard = self._wizard(self._xlsx(self.good_rows))
        wizard.action_download_template()
        workbook = openpyxl.load_workbook(
            io.BytesIO(base64.b64decode(wizard.template_file))
        )
        header = [c.value for c in workbook.worksheets[0][1]]
        self.assertEqual(header[:10], HEADER[:10])
        self.assertEqual(workbook.worksheets[0].max_row, 2, "one example row")
        explained = [
            row[0].value for row in workbook.worksheets[1].iter_rows(min_row=2)
        ]
        self.assertIn("warranty_end", explained)

    def test_technician_cannot_run_the_import(self):
        with self.assertRaises(AccessError):
            self._wizard(self._xlsx(self.good_rows), user=self.technician)
