"""Hostile input, as the user who would send it: formula injection in the
exports, numbers no meter holds, ambiguous names and unreadable files in the
imports, and the device API's batch under load."""

import base64
import csv
import io
import json
from datetime import timedelta

import openpyxl
import xlsxwriter

from odoo import Command, fields, http
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SerialServiceCase

FORMULA = '=HYPERLINK("http://x","y")'
URL = "/serial_service/api/v1/readings"
# numbers no meter holds, as a spreadsheet or a form carries them (text)
HOSTILE_TEXTS = ["nan", "inf", "-inf", "1e400", "1234567890123456789012345"]


def _cell_by_value(workbook, value):
    """The first cell of the workbook holding value (formula or text)."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value == value:
                    return cell
    return None


@tagged("post_install", "-at_install")
class TestSecurityExports(SerialServiceCase):
    """A name typed as a formula stays text in every export: the spreadsheet
    of whoever opens the file runs nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.name = FORMULA
        cls.product_unit.name = FORMULA
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": FORMULA, "code": "XLSXSAFE"}
        )
        cls.lot = cls._make_lots(cls.product_unit, [FORMULA])
        cls.lot.customer_id = cls.customer
        cls.env["serial.meter.reading"].create(
            {
                "lot_id": cls.lot.id,
                "meter_type_id": cls.meter.id,
                "reading_date": fields.Datetime.now() - timedelta(days=3),
                "value": 10,
            }
        )

    def assertTextCell(self, content, value=FORMULA):
        # read back as written: a formula would come back with data_type "f"
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        cell = _cell_by_value(workbook, value)
        self.assertIsNotNone(cell, f"{value} is in the file")
        self.assertEqual(cell.data_type, "s", f"{cell.coordinate} is text")
        return workbook

    def test_kpi_export_writes_names_as_text(self):
        wizard = self.env["serial.kpi.export"].with_user(self.manager).create({})
        wizard.action_export()
        self.assertTextCell(base64.b64decode(wizard.file_data))

    def test_serial_overview_writes_names_as_text(self):
        content = self.lot.with_user(self.manager)._export_overview_xlsx()
        workbook = self.assertTextCell(content)
        sheet = workbook.active
        # serial (a link), item name, customer (a link): all text
        for column in (1, 3, 5):
            cell = sheet.cell(row=2, column=column)
            self.assertIn(FORMULA, cell.value)
            self.assertEqual(cell.data_type, "s", cell.coordinate)

    def test_a_formula_a_technician_types_stays_text_for_the_manager(self):
        """The attacker is whoever names a record: a technician registering a
        serial named as a formula; the manager's export runs nothing."""
        typed = '=HYPERLINK("http://evil.example.com","Open")'
        lot = (
            self.env["stock.lot"]
            .with_user(self.technician)
            .create({"name": typed, "product_id": self.product_unit.id})
        )
        content = lot.with_user(self.manager)._export_overview_xlsx()
        self.assertTextCell(content, typed)

    def test_contract_term_report_writes_names_as_text(self):
        contract = self.env["sale.subscription"].create(
            {
                "partner_id": self.customer.id,
                "template_id": self.env["sale.subscription.template"]
                .create({"name": "Export care"})
                .id,
                "pricelist_id": self.env["product.pricelist"]
                .create({"name": "Export"})
                .id,
                "date_start": fields.Date.today() - timedelta(days=30),
                "covered_lot_ids": [Command.set(self.lot.ids)],
            }
        )
        self.assertTextCell(contract._export_term_xlsx())

    def test_installed_base_template_is_plain_text(self):
        wizard = self.env["serial.installed.base.import"].create({})
        content = wizard._build_template_xlsx()
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        kinds = {
            cell.data_type
            for sheet in workbook.worksheets
            for row in sheet.iter_rows()
            for cell in row
            if cell.value is not None
        }
        self.assertNotIn("f", kinds)

    def test_meter_import_bad_rows_file_neutralises_formulas(self):
        lines = [
            "serial,meter,date,value",
            # the serial exists: refused for its date in the future
            f'"{FORMULA.replace(chr(34), chr(34) * 2)}",XLSXSAFE,2999-01-01,5',
            "@SUM(A1),XLSXSAFE,2026-01-01,-5",
            "+1,XLSXSAFE,2026-01-01,5",
        ]
        wizard = self.env["serial.meter.reading.import"].create(
            {
                "file": base64.b64encode("\n".join(lines).encode()),
                "filename": "readings.csv",
                "mode": "good",
            }
        )
        before = self.env["serial.meter.reading"].search_count([])
        wizard.action_import()
        self.assertEqual(self.env["serial.meter.reading"].search_count([]), before)
        bad = list(
            csv.reader(io.StringIO(base64.b64decode(wizard.bad_rows_file).decode()))
        )
        header = bad[0]
        serials = [line[header.index("serial")] for line in bad[1:]]
        self.assertEqual(serials, ["'" + FORMULA, "'@SUM(A1)", "'+1"])
        self.assertEqual(bad[2][header.index("value")], "'-5")
        for line in bad[1:]:
            for cell in line:
                self.assertFalse(cell.startswith(("=", "+", "-", "@")), cell)


