from odoo.tests import TransactionCase, tagged

from odoo.addons.serial_service.benchmark import generator, runner, scenarios


@tagged("post_install", "-at_install")
class TestBenchmark(TransactionCase):
    """The benchmark's generator and scenarios at a tiny size: they must keep
    working and measure work that was really done (each scenario checks its
    own results and raises when they are wrong). Their speed is the
    benchmark's business (tools/benchmark.sh), never a test's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.catalog = generator.make_catalog(cls.env)

    def test_every_scenario_runs_and_checks_its_work(self):
        results = runner.run_all(
            self.env, scale=0.0001, log=lambda *_a: None, catalog=self.catalog
        )
        names = {result.scenario.split(" ")[0] for result in results}
        self.assertEqual(
            names, {"1.", "2.", "3.", "4a.", "4b.", "4c.", "4d.", "5."}, results
        )
        for result in results:
            self.assertGreater(result.ours, 0.0, result)
        table = runner.format_table(results)
        self.assertIn("ratio", table.splitlines()[0])
        self.assertEqual(len(table.splitlines()), len(results) + 2)

    def test_generated_serials_follow_the_warranty_rule(self):
        kinds = generator.insert_serials(self.env, self.catalog, 200, tag="T")
        self.assertEqual(sum(number for _first, number in kinds.values()), 200)
        self.assertEqual(kinds["unit"][1], 140, "14 units in 20 serials")
        units = self.env["stock.lot"].search(
            [("name", "=like", "BEN-TU-%"), ("warranty_policy_id", "!=", False)]
        )
        self.assertTrue(units)
        for lot in units[:20]:
            self.assertEqual(
                lot.warranty_end_date,
                lot._get_warranty_end_date(lot.warranty_start_date, 24),
            )
        components = self.env["stock.lot"].search([("name", "=like", "BEN-TC-%")])
        self.assertEqual(len(components), 50)
        self.assertEqual(components.parent_lot_id.product_id, self.catalog.unit)
        lamps = self.env["stock.lot"].search([("name", "=like", "BEN-TL-%")])
        self.assertEqual(lamps.parent_lot_id.product_id, self.catalog.component)

    def test_a_wrong_result_is_no_result(self):
        contracts = generator.make_contracts(self.env, self.catalog, 1, "TW")
        plain = generator.make_contracts(
            self.env, self.catalog, 1, "TWP", metered=False
        )
        contracts._run_usage_billing()
        plain.generate_invoice()
        scenarios.check_billing(contracts, plain, "draft")
        contracts.invoice_ids.invoice_line_ids[-1:].price_unit += 1.0
        with self.assertRaises(scenarios.ScenarioError):
            scenarios.check_billing(contracts, plain, "draft")

    def test_billing_run_queries_per_contract_do_not_grow(self):
        counts = {}
        for count in (2, 6):
            contracts = generator.make_contracts(
                self.env, self.catalog, count, f"TQ{count}"
            )
            with scenarios.Measure(self.env) as measured:
                self.assertFalse(contracts._run_usage_billing())
            counts[count] = measured.queries
        self.assertLessEqual(counts[6] / 6, counts[2] / 2, counts)

    def test_coverage_batch_queries_do_not_grow_with_the_batch(self):
        items = generator.make_coverage_items(self.env, self.catalog, 160)
        Lot = self.env["stock.lot"]
        counts = {}
        for size in (40, 160):
            batch = [dict(item, lot=Lot.browse(item["lot"].id)) for item in items]
            with scenarios.Measure(self.env) as measured:
                decisions = Lot._get_service_coverage_batch(batch[:size])
            self.assertEqual(len(decisions), size)
            counts[size] = measured.queries
        self.assertEqual(counts[40], counts[160], counts)
