import base64
import csv
import io
from collections import Counter, defaultdict
from datetime import date, datetime, time

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..report.xlsx_safe import new_workbook

# Columns of the import file, in the order of the downloadable template, with
# the sentence the template's second sheet shows for each.
COLUMNS = [
    ("serial", "Serial number of the unit (required)."),
    ("product", "Internal reference of a serial-tracked product (required)."),
    ("customer", "Customer owning the unit: its reference, or its exact name."),
    (
        "site",
        "Address the unit is installed at (optional): a delivery address "
        "of the customer is found by name or street, or created.",
    ),
    ("delivery_date", "Date the unit was delivered (YYYY-MM-DD; required)."),
    ("installation_date", "Date the unit was installed (optional)."),
    (
        "warranty_end",
        "Last day of the customer warranty (optional: computed from "
        "the product's warranty policy otherwise).",
    ),
    ("supplier", "Vendor the unit was bought from: reference or exact name."),
    ("receipt_date", "Date the unit was received from the vendor (optional)."),
    ("contract", "Reference of the customer's contract covering the unit (optional)."),
]
METER_PREFIX = "meter_"
METER_DATE_SUFFIX = "_date"
# files of more rows than this are imported by a background job (the system
# parameter of that name changes it): an import writes about 45 rows a second
# (README), so 2,000 rows stay well inside a server's default 120 s
# --limit-time-real
BACKGROUND_ROWS_PARAM = "serial_service.installed_base_background_rows"
BACKGROUND_ROWS_DEFAULT = 2000


