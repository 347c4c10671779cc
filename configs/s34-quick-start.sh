#!/bin/bash
# S-34 ([T] QoS quick-start template), adapted to tq0: HTB 1 gbit, four DSCP classes with SFQ.
# Expect: EF (tos 0xb8, ECN bits ignored) -> 1:10 (200/400 mbit, prio 1); AF41 (0x88) -> 1:20
# (300/600, prio 2); AF21 (0x48) -> 1:30 (300/500, prio 3); everything else (BE, AF11, CS3, ...) ->
# default 1:99 (200/300, prio 4). `default 99` is hex 0x99, the same as classid 1:99.

INTERFACE="tq0"
TOTAL_BW="1gbit"

# Setup HTB
tc qdisc add dev $INTERFACE root handle 1: htb default 99
tc class add dev $INTERFACE parent 1: classid 1:1 htb rate $TOTAL_BW

# Critical (20%)
tc class add dev $INTERFACE parent 1:1 classid 1:10 htb rate 200mbit ceil 400mbit prio 1
tc qdisc add dev $INTERFACE parent 1:10 handle 10: sfq

# High (30%)
tc class add dev $INTERFACE parent 1:1 classid 1:20 htb rate 300mbit ceil 600mbit prio 2
tc qdisc add dev $INTERFACE parent 1:20 handle 20: sfq

# Normal (30%)
tc class add dev $INTERFACE parent 1:1 classid 1:30 htb rate 300mbit ceil 500mbit prio 3
tc qdisc add dev $INTERFACE parent 1:30 handle 30: sfq

# Default/Low (20%)
tc class add dev $INTERFACE parent 1:1 classid 1:99 htb rate 200mbit ceil 300mbit prio 4
tc qdisc add dev $INTERFACE parent 1:99 handle 99: sfq

# Filters basés sur DSCP
tc filter add dev $INTERFACE protocol ip parent 1:0 prio 1 u32 match ip tos 0xb8 0xfc flowid 1:10  # EF
tc filter add dev $INTERFACE protocol ip parent 1:0 prio 2 u32 match ip tos 0x88 0xfc flowid 1:20  # AF41
tc filter add dev $INTERFACE protocol ip parent 1:0 prio 3 u32 match ip tos 0x48 0xfc flowid 1:30  # AF21

echo "QoS basique configurée"
