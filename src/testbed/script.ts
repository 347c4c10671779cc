/**
 * tc script templates: the demo, the shaping tests and bench/shaping.ts write one script and run it on
 * either shaper, the kernel's (src/testbed/kernel-shaper.ts) or tunqos (src/testbed/shaper-process.ts).
 *
 * Scripts are written with placeholders for device names, replaced before use:
 *   $DEV   the device whose egress shapes client → server ("upload"): `gs` for the kernel, `tqup`
 *          for tunqos.
 * A script may also be written for a fixed device (configs/demo.tc names its own device):
 * `renameDevice` rewrites every `dev NAME` in it.
 */
import { lexTc } from '../tc/lexer';
import { IFACES } from './topology';

/** Replaces `$DEV` (and any other `$NAME` given) in a script template. */
export function renderScript(template: string, vars: Record<string, string>): string {
  return template.replace(/\$([A-Z][A-Z0-9_]*)/g, (whole, name: string) => vars[name] ?? whole);
}

/** Rewrites `dev FROM` into `dev TO` everywhere in a tc script (word boundaries respected). */
export function renameDevice(text: string, from: string, to: string): string {
  const esc = from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`(\\bdev\\s+)${esc}(?![\\w.-])`, 'g'), `$1${to}`);
}

/** The device names every `dev X` in a script names, in order (used to adapt a fixed-device config). */
export function devicesOf(text: string): string[] {
  const names = new Set<string>();
  for (const { tokens } of lexTc(text, '<script>')) {
    for (let i = 0; i + 1 < tokens.length; i++) if (tokens[i].text === 'dev') names.add(tokens[i + 1].text);
  }
  return [...names];
}

/** Device names a script template resolves to, per shaper. */
export const KERNEL_DEVICES = { DEV: IFACES.gatewayServerSide } as const;
export const TUNQOS_DEVICES = { DEV: IFACES.tunUp } as const;
