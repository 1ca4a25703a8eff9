// The sync panel, for those who look after the force's devices: how each device stands with
// sync (when it last sent and fetched its officer's work, what is waiting on it), and the
// operations the server refused from them, with why. None of what the officers wrote is shown.

import { sync } from "./api.js";
import { h, replace, table } from "./dom.js";
import * as fmt from "./format.js";

const $ = (id) => document.getElementById(id);

/** Whether the signed-in user looks after devices (and so sees the panel). */
export function looksAfterDevices(permissions) {
  return (permissions || []).includes("identity:device:read");
}

function stateOf(device) {
  if (device.revoked_at) return `Revoked ${fmt.moment(device.revoked_at)}`;
  if (device.rejected) return `${fmt.count(device.rejected, "operation", "operations")} refused`;
  if (!device.last_push_at && !device.last_pull_at) return "Never synced";
  return "In order";
}

function deviceRows(devices) {
  return devices.map((d) => [
    d.name,
    d.last_user,
    fmt.moment(d.last_push_at) || "Never",
    fmt.moment(d.last_pull_at) || "Never",
    d.behind === null ? "Not yet fetched" : fmt.count(d.behind, "change", "changes"),
    d.outbox === null ? "Not reported" : String(d.outbox),
    String(d.operations),
    stateOf(d),
  ]);
}

function refusedRows(refused, names) {
  return refused.map((r) => [
    `${r.action} ${r.kind}`,
    names.get(r.device_id) || "Unknown device",
    fmt.moment(r.received_at),
    `${r.title} (${r.code})`,
  ]);
}

/** Fetch and show the panel. */
export async function showDevices() {
  const [devices, refused] = await Promise.all([sync.devices(), sync.rejected()]);
  const names = new Map(devices.map((d) => [d.id, d.name]));
  replace(
    $("devices-list"),
    devices.length
      ? table({
          caption: `${fmt.count(devices.length, "device", "devices")} of your force`,
          head: ["Device", "Last user", "Last sent", "Last fetched", "Behind", "Waiting", "Sent", "State"],
          rows: deviceRows(devices),
          cards: true,
        })
      : h("p", {}, "No device of your force has been registered yet."),
  );
  replace(
    $("refused-list"),
    refused.length
      ? table({
          caption: "Refused operations, newest first",
          head: ["Operation", "Device", "Received", "Why"],
          rows: refusedRows(refused, names),
          cards: true,
        })
      : h("p", {}, "No operation has been refused."),
  );
}

/** Show the panel to those who look after devices, and wire its refresh button. */
export function initDevices(permissions, fail) {
  const panel = $("devices");
  panel.hidden = !looksAfterDevices(permissions);
  if (panel.hidden) return;
  $("devices-refresh").onclick = () => showDevices().catch(fail);
  showDevices().catch(fail);
}

/** Forget the panel (at sign-out: the next user sees only what they may). */
export function resetDevices() {
  $("devices").hidden = true;
  replace($("devices-list"));
  replace($("refused-list"));
}
