import logging
import threading
import time
from collections import defaultdict

import psycopg2.errors
from markupsafe import Markup

from odoo import Command, api, fields, models, modules
from odoo.exceptions import UserError
from odoo.tools import SQL, config

from odoo.addons.base.models.ir_cron import MAX_BATCH_PER_CRON_JOB

_logger = logging.getLogger(__name__)
# contracts invoiced in one account.move.create by the billing run
BILLING_BATCH_SIZE = 100
# seconds of billing per call of the scheduled job when the server sets no
# time limit (--limit-time-real 0); Odoo calls the job again while contracts
# remain
BILLING_TIME_BUDGET = 300
# share of a cron worker's time limits that the billing may use: Odoo calls
# the job up to MAX_BATCH_PER_CRON_JOB times in one run of the worker, each
# call may end one batch over its budget, and other jobs share the run
BILLING_LIMIT_SHARE = 0.25


class SaleSubscription(models.Model):
    _name = "sale.subscription"
    _inherit = ["sale.subscription", "serial.batch.mixin"]

    billing_run_date = fields.Date(
        string="Billed by the Scheduler on",
        readonly=True,
        copy=False,
        help="The day the scheduled billing run last invoiced this contract, or "
        "tried to: it is not tried again that day.",
    )

    # --- manual invoicing takes the billing run's lock ------------------------
    def create_invoice(self):
        self._lock_for_manual_billing()
        return super().create_invoice()

    def create_sale_order(self):
        self._lock_for_manual_billing()
        return super().create_sale_order()

    def _lock_for_manual_billing(self):
        for contract in self:
            if not contract._lock_for_billing():
                raise UserError(
                    self.env._(
                        "Contract %(contract)s is being invoiced by the billing "
                        "run right now, or was just invoiced by it: reload the "
                        "contract and try again.",
                        contract=contract.name,
                    )
                )

    # --- the scheduled job ------------------------------------------------------
    @api.model
    def cron_subscription_management(
        self, batch_size=BILLING_BATCH_SIZE, time_budget=None
    ):
        """subscription_oca's scheduled job, its duties kept: the due
        contracts are invoiced through the batched billing run, a batch at a
        time, each committed, within a time budget per call; the progress
        tells Odoo to call the job again while due contracts remain. When none
        remains, the ended contracts are closed and those whose start has come
        are started and invoiced, as subscription_oca does."""
        today = self._get_billing_day()
        if time_budget is None:
            time_budget = self._get_billing_time_budget()
        done, remaining, _failed = self._bill_due_contracts(
            today, batch_size, time_budget
        )
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        if not remaining:
            self._close_ended_contracts(today)
            self._start_contracts(today)

    @api.model
    def _get_billing_day(self):
        """The day the scheduler bills up to: subscription_oca's (the server's
        day), on which it also sets a started contract's next invoice date.
        The user's day would differ from it around midnight and skip, until
        the next day, a contract started today."""
        return fields.Date.today()

    @api.model
    def _get_billing_time_budget(self):
        """Seconds of billing per call of the scheduled job. Odoo calls a job
        that reports progress up to MAX_BATCH_PER_CRON_JOB times in one run,
        and stops a run past its limits: a cron worker of a multi-process
        server is killed past its real time limit (--limit-time-real-cron,
        else --limit-time-real) and its CPU limit (--limit-time-cpu); a
        threaded server reloads itself when a cron thread's run passes
        --limit-time-real-cron (when above 0, else --limit-time-real),
        measured on the benchmark's 5,000 contracts. The budget keeps those
        calls together well inside the limits (1.5 s a call on a default
        multi-process server, 3 s on a threaded one, where a call still bills
        at least one batch)."""
        cron_real = config["limit_time_real_cron"]
        if config["workers"]:
            real = cron_real if cron_real is not None and cron_real >= 0 else None
            if real is None:
                real = config["limit_time_real"]
            limits = [real, config["limit_time_cpu"]]
        else:
            # a threaded server has no CPU limit; 0 for the cron means its
            # general real time limit (odoo.service.server.process_limit)
            limits = [cron_real if cron_real and cron_real > 0 else None]
            if limits[0] is None:
                limits = [config["limit_time_real"]]
        limits = [limit for limit in limits if limit and limit > 0]
        if not limits:
            # no limit stops the run
            return BILLING_TIME_BUDGET
        return min(
            BILLING_TIME_BUDGET,
            min(limits) * BILLING_LIMIT_SHARE / MAX_BATCH_PER_CRON_JOB,
        )

    @api.model
    def _cron_usage_billing(self, batch_size=BILLING_BATCH_SIZE, time_budget=None):
        """The billing step of the scheduled job; returns the contracts that
        failed."""
        today = self._get_billing_day()
        return self._bill_due_contracts(today, batch_size, time_budget)[2]

    @api.model
    def _get_due_domain(self, today):
        """Running contracts whose invoice date has come, with lines to
        invoice (as subscription_oca), not yet tried by the scheduler today."""
        return [
            ("in_progress", "=", True),
            ("recurring_next_date", "<=", today),
            ("sale_subscription_line_ids", "!=", False),
            "|",
            ("billing_run_date", "=", False),
            ("billing_run_date", "!=", today),
        ]

    @api.model
    def _bill_due_contracts(self, today, batch_size, time_budget=None):
        """Bill the due contracts a batch at a time, each batch committed
        (outside tests), until none is left or the time budget (seconds) is
        spent. Contracts another run holds are left to it. Returns (contracts
        billed or tried, contracts left for a next call, contracts failed)."""
        deadline = None if time_budget is None else time.monotonic() + time_budget
        testing = modules.module.current_test or getattr(
            threading.current_thread(), "testing", False
        )
        domain = self._get_due_domain(today)
        held_elsewhere, done, failed = [], 0, self.browse()
        while True:
            batch = self.search(
                [*domain, ("id", "not in", held_elsewhere)],
                order="recurring_next_date, id",
                limit=batch_size,
            )
            if not batch:
                break
            locked = batch._lock_for_billing_batch()
            held_elsewhere += (batch - locked).ids
            failed |= locked._run_usage_billing(batch_size)
            # billed or failed (the activity says why): not again today
            locked.write({"billing_run_date": today})
            done += len(locked)
            if not testing:
                # each batch billed is kept, whatever happens to the next one
                self.env.cr.commit()  # pylint: disable=invalid-commit
            if deadline is not None and time.monotonic() >= deadline:
                break
        remaining = self.search_count([*domain, ("id", "not in", held_elsewhere)])
        return done, remaining, failed

    @api.model
    def _close_ended_contracts(self, today):
        """subscription_oca's closing of the running contracts that ended,
        but never one still due that another run is billing."""
        ended = self.search(
            [
                ("in_progress", "=", True),
                ("recurring_rule_boundary", "=", False),
                ("date", "<=", today),
            ]
        )
        for contract in ended:
            if (
                contract.recurring_next_date
                and contract.recurring_next_date <= today
                and contract.sale_subscription_line_ids
                and contract.billing_run_date != today
            ):
                continue
            contract.with_company(contract.company_id).close_subscription()

    @api.model
    def _start_contracts(self, today):
        """subscription_oca's start of the contracts whose start date has come:
        started and invoiced at once, one by one, as subscription_oca does
        (an error stops the job, as there; every due contract was billed
        before)."""
        starting = self.search(
            [
                ("in_progress", "=", False),
                ("stage_id.type", "=", "pre"),
                ("date_start", "<=", today),
            ],
            order="recurring_next_date, id",
        )
        for contract in starting:
            contract = contract.with_company(contract.company_id)
            contract.action_start_subscription()
            contract.generate_invoice()

    # --- the billing run ------------------------------------------------------
    def _run_usage_billing(self, batch_size=BILLING_BATCH_SIZE):
        """Invoice these contracts, a batch at a time: the invoices of a batch
        are built through subscription_oca's own hooks and created in one
        call, in one savepoint. When a batch fails, its contracts are billed
        again one by one, each in its own savepoint, so that one contract's
        error is logged on it and the others go on. Returns the contracts
        that failed."""
        return self._run_in_batches(
            lambda batch: batch._lock_for_billing_batch()._generate_invoices_batch(),
            batch_size,
            self.env._("Usage billing failed"),
            run_one=lambda contract: (
                contract._lock_for_billing() and contract._generate_invoices_batch()
            ),
        )

    def _get_batch_failure_user_id(self):
        # the contract's salesperson is told that its billing failed
        self.ensure_one()
        return self.user_id.id or super()._get_batch_failure_user_id()

    def _generate_invoices_batch(self):
        """subscription_oca's `generate_invoice` for many contracts at once:
        the same invoice values (its `_prepare_account_move` and the lines'
        `_prepare_account_move_line`, with the usage lines this add-on adds),
        created in one `account.move.create`, posted (and sent) together, the
        next invoice dates moved on and the notes logged in one go. Contracts
        invoiced through a sale order go through `generate_invoice`."""
        by_order = self.filtered(
            lambda s: s.template_id.invoicing_mode == "sale_and_invoice"
        )
        for subscription in by_order:
            subscription.with_company(subscription.company_id).generate_invoice()
        contracts = self - by_order
        Move = self.env["account.move"]
        if not contracts:
            return Move
        if not Move.has_access("create"):
            # as subscription_oca's create_invoice: who may change the
            # contracts may invoice them
            contracts.check_access("write")
        days = {contract.id: contract.recurring_next_date for contract in contracts}
        invoices = Move
        # each company's invoices in its own journals, as the cron's
        # with_company does for subscription_oca
        for company in contracts.company_id:
            group = contracts.filtered(lambda s, c=company: s.company_id == c)
            invoices |= group.with_company(company)._create_invoices_batch(days)
        to_post = invoices.filtered(
            lambda move: move.subscription_id.template_id.invoicing_mode != "draft"
        )
        if to_post:
            to_post.action_post()
        # as generate_invoice: posted invoices are sent (their PDF rendered
        # in batches by account.move.send), grouped by mail template
        to_send = defaultdict(lambda: Move)
        for invoice in to_post:
            template = invoice.subscription_id.template_id
            to_send[template.invoice_mail_template_id] |= invoice
        Send = self.env["account.move.send"]
        for mail_template, moves in to_send.items():
            try:
                with self.env.cr.savepoint():
                    Send._generate_and_send_invoices(
                        moves, mail_template=mail_template, sending_methods=["email"]
                    )
            except Exception:  # the savepoint undid the batch's documents
                # some wkhtmltopdf builds cannot render several invoices in
                # one document: send them one by one, as generate_invoice does
                _logger.info(
                    "Sending %s invoices at once failed: one by one", len(moves)
                )
                for move in moves:
                    Send._generate_and_send_invoices(
                        move, mail_template=mail_template, sending_methods=["email"]
                    )
        for contract in contracts:
            contract.calculate_recurring_next_date(days[contract.id])
        contracts._message_log_batch(
            bodies={
                invoice.subscription_id.id: invoice.subscription_id._get_invoice_note(
                    invoice
                )
                for invoice in invoices
            }
        )
        return invoices

    def _create_invoices_batch(self, days):
        """The invoices of these contracts (one company) in one create, their
        usage readings linked to the lines that bill them."""
        # serials with nothing new to bill are billed on an estimate
        self._create_usage_estimates()
        unbilled = self._read_unbilled_readings()
        vals_list, usage_lines = self._prepare_invoices_batch_vals(unbilled)
        invoices = self._create_invoice_moves(vals_list)
        for contract, invoice, usage in zip(self, invoices, usage_lines, strict=True):
            contract._link_usage_readings(
                invoice.invoice_line_ids, days[contract.id], usage_lines=usage
            )
        # only a reading to review holds usage: the notes need those alone,
        # and only the contracts covering their serials
        to_review = unbilled.filtered(lambda r: r.review_state == "to_review")
        held_lots = to_review.lot_id
        held = {
            contract.id: contract._get_held_usage_note(days[contract.id], to_review)
            for contract in (self if held_lots else self.browse())
            if contract.covered_lot_ids & held_lots
        }
        held = {contract_id: note for contract_id, note in held.items() if note}
        if held:
            self.browse(held)._message_log_batch(bodies=held)
        return invoices

    def _prepare_invoices_batch_vals(self, unbilled):
        """([invoice values], [usage lines of each]) of these contracts (one
        company): subscription_oca's `_prepare_account_move` and the lines'
        `_prepare_account_move_line`, with the usage lines; each contract
        reads its own share of the batch's unbilled readings."""
        last_billed = self._read_last_billed_readings()
        defaults = self._get_invoice_batch_defaults()
        by_lot = defaultdict(lambda: unbilled.browse())
        for reading in unbilled:
            by_lot[reading.lot_id.id] |= reading
        vals_list, usage_lines = [], []
        for contract in self:
            own = unbilled.browse().union(
                *(by_lot[lot_id] for lot_id in contract.covered_lot_ids.ids)
            )
            usage = contract._get_usage_lines(unbilled=own, last_billed=last_billed)
            lines = [
                line._prepare_account_move_line()
                for line in contract.sale_subscription_line_ids
            ] + [dict(defaults["line"], **vals) for vals, _readings in usage]
            line_ids = [
                Command.create(dict(vals, **self._get_line_amount_vals(vals, defaults)))
                for vals in lines
            ]
            # the usage lines are in line_ids already: the hook must not add
            # them a second time
            vals = contract.with_context(
                serial_usage_lines_added=True
            )._prepare_account_move(line_ids)
            vals_list.append(dict(defaults["move"], **vals))
            usage_lines.append(usage)
        return vals_list, usage_lines

    @api.model
    def _get_line_amount_vals(self, line_vals, defaults):
        """The journal amounts Odoo's invoice engine gives a product line of a
        customer invoice in the company's currency (its untaxed subtotal,
        negative), given with the line so that the engine need not write
        them on each line after creating it (a write per line, measured in
        BENCHMARKS.md). The engine still computes the line's taxes and
        rewrites these amounts wherever its own differ (a tax included in the
        price, say): they only save work when they are right."""
        if not defaults["company_currency"]:
            return {}
        currency = defaults["company_currency"]
        amount = -currency.round(
            line_vals.get("quantity", 1.0)
            * line_vals.get("price_unit", 0.0)
            * (1.0 - (line_vals.get("discount") or 0.0) / 100.0)
        )
        return {"amount_currency": amount, "balance": amount}

    @api.model
    def _create_invoice_moves(self, vals_list):
        """The customer invoices of a batch, in one `account.move.create`."""
        # sudo and context: as subscription_oca's create_invoice; a run creates
        # many invoices: no "created" note nor follower on each (the contract
        # gets the note)
        return (
            self.env["account.move"]
            .sudo()
            .with_context(
                default_move_type="out_invoice",
                journal_type="sale",
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
            )
            .create(vals_list)
        )

    def _get_invoice_batch_defaults(self):
        """What account.move would look up once per invoice of the batch, read
        once for the batch (one company), giving the same result:
        - move: the journal of a contract without one, Odoo's default (the
          first sale journal of the company: `_search_default_journal`, the
          invoice's currency being set by the journal);
        - line: no analytic distribution on the usage lines when the database
          has no distribution model (`_compute_analytic_distribution` would
          find none and leave the line without); with models, Odoo decides;
        - company_currency: the currency of the invoices when it is the
          company's (the journal has no other), else False."""
        Journal = self.env["account.journal"]
        journal = Journal.search(
            [*Journal._check_company_domain(self.env.company), ("type", "=", "sale")],
            limit=1,
        )
        # sudo: the invoices are created as superuser (as subscription_oca
        # does), so Odoo's own look-up would see every model too
        Model = self.env["account.analytic.distribution.model"].sudo()
        company_currency = self.env.company.currency_id
        journals = journal | self.journal_id
        return {
            "move": {"journal_id": journal.id} if journal else {},
            "line": {}
            if Model.search_count([], limit=1)
            else {"analytic_distribution": False},
            "company_currency": company_currency
            if all(
                j.currency_id in (company_currency, j.currency_id.browse())
                for j in journals
            )
            else False,
        }

    def _get_invoice_note(self, invoice):
        """The note subscription_oca's generate_invoice logs on the contract."""
        self.ensure_one()
        created = self.env._("Created invoice with reference")
        if invoice.state == "posted":
            return Markup(
                "<b>%s</b> <a href=# data-oe-model=account.move data-oe-id=%s>%s</a>"
            ) % (created, invoice.id, invoice.name)
        return Markup("<b>%s</b> %s") % (created, self.env._("To validate"))

    # --- locks: two billing runs at once bill each contract once -------------
    def _lock_for_billing_batch(self):
        """The contracts of the batch this run may bill, locked until its end
        (see `_lock_for_billing`), in one query; one by one when a contract
        was billed since this run's snapshot."""
        if not self:
            return self
        try:
            with self.env.cr.savepoint(flush=False):
                # log_exceptions: a refused lock is an expected answer here
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM sale_subscription WHERE id IN %s "
                        "FOR NO KEY UPDATE SKIP LOCKED",
                        tuple(self.ids),
                    ),
                    log_exceptions=False,
                )
                locked = {row[0] for row in self.env.cr.fetchall()}
        except psycopg2.errors.SerializationFailure:
            return self.filtered(lambda s: s._lock_for_billing())
        skipped = self.filtered(lambda s: s.id not in locked)
        if skipped:
            _logger.info(
                "Billing of %s skipped: another run holds them",
                ", ".join(skipped.mapped("name")),
            )
        return self - skipped

    def _lock_for_billing(self):
        """Lock the contract for this billing run until its end. False when
        another run holds it (SKIP LOCKED) or billed it since this run's
        snapshot: that run bills it, this one skips it."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                # log_exceptions: a refused lock is an expected answer here
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM sale_subscription WHERE id = %s "
                        "FOR NO KEY UPDATE SKIP LOCKED",
                        self.id,
                    ),
                    log_exceptions=False,
                )
                rows = self.env.cr.fetchall()
        except psycopg2.errors.SerializationFailure:
            _logger.info("Billing of %s skipped: billed by another run", self.name)
            return False
        if not rows:
            _logger.info("Billing of %s skipped: another run holds it", self.name)
        return bool(rows)
