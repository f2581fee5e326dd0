"""Job lines once their job is completed or billed, and the bookkeeping
fields only the code that owns them writes: frozen whoever asks."""

from odoo import api, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare


class SerialServiceLine(models.Model):
    _inherit = "serial.service.line"

    # --- frozen lines: what completion sets is final ---
    @api.model_create_multi
    def create(self, vals_list):
        self._check_jobs_open([vals.get("request_id") for vals in vals_list])
        Job = self.env["maintenance.request"]
        job_fields = self._job_value_fields().keys()
        for vals in vals_list:
            request_id = vals.get("request_id")
            if isinstance(request_id, int) and vals.keys() & job_fields:
                self._check_job_values(vals, Job.browse(request_id))
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("request_id"):
            self._check_jobs_open([vals["request_id"]])
        if vals.keys() & self._job_value_fields().keys():
            self._check_job_values(
                vals,
                self.env["maintenance.request"].browse(vals["request_id"])
                if vals.get("request_id")
                else self.request_id,
            )
        self._check_frozen_write(vals)
        self._check_bookkeeping_write(vals)
        self._check_line_type_write(vals)
        return super().write(vals)

    @api.model
    def _check_jobs_open(self, request_ids):
        """No line is added to (or moved onto) a completed job, whoever asks."""
        jobs = self.env["maintenance.request"].browse(
            {rid for rid in request_ids if isinstance(rid, int)}
        )
        done = jobs.filtered("completed_on")
        if done:
            raise UserError(
                self.env._(
                    "Job %(job)s is completed: no line can be added to it.",
                    job=done[0].name,
                )
            )

    # --- the job's values the line stores: they follow the job ---
    @api.model
    def _job_value_fields(self):
        """{line field: job field} of the job's values each line stores, to
        search and group lines by them: set from the job, never by a write on
        the line (a part booked on another unit, company or day)."""
        return {
            "company_id": "company_id",
            "unit_lot_id": "lot_id",
            "service_date": "request_date",
        }

    @api.model
    def _check_job_values(self, vals, jobs):
        """A user's value for one of the job's values is refused unless it is
        the job's own (as a client may send it); the system's is trusted."""
        if self.env.su:
            return
        for fname, job_fname in self._job_value_fields().items():
            if fname not in vals:
                continue
            value = self._fields[fname].convert_to_cache(vals[fname], self)
            for job in jobs:
                expected = job[job_fname]
                if isinstance(expected, models.BaseModel):
                    expected = expected.id
                if (expected or False) != (value or False):
                    raise UserError(
                        self.env._(
                            "%(field)s of a job line is its job's (%(job)s): "
                            "change it on the job.",
                            field=self._fields[fname].string,
                            job=job.name,
                        )
                    )

    def _check_frozen_write(self, vals):
        """A completed line changes only by completion setting its stock move
        and invoice line once; a billed line keeps its invoice line; a
        completed line stays completed (whoever asks, a manager included)."""
        locked = self.filtered("coverage_locked")
        if locked and (
            set(vals) - {"coverage_locked", "move_id", "invoice_line_id"}
            or ("coverage_locked" in vals and not vals["coverage_locked"])
        ):
            raise UserError(self.env._("The lines of a completed job cannot change."))
        for fname in ("move_id", "invoice_line_id"):
            if fname not in vals:
                continue
            new_id = vals[fname] or False
            changed = self.filtered(
                lambda line, f=fname, n=new_id: line[f] and line[f].id != n
            )
            if changed:
                raise UserError(
                    self.env._(
                        "Line %(line)s of job %(job)s was completed or billed: its "
                        "stock move and invoice line cannot change.",
                        line=changed[0].name or changed[0].product_id.display_name,
                        job=changed[0].request_id.name,
                    )
                )

    # --- bookkeeping: set by the code that owns it, never by hand ---
    @api.model
    def _bookkeeping_fields(self):
        """What marks a line completed, moved or billed (set by completion,
        as the system) and its charge (the engine's): never a user's write,
        on an open job too (a line marked completed, moved or billed by hand
        would never leave the van or be invoiced)."""
        return ["coverage_locked", "move_id", "invoice_line_id", "charge_amount"]

    def _check_bookkeeping_write(self, vals):
        """A user's write of a bookkeeping field is refused, a manager's too;
        sending the values as they are (as a client may) changes nothing and
        passes. The code that owns these fields writes them with sudo()."""
        if self.env.su:
            return
        changed = [
            fname
            for fname in self._bookkeeping_fields()
            if fname in vals and self._differs(fname, vals[fname])
        ]
        if changed:
            raise AccessError(
                self.env._(
                    "%(fields)s of a job line are set when the job is quoted, "
                    "completed or invoiced, not by hand.",
                    fields=", ".join(self._fields[f].string for f in changed),
                )
            )

    def _check_line_type_write(self, vals):
        """A line's type is its product's: it decides whether the part leaves
        the van by a stock move at completion (and the coverage rules follow
        the product). Changing it by hand is refused, whoever asks; changing
        the product changes the type."""
        if self.env.su or "line_type" not in vals:
            return
        product = (
            self.env["product.product"].browse(vals["product_id"])
            if vals.get("product_id")
            else None
        )
        labels = dict(self._fields["line_type"]._description_selection(self.env))
        for line in self:
            expected = (product or line.product_id)._get_service_line_type()
            if vals["line_type"] != expected:
                raise UserError(
                    self.env._(
                        "The type of %(line)s is its product's (%(type)s): choose "
                        "another product, or change the product's service line "
                        "type.",
                        line=line.name or line.product_id.display_name,
                        type=labels.get(expected, expected),
                    )
                )

    def _differs(self, fname, value):
        """Whether value differs from the field's value on one of these lines."""
        field = self._fields[fname]
        for line in self:
            if field.type == "many2one":
                differs = (line[fname].id or False) != (value or False)
            elif field.type in ("float", "monetary"):
                differs = float_compare(line[fname], value or 0.0, precision_digits=6)
            else:
                differs = bool(line[fname]) != bool(value)
            if differs:
                return True
        return False

    def unlink(self):
        done = self.filtered(lambda line: line.invoice_line_id or line.coverage_locked)
        if done:
            raise UserError(
                self.env._(
                    "Line %(line)s of job %(job)s was completed or billed and cannot "
                    "be deleted.",
                    line=done[0].name or done[0].product_id.display_name,
                    job=done[0].request_id.name,
                )
            )
        return super().unlink()
