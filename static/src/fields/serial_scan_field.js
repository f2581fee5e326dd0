/** @odoo-module **/
/*
 * A text field with a camera button, for the serials and barcodes typed or
 * scanned on a job: a hardware scanner types into the input as a keyboard
 * does; on a phone or a tablet the camera button reads the code instead.
 */
import * as BarcodeScanner from "@web/core/barcode/barcode_dialog";
import { isBarcodeScannerSupported } from "@web/core/barcode/barcode_video_scanner";
import { browser } from "@web/core/browser/browser";
import { isMobileOS } from "@web/core/browser/feature_detection";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { CharField, charField } from "@web/views/fields/char/char_field";

export class SerialScanField extends CharField {
    static template = "serial_service.SerialScanField";

    setup() {
        super.setup();
        this.notification = useService("notification");
    }

    get canScan() {
        return (
            !this.props.readonly &&
            isBarcodeScannerSupported() &&
            (this.env.isSmall || isMobileOS())
        );
    }

    async onScanClick() {
        let barcode = null;
        let error = null;
        try {
            // through the module, so that tests can stand in for the camera
            barcode = await BarcodeScanner.scanBarcode(this.env);
        } catch (err) {
            error = err.message;
        }
        if (!barcode) {
            this.notification.add(error || _t("Nothing was read: scan again."), {
                type: "warning",
            });
            return;
        }
        await this.props.record.update({ [this.props.name]: barcode });
        if ("vibrate" in browser.navigator) {
            browser.navigator.vibrate(100);
        }
    }
}

export const serialScanField = {
    ...charField,
    component: SerialScanField,
    displayName: _t("Text or camera scan"),
};

registry.category("fields").add("serial_service_scan", serialScanField);