def _xlsx(header, rows):
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, header)
    for number, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            # text cells stay text ("nan" is no number for xlsxwriter either)
            sheet.write_string(number, col, str(value))
    workbook.close()
    return output.getvalue()


@tagged("post_install", "-at_install")
class TestSecurityDeviceInput(HttpCase):
    """The device API over HTTP, as the gateway's API key: numbers no meter
    holds and oversized bodies get a 400 / 413 with the reason, nothing
    written."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.gateway = new_test_user(
            cls.env,
            login="hostile_gateway",
            groups="serial_service.group_service_technician",
        )
        cls.key = (
            cls.env["res.users.apikeys"]
            .with_user(cls.gateway)
            .sudo()
            ._generate(None, "Hostile gateway", None)
        )
        product = cls.env["product.product"].create(
            {
                "name": "Hostile copier",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
                "default_code": "HOSTILE-COPIER",
            }
        )
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Hostile black", "code": "HOSTBLACK"}
        )
        # the device API reaches its key's company's serials only
        cls.lot = cls.env["stock.lot"].create(
            {
                "name": "HOST-1",
                "product_id": product.id,
                "company_id": cls.env.company.id,
            }
        )
        cls.env["serial.meter.reading"].create(
            {
                "lot_id": cls.lot.id,
                "meter_type_id": cls.meter.id,
                "reading_date": cls.now - timedelta(days=30),
                "value": 1000,
            }
        )

    def _post_raw(self, raw):
        response = self.url_open(
            URL,
            data=raw,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.key}",
            },
        )
        self.env.invalidate_all()
        return response

    def _body_with_value(self, value_text):
        """The JSON text of one reading whose value is value_text, verbatim."""
        item = {
            "serial": "HOST-1",
            "meter": "HOSTBLACK",
            "date": (self.now - timedelta(days=1)).isoformat() + "Z",
            "value": "VALUE",
        }
        return json.dumps({"readings": [item]}).replace('"VALUE"', value_text)

    def _count(self):
        return self.env["serial.meter.reading"].search_count(
            [("lot_id", "=", self.lot.id)]
        )

    def test_numbers_no_meter_holds_are_refused(self):
        cases = [
            ("NaN", "not a finite number"),
            ("Infinity", "not a finite number"),
            ("-Infinity", "not a finite number"),
            ("1e400", "not a finite number"),
            ("1234567890123456789012345", "not a finite number"),
            # finite for JSON, but beyond any meter
            ("1e300", "not a finite number below"),
            ("-5", "cannot be negative"),
        ]
        for text, message in cases:
            with self.subTest(text):
                response = self._post_raw(self._body_with_value(text))
                self.assertEqual(response.status_code, 400, response.text)
                errors = response.json()["errors"]
                self.assertEqual(len(errors), 1)
                self.assertIn(message, errors[0]["message"])
                self.assertEqual(self._count(), 1, "nothing written")
        # the same reading with a plain number is recorded
        response = self._post_raw(self._body_with_value("1200"))
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(self._count(), 2)

    def test_oversized_body_is_refused_before_reading_it(self):
        padding = " " * (4 * 1024 * 1024)
        response = self._post_raw(self._body_with_value("1200") + padding)
        self.assertEqual(response.status_code, 413, response.text)
        self.assertIn("larger than", response.json()["errors"][0]["message"])
        self.assertEqual(self._count(), 1, "nothing written")

    # --- load: bad items found in one pass ---
    def _gateway_readings(self):
        env = self.env(
            user=self.gateway,
            context=dict(self.env.context, allowed_company_ids=[self.env.company.id]),
        )
        return env["serial.meter.reading"]

    def _items_with_one_duplicate(self, size):
        """size readings after the baseline, the middle one at the baseline's
        own time (a duplicate of a recorded reading)."""
        start = self.now - timedelta(days=29)
        items = [
            {
                "serial": "HOST-1",
                "meter": "HOSTBLACK",
                "date": (start + timedelta(minutes=n)).isoformat(),
                "value": 1001 + n,
            }
            for n in range(size)
        ]
        items[size // 2]["date"] = (self.now - timedelta(days=30)).isoformat()
        return items

    def _record_with_one_duplicate(self, size):
        answer = self._gateway_readings()._api_record_readings(
            {"readings": self._items_with_one_duplicate(size)}
        )
        self.assertEqual([error["index"] for error in answer["errors"]], [size // 2])
        self.assertIn("already has a reading", answer["errors"][0]["message"])

    def test_one_duplicate_in_a_batch_costs_the_queries_of_a_small_batch(self):
        """One duplicate among 2,000 readings is found with the queries of a
        batch of 20 (no reading created one by one to find it)."""
        self._record_with_one_duplicate(5)  # warm the caches
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        self._record_with_one_duplicate(20)
        small_count = self.env.cr.sql_log_count - before
        with self.assertQueryCount(small_count):
            self._record_with_one_duplicate(2000)
        self.assertEqual(self._count(), 1, "nothing written")

    def test_backdated_items_are_checked_against_the_recorded_chain(self):
        Reading = self.env["serial.meter.reading"]
        Reading.create(
            {
                "lot_id": self.lot.id,
                "meter_type_id": self.meter.id,
                "reading_date": self.now - timedelta(days=10),
                "value": 1500,
            }
        )

        def item(days_ago, value):
            moment = self.now - timedelta(days=days_ago)
            return {
                "serial": "HOST-1",
                "meter": "HOSTBLACK",
                "date": moment.isoformat(),
                "value": value,
            }

        items = [
            item(20, 1600),  # above the recorded 1500 that follows it
            item(5, 1400),  # below the recorded 1500 before it
            item(25, 1200),  # fits between 1000 and 1600
            item(4, 1700),  # fits after 1500
            item(3, 1700),  # equal: no usage, fine
        ]
        answer = self._gateway_readings()._api_record_readings({"readings": items})
        errors = {error["index"]: error["message"] for error in answer["errors"]}
        self.assertEqual(sorted(errors), [0, 1])
        self.assertIn("higher than the next one (1500", errors[0])
        self.assertIn("lower than the previous one (1500", errors[1])
        self.assertEqual(self._count(), 2, "nothing written")
        answer = self._gateway_readings()._api_record_readings({"readings": items[2:]})
        self.assertEqual(len(answer["recorded"]), 3, answer)
        self.assertEqual(self._count(), 5)


@tagged("post_install", "-at_install")
class TestSecurityPortalInput(SerialServiceCase, HttpCase):
    """The portal reading form, as the customer: text that float() reads as
    a number no meter holds is refused, nothing written."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Hostile portal pages", "code": "HOSTPORT"}
        )
        cls.product_unit.meter_type_ids = cls.meter
        cls.lot = cls._make_lots(cls.product_unit, ["HOST-PORTAL-1"])
        cls.lot.customer_id = cls.customer
        cls.portal_user = new_test_user(
            cls.env, login="hostile_portal", groups="base.group_portal", tz="UTC"
        )
        cls.portal_user.partner_id.parent_id = cls.customer

    def _post(self, value):
        moment = fields.Datetime.now() - timedelta(hours=1)
        return self.url_open(
            f"/my/serials/{self.lot.id}/reading",
            data={
                "meter_id": self.meter.id,
                "reading_date": moment.strftime("%Y-%m-%dT%H:%M"),
                "value": value,
                "csrf_token": http.Request.csrf_token(self),
            },
        )

    def test_numbers_no_meter_holds_are_refused(self):
        self.authenticate("hostile_portal", "hostile_portal")
        Reading = self.env["serial.meter.reading"]
        for value, message in [
            ("nan", "must be a number"),
            ("inf", "must be a number"),
            ("-inf", "must be a number"),
            ("1e400", "must be a number"),
            ("1e300", "not a finite number below"),
            ("1e40", "not a finite number below"),
        ]:
            with self.subTest(value):
                page = self._post(value)
                self.assertEqual(page.status_code, 200)
                self.assertIn("o_portal_reading_error", page.text)
                self.assertIn(message, page.text)
                self.assertFalse(Reading.search([("lot_id", "=", self.lot.id)]))