class SerialInstalledBaseImport(models.TransientModel):
    _name = "serial.installed.base.import"
    _description = "Installed Base Import"

    file = fields.Binary(string="File", help=".xlsx or .csv, as the template.")
    filename = fields.Char()
    state = fields.Selection(
        selection=[
            ("upload", "Upload"),
            ("checked", "Checked"),
            ("queued", "Queued"),
            ("done", "Done"),
        ],
        default="upload",
        required=True,
    )
    serials_to_create = fields.Integer(readonly=True)
    serials_to_update = fields.Integer(readonly=True)
    serials_unchanged = fields.Integer(readonly=True)
    equipment_to_create = fields.Integer(readonly=True)
    contract_links = fields.Integer(readonly=True)
    baseline_readings = fields.Integer(readonly=True)
    problem_count = fields.Integer(readonly=True)
    problems = fields.Text(readonly=True)
    template_file = fields.Binary(readonly=True)
    template_filename = fields.Char(default="installed_base_template.xlsx")
    job_id = fields.Many2one(
        "serial.installed.base.import.job",
        string="Import Job",
        readonly=True,
        help="The background job importing this file (files of more rows than "
        "the background threshold).",
    )
    job_row_count = fields.Integer(related="job_id.row_count")

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_download_template(self):
        self.ensure_one()
        self.template_file = base64.b64encode(self._build_template_xlsx())
        return {
            "type": "ir.actions.act_url",
            "url": (
                f"/web/content/{self._name}/{self.id}/template_file/"
                f"{self.template_filename}?download=true"
            ),
            "target": "self",
        }

    def action_dry_run(self):
        self.ensure_one()
        plan = self._check_rows(self._read_rows())
        self._show_plan(plan)
        self.state = "checked"
        return self._reopen()

    def action_apply(self):
        """Write the whole file, or nothing when any row has a problem. A file
        of more rows than the background threshold is checked here, then
        queued as an import job that the scheduler applies in batches."""
        self.ensure_one()
        rows = self._read_rows()
        plan = self._check_rows(rows)
        self._show_plan(plan)
        if plan["problems"]:
            self.state = "checked"
            return self._reopen()
        if len(rows) > self._get_background_rows():
            self.job_id = self.env[
                "serial.installed.base.import.job"
            ]._create_from_rows(self.filename, rows)
            self.state = "queued"
            return self._reopen()
        self._apply_plan(plan)
        self.state = "done"
        return self._reopen()

    def action_open_job(self):
        self.ensure_one()
        return self.job_id._get_form_action()

    @api.model
    def _get_background_rows(self):
        """Files of more rows than this are imported in the background."""
        # sudo: a system parameter, only read; service managers have no access
        # to ir.config_parameter
        value = self.env["ir.config_parameter"].sudo().get_param(BACKGROUND_ROWS_PARAM)
        try:
            return int(value) if value else BACKGROUND_ROWS_DEFAULT
        except ValueError:
            return BACKGROUND_ROWS_DEFAULT

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            # the dialog keeps its title when it opens again on the plan
            "name": self.env._("Import Installed Base"),
        }

    # ------------------------------------------------------------------
    # Reading the file
    # ------------------------------------------------------------------
    def _build_template_xlsx(self):
        output = io.BytesIO()
        workbook = new_workbook(output)
        bold = workbook.add_format({"bold": True})
        sheet = workbook.add_worksheet("Installed base")
        headers = [name for name, _help in COLUMNS] + [
            "meter_BLACK",
            "meter_BLACK_date",
        ]
        example = [
            "MX4-0001",
            "MX-4000",
            "Harbour Dental Clinic",
            "2 Quay Street, Bristol",
            "2024-03-01",
            "2024-03-04",
            "",
            "Kyodo Imaging Europe",
            "2024-02-20",
            "SUB00001",
            125000,
            "2026-10-31",
        ]
        for col, header in enumerate(headers):
            sheet.write(0, col, header, bold)
            sheet.write(1, col, example[col])
        help_sheet = workbook.add_worksheet("Columns")
        help_sheet.write_row(0, 0, ["Column", "Meaning"], bold)
        rows = [
            *COLUMNS,
            (
                "meter_<CODE>",
                "Last reading of the meter of that code (e.g. meter_BLACK), a number; "
                "any number of meter columns.",
            ),
            (
                "meter_<CODE>_date",
                "Date of that reading (optional: the delivery date otherwise).",
            ),
        ]
        for row, (name, meaning) in enumerate(rows, start=1):
            help_sheet.write_row(row, 0, [name, meaning])
        help_sheet.set_column(0, 0, 22)
        help_sheet.set_column(1, 1, 90)
        workbook.close()
        return output.getvalue()

    def _read_rows(self):
        """The file's rows as (row number, {column: value}) with the header row
        as row 1, as a spreadsheet numbers them."""
        self.ensure_one()
        if not self.file:
            raise UserError(self.env._("Choose the file to import first."))
        content = base64.b64decode(self.file)
        name = (self.filename or "").lower()
        if name.endswith(".csv"):
            table = self._read_csv(content)
        elif name.endswith(".xlsx"):
            table = self._read_xlsx(content)
        else:
            raise UserError(
                self.env._("The file must be an .xlsx or a .csv file, as the template.")
            )
        if not table:
            raise UserError(self.env._("The file is empty."))
        header = [str(cell or "").strip() for cell in table[0]]
        missing = {"serial", "product"} - set(header)
        if missing:
            raise UserError(
                self.env._(
                    "The file has no column %(columns)s: download the template to "
                    "see the expected columns.",
                    columns=", ".join(sorted(missing)),
                )
            )
        rows = []
        for number, values in enumerate(table[1:], start=2):
            row = {
                header[col]: value
                for col, value in enumerate(values)
                if col < len(header) and header[col]
            }
            if any(v not in (None, "") for v in row.values()):
                rows.append((number, row))
        return rows

    @api.model
    def _read_csv(self, content):
        """The rows of a UTF-8 CSV file separated by commas, semicolons or
        tabs (found on the header line); a clear UserError otherwise."""
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise UserError(
                self.env._(
                    "The file is not UTF-8 text (a wrong character at byte "
                    '%(position)s): save it as "CSV UTF-8" or as .xlsx.',
                    position=error.start,
                )
            ) from error
        lines = text.splitlines()
        if not lines or not lines[0].strip():
            raise UserError(self.env._("The file is empty."))
        try:
            delimiter = csv.Sniffer().sniff(lines[0], delimiters=",;\t").delimiter
        except csv.Error as error:
            raise UserError(
                self.env._(
                    "The columns of the file are not separated by commas, "
                    "semicolons or tabs: save it as CSV or as .xlsx."
                )
            ) from error
        # only the separator is guessed: quotes are the standard ones, a quote
        # inside a quoted cell doubled (the header line shows no quoting)
        try:
            return list(csv.reader(io.StringIO(text), delimiter=delimiter))
        except csv.Error as error:
            raise UserError(
                self.env._("This is not a readable CSV file: %(error)s", error=error)
            ) from error

    @api.model
    def _read_xlsx(self, content):
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(
                io.BytesIO(content), read_only=True, data_only=True
            )
        except Exception as error:  # openpyxl raises many kinds on a bad file
            raise UserError(
                self.env._("This is not a readable .xlsx file: %(error)s", error=error)
            ) from error
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]

    # ------------------------------------------------------------------
    # Checking
    # ------------------------------------------------------------------
    @api.model
    def _text(self, value):
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()

    @api.model
    def _parse_date(self, value):
        """A date from a cell: a date/datetime, or YYYY-MM-DD text. Raises
        ValueError on anything else."""
        if value in (None, ""):
            return False
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return fields.Date.to_date(str(value).strip()[:10])

    def _check_rows(self, rows):
        """Resolve every row against the database in a few batch reads and
        collect every problem; nothing is written."""
        texts = [
            {key: self._text(value) for key, value in row.items()} for _n, row in rows
        ]
        refs = self._load_references(texts)
        problems, planned = [], []
        for (number, row), text in zip(rows, texts, strict=True):
            errors, item = self._check_row(row, text, refs)
            if errors:
                problems.append((number, errors))
            else:
                item["row"] = number
                planned.append(item)
        return self._summarise_plan(planned, problems)

    def _load_references(self, texts):
        """Products, partners, serials, contracts and meters named in the file,
        each read in one search."""
        env = self.env
        product_codes = {t.get("product") for t in texts if t.get("product")}
        products = env["product.product"].search(
            [("default_code", "in", list(product_codes))]
        )
        # a reference two products share names neither: refused, not guessed
        code_counts = Counter(products.mapped("default_code"))
        ambiguous_codes = {code for code, count in code_counts.items() if count > 1}
        partner_by_key, ambiguous_partners = self._load_partners(texts)
        serial_names = [t.get("serial") for t in texts if t.get("serial")]
        lots = env["stock.lot"].search(
            [("name", "in", serial_names), ("product_id", "in", products.ids)]
        )
        internal_qty = dict(
            env["stock.quant"]._read_group(
                [
                    ("lot_id", "in", lots.ids),
                    ("location_id.usage", "in", ("internal", "transit")),
                    ("quantity", ">", 0),
                ],
                ["lot_id"],
                ["quantity:sum"],
            )
        )
        contract_keys = list({t.get("contract") for t in texts if t.get("contract")})
        contracts = env["sale.subscription"].search(
            ["|", ("code", "in", contract_keys), ("name", "in", contract_keys)]
        )
        contract_by_key = {}
        for contract in contracts:
            for key in (contract.code, contract.name):
                if key:
                    contract_by_key.setdefault(key, contract)
        meter_codes = {
            key[len(METER_PREFIX) :]
            for t in texts
            for key in t
            if key.startswith(METER_PREFIX) and not key.endswith(METER_DATE_SUFFIX)
        }
        meter_types = env["serial.meter.type"].search(
            [("code", "in", list(meter_codes))]
        )
        return {
            "today": fields.Date.context_today(self),
            "product_by_code": {p.default_code: p for p in products},
            "ambiguous_codes": ambiguous_codes,
            "partner_by_key": partner_by_key,
            "ambiguous_partners": ambiguous_partners,
            "lot_by_key": {(lot.name, lot.product_id.id): lot for lot in lots},
            "internal_qty": internal_qty,
            "contract_by_key": contract_by_key,
            "meter_by_code": {m.code: m for m in meter_types},
            "serial_counts": Counter(serial_names),
        }

    def _load_partners(self, texts):
        """({key: partner}, {key: partners}) of the customers and suppliers
        named in the file, in one search: a key is a partner's reference, or
        else its exact name; a key naming partners of several companies is
        ambiguous (refused, not guessed). Within one company, the company
        itself is preferred to its contacts."""
        keys = {
            t.get(key) for t in texts for key in ("customer", "supplier") if t.get(key)
        }
        partners = self.env["res.partner"].search(
            ["|", ("ref", "in", list(keys)), ("name", "in", list(keys))]
        )
        by_ref, by_name = defaultdict(list), defaultdict(list)
        for partner in partners.sorted(lambda p: (not p.is_company, p.id)):
            if partner.ref in keys:
                by_ref[partner.ref].append(partner)
            if partner.name in keys:
                by_name[partner.name].append(partner)
        partner_by_key, ambiguous = {}, {}
        for key in keys:
            found = by_ref.get(key) or by_name.get(key) or []
            if len({partner.commercial_partner_id for partner in found}) > 1:
                ambiguous[key] = self.env["res.partner"].union(*found)
            elif found:
                partner_by_key[key] = found[0]
        return partner_by_key, ambiguous

    def _check_row_partner(self, text, column, refs, errors):
        """The partner the column names, or None (the problem in errors)."""
        key = text.get(column)
        if key and key in refs["ambiguous_partners"]:
            errors.append(
                self.env._(
                    "%(column)s %(key)s names several partners (%(partners)s): "
                    "use the partner's reference",
                    column=column,
                    key=key,
                    partners=", ".join(
                        refs["ambiguous_partners"][key].mapped("display_name")
                    ),
                )
            )
            return None
        return refs["partner_by_key"].get(key)

    def _check_row(self, row, text, refs):
        """(problems of the row, the resolved row)."""
        env = self.env
        errors = []
        serial = text.get("serial")
        if not serial:
            errors.append(env._("the serial number is missing"))
        elif refs["serial_counts"][serial] > 1:
            errors.append(
                env._(
                    "serial %(serial)s appears more than once in the file",
                    serial=serial,
                )
            )
        product = refs["product_by_code"].get(text.get("product"))
        if not text.get("product"):
            errors.append(env._("the product reference is missing"))
        elif text["product"] in refs["ambiguous_codes"]:
            product = None
            errors.append(
                env._(
                    "several products have the reference %(ref)s: make the "
                    "references unique first",
                    ref=text["product"],
                )
            )
        elif not product:
            errors.append(
                env._("unknown product reference %(ref)s", ref=text["product"])
            )
        elif product.tracking != "serial":
            errors.append(
                env._(
                    "product %(product)s is not tracked by serial number",
                    product=product.display_name,
                )
            )
        ambiguous = refs["ambiguous_partners"]
        customer = self._check_row_partner(text, "customer", refs, errors)
        if not text.get("customer"):
            errors.append(env._("the customer is missing"))
        elif not customer and text["customer"] not in ambiguous:
            errors.append(env._("unknown customer %(name)s", name=text["customer"]))
        supplier = self._check_row_partner(text, "supplier", refs, errors)
        if text.get("supplier") and not supplier and text["supplier"] not in ambiguous:
            errors.append(env._("unknown supplier %(name)s", name=text["supplier"]))
        dates = self._check_row_dates(row, text, refs["today"], errors)
        lot = product and refs["lot_by_key"].get((serial, product.id))
        if lot and customer:
            if lot.customer_id and lot.customer_id != customer.commercial_partner_id:
                errors.append(
                    env._(
                        "serial %(serial)s is already at another customer (%(owner)s)",
                        serial=serial,
                        owner=lot.customer_id.display_name,
                    )
                )
            if refs["internal_qty"].get(lot):
                errors.append(
                    env._(
                        "serial %(serial)s is in stock: deliver it instead of "
                        "importing it",
                        serial=serial,
                    )
                )
        contract = refs["contract_by_key"].get(text.get("contract"))
        if text.get("contract") and not contract:
            errors.append(env._("unknown contract %(ref)s", ref=text["contract"]))
        elif (
            contract
            and customer
            and contract.partner_id.commercial_partner_id
            != customer.commercial_partner_id
        ):
            errors.append(
                env._(
                    "contract %(contract)s belongs to %(owner)s, not to %(customer)s",
                    contract=contract.name,
                    owner=contract.partner_id.display_name,
                    customer=customer.display_name,
                )
            )
        readings = self._check_row_meters(row, dates, refs, errors)
        if errors:
            return errors, None
        return errors, {
            "serial": serial,
            "product": product,
            "lot": lot or env["stock.lot"],
            "customer": customer.commercial_partner_id,
            "site_text": text.get("site"),
            "site": customer if customer.type == "delivery" else False,
            "dates": dates,
            "supplier": supplier and supplier.commercial_partner_id,
            "contract": contract,
            "readings": readings,
        }

    def _check_row_dates(self, row, text, today, errors):
        env = self.env
        dates = {}
        for key in (
            "delivery_date",
            "installation_date",
            "warranty_end",
            "receipt_date",
        ):
            try:
                dates[key] = self._parse_date(row.get(key))
            except ValueError:
                errors.append(
                    env._(
                        "%(column)s %(value)s is not a date (YYYY-MM-DD)",
                        column=key,
                        value=text.get(key),
                    )
                )
                dates[key] = False
        if not text.get("delivery_date"):
            errors.append(env._("the delivery date is missing"))
        for key in ("delivery_date", "installation_date", "receipt_date"):
            if dates[key] and dates[key] > today:
                errors.append(
                    env._(
                        "%(column)s %(date)s is in the future",
                        column=key,
                        date=dates[key],
                    )
                )
        for first, second in (
            ("receipt_date", "delivery_date"),
            ("delivery_date", "installation_date"),
            ("delivery_date", "warranty_end"),
        ):
            if dates[first] and dates[second] and dates[first] > dates[second]:
                errors.append(
                    env._(
                        "%(first)s %(first_date)s is after %(second)s %(second_date)s",
                        first=first,
                        first_date=dates[first],
                        second=second,
                        second_date=dates[second],
                    )
                )
        return dates

    def _check_row_meters(self, row, dates, refs, errors):
        env = self.env
        readings = []
        for key, value in row.items():
            if not key.startswith(METER_PREFIX) or key.endswith(METER_DATE_SUFFIX):
                continue
            if value in (None, ""):
                continue
            code = key[len(METER_PREFIX) :]
            meter = refs["meter_by_code"].get(code)
            if not meter:
                errors.append(env._("unknown meter code %(code)s", code=code))
                continue
            try:
                number_value = float(value)
            except (TypeError, ValueError):
                errors.append(
                    env._(
                        "meter %(code)s value %(value)s is not a number",
                        code=code,
                        value=self._text(value),
                    )
                )
                continue
            # float() reads "nan", "inf" and "1e400" (infinite) too
            problem = env["serial.meter.reading"]._get_meter_value_problem(number_value)
            if problem:
                errors.append(
                    env._("meter %(code)s: %(problem)s", code=code, problem=problem)
                )
                continue
            if number_value < 0:
                errors.append(env._("meter %(code)s value is negative", code=code))
                continue
            try:
                day = self._parse_date(row.get(key + METER_DATE_SUFFIX))
            except ValueError:
                errors.append(env._("meter %(code)s date is not a date", code=code))
                continue
            day = day or dates["delivery_date"]
            if day and day > refs["today"]:
                errors.append(env._("meter %(code)s date is in the future", code=code))
                continue
            readings.append((meter, day, number_value))
        return readings

    def _get_lot_values(self, item):
        dates = item["dates"]
        values = {
            "customer_id": item["customer"].id,
            "delivery_date": dates["delivery_date"],
            "installation_date": dates["installation_date"],
        }
        if item["supplier"]:
            values["supplier_id"] = item["supplier"].id
        if dates["receipt_date"]:
            values["receipt_date"] = dates["receipt_date"]
        if item["site"]:
            values["site_id"] = item["site"].id
        if not item["lot"].warranty_policy_id and item["product"].warranty_policy_id:
            values["warranty_policy_id"] = item["product"].warranty_policy_id.id
        if dates["warranty_end"]:
            values["warranty_end_date"] = dates["warranty_end"]
        return values

    @api.model
    def _changed_values(self, lot, values):
        """The values that differ from what the serial holds already."""
        changed = {}
        for fname, value in values.items():
            current = lot[fname]
            if lot._fields[fname].type == "many2one":
                current = current.id
            if current != value:
                changed[fname] = value
        return changed

    def _summarise_plan(self, planned, problems):
        existing = [item for item in planned if item["lot"]]
        existing_lots = self.env["stock.lot"].union(*(i["lot"] for i in existing))
        existing_readings = set()
        if existing_lots:
            for reading in self.env["serial.meter.reading"].search_read(
                [("lot_id", "in", existing_lots.ids)],
                ["lot_id", "meter_type_id", "reading_date", "value"],
            ):
                existing_readings.add(
                    (
                        reading["lot_id"][0],
                        reading["meter_type_id"][0],
                        reading["reading_date"].date(),
                    )
                )
        to_update = unchanged = equipment = links = readings = 0
        for item in planned:
            lot = item["lot"]
            if lot:
                item["changes"] = self._changed_values(lot, self._get_lot_values(item))
                item["needs_site"] = bool(item["site_text"] and not lot.site_id)
                item["at_customer"] = lot.location_id.usage == "customer"
            else:
                item["changes"] = self._get_lot_values(item)
                item["needs_site"] = bool(item["site_text"])
                item["at_customer"] = False
            item["new_readings"] = [
                (meter, day, value)
                for meter, day, value in item["readings"]
                if not (lot and (lot.id, meter.id, day) in existing_readings)
            ]
            item["link_contract"] = bool(
                item["contract"]
                and (not lot or lot not in item["contract"].covered_lot_ids)
            )
            item["needs_equipment"] = bool(
                item["product"].serial_service_managed and not lot.equipment_id
            )
            changed = (
                not lot
                or item["changes"]
                or item["needs_site"]
                or not item["at_customer"]
                or item["new_readings"]
                or item["link_contract"]
                or item["needs_equipment"]
            )
            if lot:
                if changed:
                    to_update += 1
                else:
                    unchanged += 1
            equipment += item["needs_equipment"]
            links += item["link_contract"]
            readings += len(item["new_readings"])
        return {
            "planned": planned,
            "problems": problems,
            "create": len(planned) - len(existing),
            "update": to_update,
            "unchanged": unchanged,
            "equipment": equipment,
            "links": links,
            "readings": readings,
        }

    def _show_plan(self, plan):
        lines = [
            self.env._("Row %(row)s: %(reasons)s", row=row, reasons="; ".join(errors))
            for row, errors in plan["problems"]
        ]
        self.write(
            {
                "serials_to_create": plan["create"],
                "serials_to_update": plan["update"],
                "serials_unchanged": plan["unchanged"],
                "equipment_to_create": plan["equipment"],
                "contract_links": plan["links"],
                "baseline_readings": plan["readings"],
                "problem_count": len(lines),
                "problems": "\n".join(lines),
            }
        )

    # ------------------------------------------------------------------
    # Writing
    # ------------------------------------------------------------------
    def _apply_plan(self, plan, link_contracts=True):
        """Create and update everything in batches, inside the caller's
        transaction: any error rolls the whole import back. A background job
        links the serials to their contracts only once every row is in
        (link_contracts False): a serial a contract covers is billed."""
        env = self.env
        planned = plan["planned"]
        company = env.company
        new_items = [item for item in planned if not item["lot"]]
        if new_items:
            new_lots = env["stock.lot"].create(
                [
                    {
                        "name": item["serial"],
                        "product_id": item["product"].id,
                        "company_id": company.id,
                    }
                    for item in new_items
                ]
            )
            for item, lot in zip(new_items, new_lots, strict=True):
                item["lot"] = lot
                item["created"] = True
        self._create_sites(planned)
        # the serials land at the customer location through Odoo's inventory
        # moves, so that stock reports show them where they are
        self._move_to_customer_location([i for i in planned if not i["at_customer"]])
        touched = env["stock.lot"]
        # one write per set of changes, not one per serial: the serials of a
        # file mostly share their customer, site, dates and policy
        lots_by_changes = defaultdict(lambda: env["stock.lot"])
        for item in planned:
            changes = self._changed_values(item["lot"], self._get_lot_values(item))
            if changes:
                lots_by_changes[tuple(sorted(changes.items()))] |= item["lot"]
        for changes, lots in lots_by_changes.items():
            lots.write(dict(changes))
            touched |= lots
        equipment_lots = env["stock.lot"].union(
            *(i["lot"] for i in planned if i["needs_equipment"])
        )
        equipment_lots._create_service_equipment()
        touched |= equipment_lots
        lots_by_contract = defaultdict(lambda: env["stock.lot"])
        for item in planned:
            if item["link_contract"]:
                lots_by_contract[item["contract"]] |= item["lot"]
                touched |= item["lot"]
        if link_contracts:
            self._link_contracts(lots_by_contract)
        reading_items = [
            (item, meter, day, value)
            for item in planned
            for meter, day, value in item["new_readings"]
        ]
        reading_vals = [
            {
                "lot_id": item["lot"].id,
                "meter_type_id": meter.id,
                "reading_date": datetime.combine(day, time(12, 0)),
                "value": value,
                "source": "import",
            }
            for item, meter, day, value in reading_items
        ]
        if reading_vals:
            readings = env["serial.meter.reading"].create(reading_vals)
            # what a background job withdraws when a later batch fails
            for (item, *_reading), reading in zip(reading_items, readings, strict=True):
                item.setdefault("reading_ids", []).append(reading.id)
            touched |= env["stock.lot"].browse(v["lot_id"] for v in reading_vals)
        touched |= env["stock.lot"].union(*(i["lot"] for i in new_items))
        if touched:
            body = Markup("<p>%s</p>") % env._(
                "Imported from the installed base file %(file)s by %(user)s on "
                "%(date)s.",
                file=self.filename,
                user=env.user.name,
                date=fields.Datetime.to_string(fields.Datetime.now()),
            )
            touched._message_log_batch(bodies=dict.fromkeys(touched.ids, body))
        return touched

    @api.model
    def _link_contracts(self, lots_by_contract):
        """Cover the serials by their contracts: one write per contract."""
        for contract, lots in lots_by_contract.items():
            contract.write({"covered_lot_ids": [Command.link(lot.id) for lot in lots]})

    def _create_sites(self, planned):
        """Find the site among the customer's delivery addresses (by name or
        street) or create it; one search for all rows."""
        env = self.env
        wanted = [i for i in planned if i["needs_site"] and i["site_text"]]
        if not wanted:
            return
        customers = env["res.partner"].union(*(i["customer"] for i in wanted))
        addresses = env["res.partner"].search(
            [("parent_id", "in", customers.ids), ("type", "=", "delivery")]
        )
        by_key = {}
        for address in addresses:
            for key in (address.name, address.street):
                if key:
                    by_key[(address.parent_id.id, key.strip().lower())] = address
        to_create = {}
        for item in wanted:
            key = (item["customer"].id, item["site_text"].lower())
            if key not in by_key and key not in to_create:
                to_create[key] = {
                    "name": item["site_text"],
                    "street": item["site_text"],
                    "type": "delivery",
                    "parent_id": item["customer"].id,
                }
        if to_create:
            created = env["res.partner"].create(list(to_create.values()))
            by_key.update(zip(to_create, created, strict=True))
        for item in wanted:
            key = (item["customer"].id, item["site_text"].lower())
            item["site"] = by_key[key]
            item["site_created"] = key in to_create

    def _move_to_customer_location(self, items):
        if not items:
            return
        env = self.env
        customer_location = env.ref("stock.stock_location_customers")
        Move = env["stock.move"]
        Move._create_validated_serial_moves(
            [
                Move._prepare_validated_move_vals(
                    item["product"],
                    1.0,
                    item["product"].with_company(env.company).property_stock_inventory,
                    customer_location,
                    lot=item["lot"],
                    company=env.company,
                    name=env._("Installed base import"),
                    is_inventory=True,
                )
                for item in items
            ]
        )
