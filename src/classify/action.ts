/**
 * Filter actions and their verdicts, as Linux numbers them (include/uapi/linux/pkt_cls.h):
 * TC_ACT_UNSPEC (-1, "continue": this filter did not decide, try the next one), OK (0, also `pass`),
 * RECLASSIFY (1, restart classification), SHOT (2, `drop`), PIPE (3, run the next action; a final
 * pipe behaves as ok). A filter's actions run in order while they say PIPE (tcf_action_exec).
 *
 * Two kinds exist in tunqos: `gact` (a fixed verdict: `action drop`, `action pass`...) and `police`
 * (src/classify/police.ts). Actions are objects made at configuration time; running them allocates
 * nothing. Reference: net/sched/act_api.c, act_gact.c.
 */
import type { Nanos } from '../time/clock';
import type { Police } from './police';

export const TC_ACT_UNSPEC = -1;
export const TC_ACT_OK = 0;
export const TC_ACT_RECLASSIFY = 1;
export const TC_ACT_SHOT = 2;
export const TC_ACT_PIPE = 3;

/** control words as tc spells them → verdict */
export const ACTION_WORDS: Record<string, number> = {
  continue: TC_ACT_UNSPEC,
  ok: TC_ACT_OK,
  pass: TC_ACT_OK,
  reclassify: TC_ACT_RECLASSIFY,
  drop: TC_ACT_SHOT,
  shot: TC_ACT_SHOT,
  pipe: TC_ACT_PIPE,
};

/** how tc prints a verdict (print_action_control) */
export function actionName(v: number): string {
  switch (v) {
    case TC_ACT_UNSPEC:
      return 'continue';
    case TC_ACT_OK:
      return 'pass';
    case TC_ACT_RECLASSIFY:
      return 'reclassify';
    case TC_ACT_SHOT:
      return 'drop';
    case TC_ACT_PIPE:
      return 'pipe';
    default:
      return `0x${(v >>> 0).toString(16)}`;
  }
}

export const ACT_GACT = 0;
export const ACT_POLICE = 1;

export class FilterAction {
  readonly kind: number;
  /** gact: the verdict */
  readonly verdict: number;
  readonly police: Police | null;
  /** packets the action saw (gact; police keeps its own counters) */
  packets = 0;
  bytes = 0;
  constructor(kind: number, verdict: number, police: Police | null) {
    this.kind = kind;
    this.verdict = verdict;
    this.police = police;
  }
  run(len: number, now: Nanos): number {
    if (this.police !== null) return this.police.act(len, now);
    this.packets++;
    this.bytes += len;
    return this.verdict;
  }
  clone(): FilterAction {
    const a = new FilterAction(this.kind, this.verdict, this.police ? this.police.clone() : null);
    a.packets = this.packets;
    a.bytes = this.bytes;
    return a;
  }
}

/** tcf_action_exec: run actions while they answer PIPE; the last verdict is the result. */
export function runActions(actions: readonly FilterAction[], start: number, end: number, len: number, now: Nanos): number {
  let r = TC_ACT_OK;
  for (let i = start; i < end; i++) {
    r = actions[i].run(len, now);
    if (r !== TC_ACT_PIPE) return r;
  }
  return r;
}
