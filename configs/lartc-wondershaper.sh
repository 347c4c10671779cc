#!/bin/bash
# The LARTC "ultimate traffic conditioner" idea (§15.8) in the shape of the seeds' scripts:
# variables, legacy bash arithmetic $[...], a command held in a variable, a del that may fail.
# Uplink 220 kbit shaped at 90 % so the modem's queue stays empty; interactive and ACKs first.
# Expect: TOS 0x10, icmp and small TCP ACKs -> 1:10; everything else -> default 1:20, and the
# total stays at $[9*220/10] = 198 kbit. The `ip link` line is not run (only tc is recorded).
DEV=tq0
UPLINK=220
tc qdisc del dev $DEV root 2> /dev/null > /dev/null
ip link set dev $DEV qlen 30
tc qdisc add dev $DEV root handle 1: htb default 20
tc class add dev $DEV parent 1: classid 1:1 htb rate $[9*$UPLINK/10]kbit burst 6k
tc class add dev $DEV parent 1:1 classid 1:10 htb rate $[9*$UPLINK/10]kbit burst 6k prio 1
tc class add dev $DEV parent 1:1 classid 1:20 htb rate $[8*$UPLINK/10]kbit burst 6k prio 2
tc qdisc add dev $DEV parent 1:10 handle 10: sfq perturb 10
tc qdisc add dev $DEV parent 1:20 handle 20: sfq perturb 10
U32="tc filter add dev $DEV parent 1:0 protocol ip prio 10 u32"
$U32 match ip tos 0x10 0xff flowid 1:10
$U32 match ip protocol 1 0xff flowid 1:10
$U32 match ip protocol 6 0xff match u8 0x05 0x0f at 0 match u16 0x0000 0xffc0 at 2 \
     match u8 0x10 0xff at 33 flowid 1:10
