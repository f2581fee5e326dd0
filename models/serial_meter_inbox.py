import base64

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

IMPORT_EXTENSIONS = (".csv", ".xlsx")


class _RollBack(Exception):
    """Leaves the import's savepoint: a file of the mail was refused."""


class SerialMeterInbox(models.Model):
    """A meter e-mail inbox: devices and fleet tools e-mail their counters as
    a CSV (or xlsx) attachment to its alias; each mail goes through the meter
    import (serial.meter.reading.import), all or nothing, and the sender gets
    one reply saying what was recorded or every row refused. Only its
    followers may send to it (by default)."""

    _name = "serial.meter.inbox"
    _description = "Meter E-mail Inbox"
    _inherit = ["mail.thread", "mail.alias.mixin"]

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    imported_count = fields.Integer(
        string="Readings Recorded", readonly=True, copy=False
    )

    def _alias_get_creation_values(self):
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get_id(self._name)
        if self.id:
            values["alias_force_thread_id"] = self.id
        values.setdefault("alias_contact", "followers")
        return values

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A mail to an inbox's alias always goes to that inbox (forced
        thread); one that reaches the model otherwise opens no inbox."""
        raise UserError(self.env._("Send meter readings to an inbox's alias."))

    def message_update(self, msg_dict, update_vals=None):
        res = super().message_update(msg_dict, update_vals=update_vals)
        for inbox in self:
            inbox._import_mailed_readings(msg_dict)
        return res

    # --- importing a mail -----------------------------------------------------
    def _import_mailed_readings(self, msg_dict):
        """Import the mail's spreadsheets, all or nothing, and reply once."""
        self.ensure_one()
        files = [
            (attachment.fname, attachment.content)
            for attachment in msg_dict.get("attachments") or []
            if (attachment.fname or "").lower().endswith(IMPORT_EXTENSIONS)
        ]
        problems, count = [], 0
        if not files:
            problems.append(
                self.env._("No .csv or .xlsx file was attached to the e-mail.")
            )
        else:
            problems, count = self._import_files(files)
        if not problems:
            # sudo: the inbox's own counter, whoever processes the mail
            self.sudo().imported_count += count
        self._reply_to_sender(msg_dict, problems, count)

    def _import_files(self, files):
        """([problems], readings recorded): every file through the import
        wizard in one savepoint, rolled back when any file is refused."""
        # sudo: mail is processed by the mail gateway's user; the inbox's
        # followers are the senders allowed, and the import checks every row.
        # Sudo sees every company's serials: the import looks up the inbox's
        # company's only (a serial number another company also uses is not
        # theirs; two of the inbox's company sharing it are refused by row)
        Wizard = (
            self.env["serial.meter.reading.import"].sudo().with_company(self.company_id)
        )
        problems, count = [], 0
        try:
            with self.env.cr.savepoint():
                for name, content in files:
                    if isinstance(content, str):
                        content = content.encode()
                    try:
                        wizard = Wizard.create(
                            {
                                "file": base64.b64encode(content),
                                "filename": name,
                                "mode": "all",
                                "company_id": self.company_id.id,
                            }
                        )
                        wizard.action_import()
                        self.env.flush_all()
                    except (UserError, ValidationError, AccessError) as error:
                        problems.append(f"{name}: {error}")
                        continue
                    if wizard.problem_count:
                        problems += [
                            f"{name}: {line}" for line in wizard.problems.splitlines()
                        ]
                    count += wizard.imported_count
                if problems:
                    raise _RollBack()
        except _RollBack:
            self.env.invalidate_all()
            count = 0
        return problems, count

    def _reply_to_sender(self, msg_dict, problems, count):
        """One e-mail back to the sender, and a note on the inbox."""
        if problems:
            subject = self.env._("Meter readings refused: nothing was recorded")
            body = Markup("<p>%s</p><ul>%s</ul>") % (
                self.env._(
                    "Your meter readings were not recorded: correct these rows and "
                    "send the whole file again."
                ),
                Markup("").join(Markup("<li>%s</li>") % line for line in problems),
            )
        else:
            subject = self.env._("Meter readings recorded")
            body = Markup("<p>%s</p>") % self.env._(
                "%(count)s meter readings were recorded.", count=count
            )
        original = msg_dict.get("subject") or ""
        # sudo: the gateway's user may not create mails; one reply, to the sender
        self.env["mail.mail"].sudo().create(
            {
                "subject": f"{subject} ({original})" if original else subject,
                "body_html": body,
                "email_to": msg_dict.get("email_from"),
                "email_from": self.alias_id.alias_full_name
                or self.company_id.email_formatted,
                "references": msg_dict.get("message_id"),
                "model": self._name,
                "res_id": self.id,
                "auto_delete": True,
            }
        )
        self._message_log(body=Markup("<p>%s</p>") % subject + body)