@tagged("post_install", "-at_install")
class TestSecurityImportInput(SerialServiceCase):
    """The meter and installed-base imports, as the service manager who runs
    them: numbers no meter holds, serials and names that are ambiguous, files
    that cannot be read: a row-numbered problem or a clear error, nothing
    written."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Hostile import pages", "code": "HOSTIMP"}
        )
        cls.product_unit.default_code = "HOST-UNIT"
        cls.product_twin = cls._make_product(
            "Twin Copier", categ=cls.categ_equipment, default_code="HOST-TWIN"
        )
        # two products, one serial number: two customers' units
        cls.lot = cls._make_lots(cls.product_unit, ["HOST-SHARED"])
        cls.twin_lot = cls._make_lots(cls.product_twin, ["HOST-SHARED"])
        cls.lot.customer_id = cls.customer
        cls.twin_lot.customer_id = cls.other_customer

    def _snapshot(self):
        return {
            "lots": self.env["stock.lot"].search_count([]),
            "readings": self.env["serial.meter.reading"].search_count([]),
            "moves": self.env["stock.move"].search_count([]),
            "partners": self.env["res.partner"].search_count([]),
        }

    def _meter_import(self, content, filename="readings.csv", mode="all"):
        wizard = (
            self.env["serial.meter.reading.import"]
            .with_user(self.manager)
            .create(
                {
                    "file": base64.b64encode(content),
                    "filename": filename,
                    "mode": mode,
                }
            )
        )
        wizard.action_import()
        return wizard

    def _base_import(self, content, filename="base.xlsx"):
        wizard = (
            self.env["serial.installed.base.import"]
            .with_user(self.manager)
            .create({"file": base64.b64encode(content), "filename": filename})
        )
        wizard.action_apply()
        return wizard

    def _problem(self, wizard, row):
        return next(
            (p for p in wizard.problems.splitlines() if p.startswith(f"Row {row}:")),
            "",
        )

    # --- numbers ---
    def test_meter_import_refuses_numbers_no_meter_holds(self):
        header = ["serial", "product", "meter", "date", "value"]
        rows = [
            ["HOST-SHARED", "HOST-UNIT", "HOSTIMP", f"2026-01-0{day}", text]
            for day, text in enumerate(HOSTILE_TEXTS, start=1)
        ]
        before = self._snapshot()
        for content, filename in (
            (_xlsx(header, rows), "readings.xlsx"),
            (
                "\n".join(",".join(line) for line in [header, *rows]).encode(),
                "readings.csv",
            ),
        ):
            with self.subTest(filename):
                wizard = self._meter_import(content, filename)
                self.assertEqual(wizard.imported_count, 0)
                self.assertEqual(wizard.problem_count, len(HOSTILE_TEXTS))
                for row in range(2, 2 + len(HOSTILE_TEXTS)):
                    self.assertIn("not a finite number", self._problem(wizard, row))
                self.assertEqual(self._snapshot(), before, "nothing written")

    def test_installed_base_import_refuses_numbers_no_meter_holds(self):
        header = [
            "serial",
            "product",
            "customer",
            "delivery_date",
            "meter_HOSTIMP",
        ]
        rows = [
            [f"HOST-NEW-{n}", "HOST-UNIT", "Test Customer", "2025-01-01", text]
            for n, text in enumerate(HOSTILE_TEXTS)
        ]
        before = self._snapshot()
        wizard = self._base_import(_xlsx(header, rows))
        self.assertEqual(wizard.state, "checked", "nothing imported")
        self.assertEqual(wizard.problem_count, len(HOSTILE_TEXTS))
        for row in range(2, 2 + len(HOSTILE_TEXTS)):
            self.assertIn(
                "meter HOSTIMP: Value", self._problem(wizard, row), f"row {row}"
            )
        self.assertEqual(self._snapshot(), before, "nothing written")

    # --- ambiguous names ---
    def test_meter_import_refuses_a_serial_two_products_share(self):
        header = ["serial", "meter", "date", "value"]
        before = self._snapshot()
        wizard = self._meter_import(
            _xlsx(header, [["HOST-SHARED", "HOSTIMP", "2026-01-01", "10"]]),
            "readings.xlsx",
        )
        self.assertEqual(wizard.imported_count, 0)
        self.assertIn("belongs to several products", self._problem(wizard, 2))
        self.assertIn("product column", self._problem(wizard, 2))
        self.assertEqual(self._snapshot(), before, "nothing written")

    def test_meter_import_product_column_picks_the_serial(self):
        header = ["serial", "product", "meter", "date", "value"]
        rows = [
            ["HOST-SHARED", "HOST-TWIN", "HOSTIMP", "2026-01-01", "10"],
            ["HOST-SHARED", "Test Copier", "HOSTIMP", "2026-01-02", "20"],
            ["HOST-SHARED", "NOPE", "HOSTIMP", "2026-01-03", "30"],
        ]
        wizard = self._meter_import(_xlsx(header, rows), "readings.xlsx", "good")
        self.assertEqual(wizard.imported_count, 2)
        self.assertIn("unknown serial HOST-SHARED of product NOPE", wizard.problems)
        self.assertEqual(self.twin_lot.meter_reading_ids.mapped("value"), [10])
        self.assertEqual(self.lot.meter_reading_ids.mapped("value"), [20])

    def test_installed_base_import_refuses_ambiguous_partners_and_products(self):
        Partner = self.env["res.partner"]
        Partner.create([{"name": "Twin Clinic", "is_company": True}] * 2)
        self._make_product("Clone", default_code="HOST-CLONE")
        self._make_product("Clone 2", default_code="HOST-CLONE")
        header = ["serial", "product", "customer", "supplier", "delivery_date"]
        rows = [
            ["HOST-A", "HOST-UNIT", "Twin Clinic", "", "2025-01-01"],
            ["HOST-B", "HOST-CLONE", "Test Customer", "", "2025-01-01"],
            ["HOST-C", "HOST-UNIT", "Test Customer", "Twin Clinic", "2025-01-01"],
            ["HOST-D", "HOST-UNIT", "Test Customer", "", "2025-01-01"],
        ]
        before = self._snapshot()
        wizard = self._base_import(_xlsx(header, rows))
        self.assertEqual(wizard.state, "checked", "nothing imported")
        self.assertEqual(wizard.problem_count, 3)
        self.assertIn("customer Twin Clinic names several partners", wizard.problems)
        self.assertIn("several products have the reference", self._problem(wizard, 3))
        self.assertIn("supplier Twin Clinic names several", self._problem(wizard, 4))
        self.assertNotIn("unknown", wizard.problems)
        self.assertEqual(self._snapshot(), before, "nothing written")

    # --- unreadable files ---
    def test_unreadable_csv_files_get_a_clear_error(self):
        latin1 = "serial,meter,date,value\nCAFÉ-1,HOSTIMP,2026-01-01,5\n"
        cases = [
            (latin1.encode("latin-1"), "not UTF-8"),
            (b"serial|meter|date|value\nX|HOSTIMP|2026-01-01|5\n", "not separated"),
            (b"\n\n", "empty"),
        ]
        before = self._snapshot()
        for content, message in cases:
            with self.subTest(message):
                with self.assertRaises(UserError) as meter_error:
                    self._meter_import(content)
                self.assertIn(message, str(meter_error.exception))
                with self.assertRaises(UserError) as base_error:
                    self._base_import(content, "base.csv")
                self.assertIn(message, str(base_error.exception))
                self.assertEqual(self._snapshot(), before, "nothing written")
