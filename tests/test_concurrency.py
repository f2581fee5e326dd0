"""Two real database transactions at once (two cursors), as two users or two
workers would run them. The data each scenario needs is committed in its own
cursor (the test's own transaction is invisible to other cursors) and deleted
again at the end."""

from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import TwoCursorsMixin, create_contract


@tagged("post_install", "-at_install")
class TestConcurrency(TwoCursorsMixin, TransactionCase):
    # ------------------------------------------------------------------
    # Two jobs taking the van's last unit of the same serialised part
    # ------------------------------------------------------------------
    def _setup_jobs(self, env):
        company = env.company
        warehouse = env["stock.warehouse"].search(
            [("company_id", "=", company.id)], limit=1
        )
        van = env["stock.location"].create(
            {
                "name": "Concurrency Van",
                "usage": "internal",
                "location_id": warehouse.view_location_id.id,
            }
        )
        part = env["product.product"].create(
            {
                "name": "Concurrency Fuser",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
                "service_line_type": "part",
                "list_price": 0.0,
            }
        )
        lot = env["stock.lot"].create(
            {"name": "CONC-FU-1", "product_id": part.id, "company_id": company.id}
        )
        env["stock.quant"]._update_available_quantity(part, van, 1, lot_id=lot)
        customer = env["res.partner"].create(
            {"name": "Concurrency Customer", "is_company": True}
        )
        jobs = env["maintenance.request"].create(
            [
                {
                    "name": f"Concurrency job {index}",
                    "customer_id": customer.id,
                    "service_line_ids": [
                        Command.create(
                            {
                                "product_id": part.id,
                                "lot_id": lot.id,
                                "location_id": van.id,
                            }
                        )
                    ],
                }
                for index in (1, 2)
            ]
        )
        return {
            "jobs": jobs.ids,
            "van": van.id,
            "part": part.id,
            "lot": lot.id,
            "customer": customer.id,
        }

    def _cleanup_jobs(self, ids):
        def clean(env):
            part = env["product.product"].browse(ids["part"])
            moves = env["stock.move"].search([("product_id", "=", part.id)])
            # done moves and their valuation cannot be deleted through the ORM
            if "stock.valuation.layer" in env:
                env.cr.execute(
                    "DELETE FROM stock_valuation_layer WHERE product_id = %s",
                    [part.id],
                )
            env.cr.execute(
                "DELETE FROM stock_move_line WHERE product_id = %s", [part.id]
            )
            env.cr.execute("DELETE FROM stock_move WHERE id IN %s", [tuple(moves.ids)])
            env.cr.execute("DELETE FROM stock_quant WHERE product_id = %s", [part.id])
            # a completed job is never deleted through the ORM (whoever asks):
            # the test's own committed jobs and their lines go by SQL
            env.cr.execute(
                "DELETE FROM serial_service_line WHERE request_id IN %s",
                [tuple(ids["jobs"])],
            )
            env.cr.execute(
                "DELETE FROM mail_followers WHERE res_model = 'maintenance.request' "
                "AND res_id IN %s",
                [tuple(ids["jobs"])],
            )
            env.cr.execute(
                "DELETE FROM mail_message WHERE model = 'maintenance.request' "
                "AND res_id IN %s",
                [tuple(ids["jobs"])],
            )
            env.cr.execute(
                "DELETE FROM maintenance_request WHERE id IN %s", [tuple(ids["jobs"])]
            )
            env.invalidate_all()
            env["stock.lot"].browse(ids["lot"]).unlink()
            template = part.product_tmpl_id
            part.unlink()
            template.unlink()
            env["stock.location"].browse(ids["van"]).unlink()
            env["res.partner"].browse(ids["customer"]).unlink()

        self._committed(clean)

    def _stock_state(self, ids):
        def read(env):
            Quant = env["stock.quant"]
            part = env["product.product"].browse(ids["part"])
            lot = env["stock.lot"].browse(ids["lot"])
            van = env["stock.location"].browse(ids["van"])
            customers = env.ref("stock.stock_location_customers")
            jobs = env["maintenance.request"].browse(ids["jobs"])
            return (
                Quant._get_available_quantity(part, van, lot_id=lot, strict=True),
                sum(
                    Quant.search(
                        [("lot_id", "=", lot.id), ("location_id", "=", customers.id)]
                    ).mapped("quantity")
                ),
                sum(Quant.search([("lot_id", "=", lot.id)]).mapped("quantity")),
                [bool(job.completed_on) for job in jobs],
                env["stock.move"].search_count(
                    [("product_id", "=", part.id), ("state", "=", "done")]
                ),
            )

        return self._committed(read)

    def test_two_jobs_take_the_last_serialised_part_at_once(self):
        ids = self._committed(self._setup_jobs)
        self.addCleanup(self._cleanup_jobs, ids)
        job1_id, job2_id = ids["jobs"]
        with self._cursor() as env1, self._cursor() as env2:
            env1["maintenance.request"].browse(job1_id).action_complete_job()
            # the first one has not committed yet: the second gets a clear error
            # at once, not a wait, not a serialization failure
            with self.assertRaises(UserError) as cm:
                env2["maintenance.request"].browse(job2_id).action_complete_job()
            self.assertIn("Another job is being completed", str(cm.exception))
            env1.cr.commit()
        # van 0, the serial once at the customer, one job completed, one move
        self.assertEqual(self._stock_state(ids), (0.0, 1.0, 1.0, [True, False], 1))
        # tried again later, the second job is told the part is gone
        with self._cursor() as env2:
            with self.assertRaises(UserError) as cm:
                env2["maintenance.request"].browse(job2_id).action_complete_job()
            self.assertRegex(
                str(cm.exception), r"is not in \S*Concurrency Van: 0 there"
            )
        self.assertEqual(self._stock_state(ids), (0.0, 1.0, 1.0, [True, False], 1))

    def test_second_job_started_before_the_first_committed(self):
        """The second transaction read the van before the first committed: it
        must not trust its stale snapshot."""
        ids = self._committed(self._setup_jobs)
        self.addCleanup(self._cleanup_jobs, ids)
        job1_id, job2_id = ids["jobs"]
        with self._cursor() as env1, self._cursor() as env2:
            job2 = env2["maintenance.request"].browse(job2_id)
            # snapshot taken: the part is in the van as far as env2 knows
            self.assertEqual(
                env2["stock.quant"].search_count(
                    [("lot_id", "=", ids["lot"]), ("location_id", "=", ids["van"])]
                ),
                1,
            )
            env1["maintenance.request"].browse(job1_id).action_complete_job()
            env1.cr.commit()
            with self.assertRaises(UserError) as cm:
                job2.action_complete_job()
            self.assertIn("Another job is being completed", str(cm.exception))
        self.assertEqual(self._stock_state(ids), (0.0, 1.0, 1.0, [True, False], 1))

    # ------------------------------------------------------------------
    # Two billing runs on the same contracts
    # ------------------------------------------------------------------
    def _setup_contracts(self, env):
        product = env["product.product"].create(
            {"name": "Concurrency rental", "type": "service", "list_price": 100.0}
        )
        customer = env["res.partner"].create(
            {"name": "Concurrency Billing Customer", "is_company": True}
        )
        pricelist = env["product.pricelist"].create({"name": "Concurrency"})
        template = env["sale.subscription.template"].create(
            {"name": "Concurrency rental", "invoicing_mode": "draft"}
        )
        contracts = env["sale.subscription"].concat(
            *(
                create_contract(
                    env,
                    customer,
                    template=template,
                    pricelist=pricelist,
                    lines=[{"product_id": product.id, "price_unit": 100}],
                    date_start=fields.Date.today() - timedelta(days=40),
                    recurring_next_date=fields.Date.today(),
                )
                for _index in range(3)
            )
        )
        return {
            "contracts": contracts.ids,
            "product": product.id,
            "customer": customer.id,
            "pricelist": pricelist.id,
            "template": template.id,
        }

    def _cleanup_contracts(self, ids):
        def clean(env):
            contracts = env["sale.subscription"].browse(ids["contracts"])
            invoices = env["account.move"].search(
                [("partner_id", "=", ids["customer"])]
            )
            invoices.filtered(lambda m: m.state != "draft").button_draft()
            invoices.with_context(force_delete=True).unlink()
            contracts.activity_ids.unlink()
            contracts.unlink()
            env["sale.subscription.template"].browse(ids["template"]).unlink()
            env["product.pricelist"].browse(ids["pricelist"]).unlink()
            product = env["product.product"].browse(ids["product"])
            template = product.product_tmpl_id
            product.unlink()
            template.unlink()
            env["res.partner"].browse(ids["customer"]).unlink()

        self._committed(clean)

    def _invoice_counts(self, ids):
        return self._committed(
            lambda env: [
                len(contract.invoice_ids)
                for contract in env["sale.subscription"].browse(ids["contracts"])
            ]
        )

    def test_two_billing_runs_at_once_bill_each_contract_once(self):
        ids = self._committed(self._setup_contracts)
        self.addCleanup(self._cleanup_contracts, ids)
        with self._cursor() as env1, self._cursor() as env2:
            first = env1["sale.subscription"].browse(ids["contracts"])
            second = env2["sale.subscription"].browse(ids["contracts"])
            # run 1 bills the first contract and holds it; run 2 starts while
            # run 1 is still going: it skips what run 1 holds
            self.assertFalse(first[:1]._run_usage_billing())
            self.assertFalse(second._run_usage_billing())
            self.assertEqual([len(c.invoice_ids) for c in second], [0, 1, 1])
            # run 1 goes on: the contracts run 2 billed are now locked by run 2
            self.assertFalse(first[1:]._run_usage_billing())
            self.assertEqual([len(c.invoice_ids) for c in first], [1, 0, 0])
            env1.cr.commit()
            env2.cr.commit()
        self.assertEqual(self._invoice_counts(ids), [1, 1, 1])

    def test_a_run_with_an_old_snapshot_skips_what_was_billed_since(self):
        ids = self._committed(self._setup_contracts)
        self.addCleanup(self._cleanup_contracts, ids)
        with self._cursor() as env1, self._cursor() as env2:
            second = env2["sale.subscription"].browse(ids["contracts"])
            # run 2's snapshot: every contract is due
            self.assertEqual(len(second.filtered("recurring_next_date")), 3)
            env1["sale.subscription"].browse(ids["contracts"])._run_usage_billing()
            env1.cr.commit()
            self.assertFalse(second._run_usage_billing())
            self.assertFalse(second.invoice_ids)
            env2.cr.commit()
        self.assertEqual(self._invoice_counts(ids), [1, 1, 1])

    def test_two_scheduler_runs_at_once_bill_each_contract_once(self):
        ids = self._committed(self._setup_contracts)
        self.addCleanup(self._cleanup_contracts, ids)
        with self._cursor() as env1, self._cursor() as env2:
            # worker 1 is still in its run (its batch not committed) when
            # worker 2 starts the same job: worker 2 skips what 1 holds
            env1["sale.subscription"].cron_subscription_management()
            env2["sale.subscription"].cron_subscription_management()
            first = env1["sale.subscription"].browse(ids["contracts"])
            second = env2["sale.subscription"].browse(ids["contracts"])
            self.assertEqual([len(c.invoice_ids) for c in first], [1, 1, 1])
            self.assertEqual([len(c.invoice_ids) for c in second], [0, 0, 0])
