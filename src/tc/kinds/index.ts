/**
 * Registers every qdisc kind tunqos supports. Importing this module fills the registry in kinds.ts;
 * each discipline adds one import line here.
 */
import './fifo';
import './pfifo_fast';
import './prio';
import './tbf';
import './sfq';
import './red';
import './ingress';
import './htb';
import './cbq';
