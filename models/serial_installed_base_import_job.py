import logging
import threading
import time
from collections import defaultdict
from datetime import date, datetime

import psycopg2.errors
from markupsafe import Markup

from odoo import Command, api, fields, models, modules
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

_logger = logging.getLogger(__name__)
# rows applied in one committed batch: about 2 s of work (an import writes
# about 45 rows a second), so that Odoo's ten calls a cron run stay inside a
# cron worker's time limits
IMPORT_JOB_BATCH_SIZE = 100
# the serial fields an import sets, restored when a failed job is withdrawn
LOT_IMPORT_FIELDS = [
    "customer_id",
    "site_id",
    "delivery_date",
    "installation_date",
    "supplier_id",
    "receipt_date",
    "warranty_policy_id",
    "warranty_end_date",
]


class SerialInstalledBaseImportJob(models.Model):
    """A big installed-base file, checked whole in the request, then applied
    by the scheduler a batch at a time, each batch committed. All or nothing:
    a batch that fails writes nothing of its own, and the batches applied
    before it are withdrawn (see `_undo_next_batch`)."""

    _name = "serial.installed.base.import.job"
    _description = "Installed Base Import Job"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    # users only read a job (the scheduler writes it): they post and handle
    # its activities with read access
    _mail_post_access = "read"

    name = fields.Char(required=True, readonly=True)
    filename = fields.Char(string="File", readonly=True)
    state = fields.Selection(
        selection=[
            ("draft", "Draft"),
            ("queued", "Queued"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
        ],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Launched by",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
        help="The job applies the file with this user's access rights.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    line_ids = fields.One2many(
        "serial.installed.base.import.job.line", "job_id", string="Rows", readonly=True
    )
    row_count = fields.Integer(string="Rows in the File", readonly=True)
    done_count = fields.Integer(string="Rows Imported", readonly=True)
    undone_count = fields.Integer(string="Rows Withdrawn", readonly=True)
    progress = fields.Float(compute="_compute_progress", string="Progress (%)")
    undo_pending = fields.Boolean(
        string="Withdrawing",
        readonly=True,
        help="The job failed: the rows imported before the failure are being "
        "withdrawn.",
    )
    problems = fields.Text(readonly=True)

    @api.depends("row_count", "done_count", "undone_count", "undo_pending")
    def _compute_progress(self):
        for job in self:
            if job.undo_pending or job.undone_count:
                # withdrawing: the share of the imported rows taken back
                job.progress = 100.0 * job.undone_count / max(job.done_count, 1)
            else:
                job.progress = 100.0 * job.done_count / max(job.row_count, 1)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            # a job runs as the user who queued it, from its first row: what
            # the scheduler sets is not for a user to choose
            for vals in vals_list:
                for fname in ("done_count", "undone_count", "undo_pending", "problems"):
                    vals.pop(fname, None)
                vals["user_id"] = self.env.uid
                if vals.get("state") not in (None, "draft", "queued"):
                    vals["state"] = "draft"
        return super().create(vals_list)

    def unlink(self):
        if any(job.state in ("queued", "running") or job.undo_pending for job in self):
            raise UserError(
                self.env._("An import job that is queued or running cannot be deleted.")
            )
        return super().unlink()

    # --- queueing -------------------------------------------------------------
    @api.model
    def _create_from_rows(self, filename, rows):
        """A queued job of the file's checked rows ((row number, cells)), the
        scheduler triggered to start it at once."""
        job = self.create(
            {
                "name": self.env._("Import of %(file)s", file=filename or "?"),
                "filename": filename,
                "state": "queued",
                "row_count": len(rows),
                "line_ids": [
                    Command.create(
                        {
                            "row": number,
                            "serial": str(cells.get("serial") or "")[:100],
                            "cells": self._json_cells(cells),
                        }
                    )
                    for number, cells in rows
                ],
            }
        )
        job.message_post(
            body=self.env._(
                "%(rows)s rows checked and queued: the scheduler imports them in "
                "batches of %(batch)s.",
                rows=len(rows),
                batch=IMPORT_JOB_BATCH_SIZE,
            )
        )
        # sudo: starting the scheduled job is a system act (ir.cron is for
        # administrators); the job itself runs with this user's rights
        self.env.ref("serial_service.ir_cron_installed_base_import").sudo()._trigger()
        return job

    @api.model
    def _json_cells(self, cells):
        """The cells of a row as JSON values (dates as ISO text, as the
        import reads them)."""
        values = {}
        for key, value in cells.items():
            if isinstance(value, datetime | date):
                value = value.isoformat()
            elif value is not None and not isinstance(value, int | float | str):
                value = str(value)
            values[key] = value
        return values

    def _get_form_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }

    # --- the scheduled job ------------------------------------------------------
    @api.model
    def _cron_run_import_jobs(self, batch_size=IMPORT_JOB_BATCH_SIZE, time_budget=None):
        """Apply (or withdraw) the queued jobs' rows a batch at a time, each
        batch committed (outside tests), within a time budget per call; the
        progress tells Odoo to call again while rows remain."""
        if time_budget is None:
            time_budget = self.env["sale.subscription"]._get_billing_time_budget()
        deadline = time.monotonic() + time_budget
        testing = modules.module.current_test or getattr(
            threading.current_thread(), "testing", False
        )
        done, held_elsewhere = 0, []
        while True:
            job = self._lock_next_job(held_elsewhere)
            if not job:
                break
            count = job._run_next_batch(batch_size)
            done += count
            if not testing:
                # each batch is kept, whatever happens to the next one
                self.env.cr.commit()  # pylint: disable=invalid-commit
            if not count or time.monotonic() >= deadline:
                break
        remaining = self._get_remaining_rows(held_elsewhere)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done, remaining

    @api.model
    def _lock_next_job(self, held_elsewhere):
        """The oldest job with work left, locked until the end of this
        transaction; one that another cron thread holds is skipped (SKIP
        LOCKED), as is one that thread changed since this one's snapshot, so
        two threads never run one job."""
        self.env.flush_all()
        skip = tuple(held_elsewhere) or (0,)
        self.env.cr.execute(
            SQL(
                "SELECT id FROM serial_installed_base_import_job "
                "WHERE (state IN ('queued', 'running') OR undo_pending) "
                "AND id NOT IN %s ORDER BY id",
                skip,
            )
        )
        for (job_id,) in self.env.cr.fetchall():
            try:
                with self.env.cr.savepoint(flush=False):
                    # log_exceptions: a refused lock is an expected answer here
                    self.env.cr.execute(
                        SQL(
                            "SELECT id FROM serial_installed_base_import_job "
                            "WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
                            job_id,
                        ),
                        log_exceptions=False,
                    )
                    locked = self.env.cr.fetchone()
            except psycopg2.errors.SerializationFailure:
                locked = None  # another thread ran a batch of it meanwhile
            if locked:
                return self.browse(job_id)
            held_elsewhere.append(job_id)
        return self.browse()

    @api.model
    def _get_remaining_rows(self, held_elsewhere=()):
        Line = self.env["serial.installed.base.import.job.line"]
        domain = [("job_id", "not in", list(held_elsewhere))]
        return Line.search_count(
            [
                *domain,
                ("state", "=", "staged"),
                ("job_id.state", "in", ("queued", "running")),
            ]
        ) + Line.search_count(
            [*domain, ("state", "=", "applied"), ("job_id.undo_pending", "=", True)]
        )

    def _run_next_batch(self, batch_size):
        """One batch of this (locked) job: its next rows applied, or, once it
        failed, the next rows it had applied withdrawn. Returns the number of
        rows handled."""
        self.ensure_one()
        if self.undo_pending:
            return self._undo_next_batch(batch_size)
        if self.state == "queued":
            self.state = "running"
        lines = self.env["serial.installed.base.import.job.line"].search(
            [("job_id", "=", self.id), ("state", "=", "staged")],
            order="row",
            limit=batch_size,
        )
        if lines and not self.user_id.has_group("serial_service.group_service_manager"):
            self._fail_batch(
                lines,
                self.env._(
                    "%(user)s is not a service manager: only service managers "
                    "import the installed base.",
                    user=self.user_id.name,
                ),
            )
            return len(lines)
        if lines:
            try:
                with self.env.cr.savepoint():
                    self._apply_lines(lines)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                # another transaction changed the same serials at once: not the
                # file's fault; the rows stay staged and the scheduler runs the
                # batch again (Odoo rolls the call back and retries the job)
                _logger.info(
                    "%s: rows %s met a concurrent update", self.name, lines[0].row
                )
                raise
            except Exception as error:  # the savepoint undid the whole batch
                _logger.info("%s: rows %s failed: %s", self.name, lines[0].row, error)
                self._fail_batch(lines, self._error_text(error))
                return len(lines)
        if not self._count_lines("staged"):
            self._finish()
        return len(lines)

    def _link_contracts(self):
        """The last step, in one transaction: the imported serials are linked
        to their contracts (which bills them) only once every row is in."""
        wizard = self._get_import_wizard()
        lot_ids_by_contract = defaultdict(list)
        for line in self.env["serial.installed.base.import.job.line"].search_read(
            [("job_id", "=", self.id), ("state", "=", "applied")], ["lot_id", "undo"]
        ):
            contract_id = (line["undo"] or {}).get("contract_id")
            if contract_id:
                lot_ids_by_contract[contract_id].append(line["lot_id"][0])
        wizard._link_contracts(
            {
                wizard.env["sale.subscription"].browse(contract_id): wizard.env[
                    "stock.lot"
                ].browse(lot_ids)
                for contract_id, lot_ids in lot_ids_by_contract.items()
            }
        )

    def _count_lines(self, state):
        self.ensure_one()
        return self.env["serial.installed.base.import.job.line"].search_count(
            [("job_id", "=", self.id), ("state", "=", state)]
        )

    @api.model
    def _error_text(self, error):
        return str(error.args[0]) if error.args else str(error)

    def _get_import_wizard(self):
        """The import wizard, as the user who launched the job, in its company:
        it checks and writes the rows with that user's access rights."""
        self.ensure_one()
        return (
            self.env["serial.installed.base.import"]
            .with_user(self.user_id)
            .with_company(self.company_id)
            .with_context(allowed_company_ids=[self.company_id.id])
            .new({"filename": self.filename})
        )

    def _apply_lines(self, lines):
        """Check the rows again against the database as it is now (another
        user may have changed a serial since the file was queued), then write
        them; what each row wrote is kept on its line, to be withdrawn if a
        later batch fails."""
        wizard = self._get_import_wizard()
        plan = wizard._check_rows([(line.row, dict(line.cells)) for line in lines])
        if plan["problems"]:
            raise UserError(
                "\n".join(
                    self.env._(
                        "Row %(row)s: %(reasons)s", row=row, reasons="; ".join(errors)
                    )
                    for row, errors in plan["problems"]
                )
            )
        before = {}
        for item in plan["planned"]:
            if item["lot"]:
                before[item["row"]] = self._lot_values(item["lot"])
        wizard._apply_plan(plan, link_contracts=False)
        line_by_row = {line.row: line for line in lines}
        for item in plan["planned"]:
            lot = item["lot"]
            line_by_row[item["row"]].write(
                {
                    "state": "applied",
                    "lot_id": lot.id,
                    "lot_created": bool(item.get("created")),
                    "undo": {
                        "old_values": before.get(item["row"], {}),
                        "moved": not item["at_customer"],
                        "equipment_id": item["needs_equipment"] and lot.equipment_id.id,
                        "contract_id": item["link_contract"] and item["contract"].id,
                        "reading_ids": item.get("reading_ids", []),
                        "site_id": item.get("site_created") and item["site"].id,
                    },
                }
            )
        self.done_count += len(lines)

    @api.model
    def _lot_values(self, lot):
        values = {}
        for fname in LOT_IMPORT_FIELDS:
            value = lot[fname]
            if lot._fields[fname].type == "many2one":
                value = value.id
            elif isinstance(value, date):
                value = value.isoformat()
            values[fname] = value
        return values

    def _fail_batch(self, lines, reason):
        """The job fails at this batch (nothing of it was written), or at the
        contract links of its last step (no lines): the user who launched it
        is told, and the rows imported before are withdrawn by the next
        calls."""
        applied = self._count_lines("applied")
        if lines:
            lines.write({"state": "failed"})
            where = self.env._(
                "The import failed at rows %(first)s to %(last)s:",
                first=min(lines.mapped("row")),
                last=max(lines.mapped("row")),
            )
        else:
            where = self.env._(
                "The import failed when linking the serials to their contracts:"
            )
        if applied:
            what = self.env._(
                "Nothing of this step was written; the %(count)s rows imported "
                "before are being withdrawn, so that the file changes nothing.",
                count=applied,
            )
        else:
            what = self.env._(
                "Nothing of this step was written, and no row was imported "
                "before: the file changed nothing."
            )
        self.write(
            {"state": "failed", "undo_pending": bool(applied), "problems": reason}
        )
        body = Markup("<p>%s</p><pre>%s</pre><p>%s</p>") % (where, reason, what)
        self._notify_user(body)
        self.activity_schedule(
            "mail.mail_activity_data_warning",
            summary=self.env._("Installed base import failed"),
            note=body,
            user_id=self.user_id.id,
        )

    def _finish(self):
        try:
            with self.env.cr.savepoint():
                self._link_contracts()
        except Exception as error:  # the savepoint undid the links
            _logger.info("%s: linking the contracts failed: %s", self.name, error)
            self._fail_batch(
                self.env["serial.installed.base.import.job.line"],
                self._error_text(error),
            )
            return
        self.state = "done"
        self._notify_user(
            Markup("<p>%s</p>")
            % self.env._(
                "The file %(file)s is imported: %(rows)s rows.",
                file=self.filename,
                rows=self.done_count,
            )
        )

    def _notify_user(self, body):
        """A message on the job's chatter that reaches the user who launched
        it (inbox or e-mail, as they chose)."""
        self.message_post(
            body=body,
            partner_ids=self.user_id.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
