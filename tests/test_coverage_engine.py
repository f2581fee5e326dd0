from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestCoverageEngine(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["stock.lot"])
        Categ = cls.env["product.category"]
        cls.c_root = Categ.create({"name": "Cov Root"})
        cls.c_parts = Categ.create({"name": "Cov Parts", "parent_id": cls.c_root.id})
        cls.c_fusers = Categ.create({"name": "Cov Fusers", "parent_id": cls.c_parts.id})
        cls.c_consumables = Categ.create(
            {"name": "Cov Consumables", "parent_id": cls.c_parts.id}
        )

        def product(name, categ, line_type, price, service=False):
            return cls.env["product.product"].create(
                {
                    "name": name,
                    "type": "service" if service else "consu",
                    "categ_id": categ.id,
                    "service_line_type": line_type,
                    "list_price": price,
                }
            )

        cls.fuser = product("Cov Fuser", cls.c_fusers, "part", 300)
        cls.special = product("Cov Special Fuser", cls.c_fusers, "part", 500)
        cls.roller = product("Cov Roller", cls.c_parts, "part", 50)
        cls.toner = product("Cov Toner", cls.c_consumables, "consumable", 80)
        cls.gadget = product("Cov Gadget", cls.c_root, "part", 20)
        cls.labour = product("Cov Labour", cls.c_root, "labour", 60, service=True)
        cls.travel = product("Cov Travel", cls.c_root, "travel", 45, service=True)

        cls.policy = cls.env["serial.warranty.policy"].create(
            {
                "name": "Parts only, 12 months",
                "duration_months": 12,
                "covers_parts": True,
                "covers_labour": False,
                "covers_travel": False,
                "excluded_categ_ids": [Command.set(cls.c_consumables.ids)],
            }
        )
        names = [
            "COV-WAR",
            "COV-WAR-CON",
            "COV-CON",
            "COV-CAP",
            "COV-EXP",
            "COV-FUT",
            "COV-CLOSED",
            "COV-NONE",
            "COV-OLD-WAR",
        ]
        lots = cls._make_lots(cls.product_unit, names)
        cls.lot = dict(zip(names, lots, strict=True))
        warranty = {
            "warranty_policy_id": cls.policy.id,
            "delivery_date": cls.today - timedelta(days=30),
        }
        (cls.lot["COV-WAR"] | cls.lot["COV-WAR-CON"]).write(warranty)
        cls.lot["COV-OLD-WAR"].write(
            {
                "warranty_policy_id": cls.policy.id,
                "delivery_date": cls.today - timedelta(days=800),
            }
        )
        cls.lots_customer = lots
        lots.write({"customer_id": cls.customer.id})

        cls.pricelist = cls.env["product.pricelist"].create({"name": "Coverage"})
        cls.template = cls.env["sale.subscription.template"].create(
            {
                "name": "Cov Care",
                "recurring_rule_type": "months",
                "recurring_interval": 1,
            }
        )
        rules = [
            {"sequence": 10, "product_id": cls.special.id, "effect": "exclude"},
            {"sequence": 10, "categ_id": cls.c_fusers.id, "coverage_percent": 80},
            {"sequence": 5, "categ_id": cls.c_fusers.id, "coverage_percent": 60},
            {"sequence": 10, "categ_id": cls.c_parts.id, "coverage_percent": 100},
            {"sequence": 5, "categ_id": cls.c_consumables.id, "effect": "exclude"},
            {"sequence": 10, "line_type": "labour", "coverage_percent": 100},
            {"sequence": 20, "coverage_percent": 50, "name": "Anything else, half"},
            {"sequence": 10, "coverage_percent": 30, "name": "Anything else"},
        ]
        cls.main = cls._make_sub(
            cls.lot["COV-WAR-CON"] | cls.lot["COV-CON"] | cls.lot["COV-OLD-WAR"],
            rules=rules,
        )
        cls.rule = dict(
            zip(
                ["special", "fusers80", "fusers60", "parts", "consumables", "labour",
                 "any50", "any30"],
                cls.main.coverage_rule_ids.sorted("id"),
                strict=True,
            )
        )  # fmt: skip
        cls.capped = cls._make_sub(
            cls.lot["COV-CAP"],
            rules=[
                {"line_type": "labour", "coverage_percent": 100, "max_qty_per_period": 10},
                {"line_type": "travel", "coverage_percent": 100, "max_amount_per_period": 100},
            ],
        )  # fmt: skip
        cls._make_sub(
            cls.lot["COV-EXP"],
            rules=[{"coverage_percent": 100}],
            date_start=cls.today - timedelta(days=400),
            date=cls.today - timedelta(days=35),
        )
        cls._make_sub(
            cls.lot["COV-FUT"],
            rules=[{"coverage_percent": 100}],
            date_start=cls.today + timedelta(days=10),
        )
        closed = cls._make_sub(cls.lot["COV-CLOSED"], rules=[{"coverage_percent": 100}])
        closed.close_subscription()
        # usage already consumed this period on the capped contract
        job = cls.env["maintenance.request"].create(
            {"name": "Earlier visit", "lot_id": cls.lot["COV-CAP"].id}
        )
        cls.env["serial.service.line"].create(
            [
                {"request_id": job.id, "product_id": cls.labour.id, "quantity": 8},
                {
                    "request_id": job.id,
                    "product_id": cls.travel.id,
                    "quantity": 1,
                    "price_unit": 80,
                },
            ]
        )

    @classmethod
    def _make_sub(cls, lots, rules=(), **vals):
        vals.setdefault("date_start", cls.today - timedelta(days=10))
        return cls._create_contract(
            cls.customer,
            lots,
            cls.template,
            pricelist=cls.pricelist,
            rules=rules,
            **vals,
        )

    def test_precedence_table(self):
        main, r = self.main, self.rule
        cases = [
            # (label, serial, product, qty, price, source, percent, contract, rule)
            ("warranty part", "COV-WAR", self.fuser, 1, None, "warranty", 100, None, None),
            ("warranty excludes consumables", "COV-WAR", self.toner, 1, None, "none", 0, None, None),
            ("warranty without labour", "COV-WAR", self.labour, 1, None, "none", 0, None, None),
            ("warranty before contract", "COV-WAR-CON", self.roller, 1, None, "warranty", 100, None, None),
            ("contract when warranty excludes labour", "COV-WAR-CON", self.labour, 2, None, "contract", 100, main, r["labour"]),
            ("expired warranty falls to contract", "COV-OLD-WAR", self.roller, 1, None, "contract", 100, main, r["parts"]),
            ("exclude by product beats category include", "COV-CON", self.special, 1, None, "none", 0, main, r["special"]),
            ("nearest category, lowest sequence", "COV-CON", self.fuser, 1, None, "contract", 60, main, r["fusers60"]),
            ("parent category", "COV-CON", self.roller, 1, None, "contract", 100, main, r["parts"]),
            ("nearer exclude beats parent include", "COV-CON", self.toner, 1, None, "none", 0, main, r["consumables"]),
            ("line type", "COV-CON", self.labour, 3, None, "contract", 100, main, r["labour"]),
            ("any: lowest sequence", "COV-CON", self.gadget, 1, None, "contract", 30, main, r["any30"]),
            ("any for travel", "COV-CON", self.travel, 1, None, "contract", 30, main, r["any30"]),
            ("quantity cap partly used", "COV-CAP", self.labour, 4, None, "contract", 50, self.capped, None),
            ("amount cap partly used", "COV-CAP", self.travel, 1, 40, "contract", 50, self.capped, None),
            ("expired contract", "COV-EXP", self.roller, 1, None, "none", 0, None, None),
            ("contract not started", "COV-FUT", self.roller, 1, None, "none", 0, None, None),
            ("closed contract", "COV-CLOSED", self.roller, 1, None, "none", 0, None, None),
            ("serial on no contract", "COV-NONE", self.roller, 1, None, "none", 0, None, None),
        ]  # fmt: skip
        for (
            label,
            serial,
            product,
            qty,
            price,
            source,
            percent,
            contract,
            rule,
        ) in cases:
            with self.subTest(label):
                result = self.env["stock.lot"]._get_service_coverage_batch(
                    [
                        {
                            "lot": self.lot[serial],
                            "product": product,
                            "qty": qty,
                            "price_unit": price,
                        }
                    ]
                )[0]
                self.assertEqual(result["source"], source)
                self.assertAlmostEqual(result["percent"], percent, places=2)
                self.assertEqual(
                    result["subscription_id"], contract.id if contract else False
                )
                if rule is not None:
                    self.assertEqual(result["rule_id"], rule.id)
                self.assertTrue(result["reason"])
        self.assertGreaterEqual(len(cases), 15)

    def test_public_method_and_reasons(self):
        result = self.lot["COV-CON"].get_service_coverage(self.fuser, qty=2)
        self.assertEqual(
            set(result), {"source", "percent", "subscription_id", "rule_id", "reason"}
        )
        self.assertIn(self.main.name, result["reason"])
        self.assertIn("Cov Fusers", result["reason"])
        warranty = self.lot["COV-WAR"].get_service_coverage(self.fuser)
        self.assertIn("Parts only, 12 months", warranty["reason"])
        capped = self.lot["COV-CAP"].get_service_coverage(self.labour, qty=4)
        self.assertIn("10 of 10 used this period", capped["reason"])
        used_up = self.lot["COV-CAP"].get_service_coverage(self.labour, qty=4)
        self.assertEqual(used_up["percent"], 50, "a decision alone consumes nothing")
        # a date: next month the cap is fresh; last year no contract ran
        next_period = self.main._get_billing_period(self.today)[1]
        fresh = self.lot["COV-CAP"].get_service_coverage(
            self.labour, date=next_period, qty=4
        )
        self.assertEqual(fresh["percent"], 100)
        before = self.lot["COV-CON"].get_service_coverage(
            self.roller, date=self.today - timedelta(days=365)
        )
        self.assertEqual(before["source"], "none")

    def test_cap_is_consumed_in_order_within_a_batch(self):
        lot = self.lot["COV-CAP"]
        results = self.env["stock.lot"]._get_service_coverage_batch(
            [
                {"lot": lot, "product": self.labour, "qty": 1},
                {"lot": lot, "product": self.labour, "qty": 1},
                {"lot": lot, "product": self.labour, "qty": 1},
            ]
        )
        self.assertEqual([r["percent"] for r in results], [100, 100, 0])
        self.assertEqual(results[2]["source"], "none")
        self.assertIn("used up", results[2]["reason"])

    def test_service_lines_show_their_coverage(self):
        job = self.env["maintenance.request"].create(
            {"name": "Check", "lot_id": self.lot["COV-CON"].id}
        )
        lines = self.env["serial.service.line"].create(
            [
                {"request_id": job.id, "product_id": self.fuser.id},
                {"request_id": job.id, "product_id": self.toner.id},
            ]
        )
        self.assertEqual(lines.mapped("coverage_source"), ["contract", "none"])
        self.assertEqual(lines[0].coverage_percent, 60)
        self.assertEqual(lines[0].charge_amount, 120.0, "40 % of 300")
        self.assertEqual(lines[1].charge_amount, 80.0)

    def test_query_count_does_not_grow_with_the_batch(self):
        lots = self._make_lots(self.product_unit, [f"COV-Q{i}" for i in range(40)])
        lots.write({"customer_id": self.customer.id})
        self._make_sub(lots, rules=[{"coverage_percent": 100}])
        products = [self.fuser, self.roller, self.toner, self.labour, self.travel]

        def count_queries(size):
            items = [
                {"lot": lots[i], "product": products[i % 5], "qty": 1}
                for i in range(size)
            ]
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.env["stock.lot"]._get_service_coverage_batch(items)
            return self.env.cr.sql_log_count - before

        small, large = count_queries(5), count_queries(40)
        self.assertEqual(small, large)

    def test_template_rules_are_copied_to_a_new_contract(self):
        self.template.coverage_rule_ids = [
            Command.create({"line_type": "labour", "coverage_percent": 70}),
            Command.create({"categ_id": self.c_consumables.id, "effect": "exclude"}),
        ]
        contract = self._create_contract(
            self.customer, None, self.template, pricelist=self.pricelist, running=False
        )
        self.assertEqual(len(contract.coverage_rule_ids), 2)
        self.assertEqual(
            sorted(contract.coverage_rule_ids.mapped("coverage_percent")), [70, 100]
        )
        self.assertNotEqual(
            contract.coverage_rule_ids, self.template.coverage_rule_ids, "copies"
        )

    def test_one_running_contract_per_serial(self):
        with self.assertRaises(ValidationError) as error:
            self._make_sub(self.lot["COV-CON"], rules=[{"coverage_percent": 100}])
        self.assertIn("COV-CON", str(error.exception))
        # a contract that ended before is no conflict
        self._make_sub(
            self.lot["COV-EXP"] | self.lot["COV-NONE"],
            rules=[{"coverage_percent": 100}],
            date_start=self.today - timedelta(days=20),
        )

    def test_access_of_the_three_groups(self):
        rule = self.rule["parts"]
        self.assertEqual(rule.with_user(self.technician).coverage_percent, 100)
        with self.assertRaises(AccessError):
            rule.with_user(self.technician).write({"coverage_percent": 10})
        with self.assertRaises(AccessError):
            self.template.with_user(self.technician).write({"response_hours": 4})
        rule.with_user(self.consultant).write({"coverage_percent": 90})
        self.template.with_user(self.consultant).write({"response_hours": 4})
        self.env["serial.coverage.rule"].with_user(self.manager).create(
            {"template_id": self.template.id, "coverage_percent": 10}
        )
        self.assertEqual(rule.coverage_percent, 90)
