#!/bin/bash
# S-21 / S-22 (LARTC §12.4): 1024 cable-modem clients 1.2.0.0 - 1.2.3.255, each in a class
# "poor" (1:1), "medium" (1:2) or "stuffed" (1:3), with u32 HASHING instead of 1024 linear rules:
# a 256-bucket table 2: keyed on the last octet of the source address, so a packet is compared with
# at most 4 rules (one per /24) instead of 1024.
# The class of a client depends on its /24 here: 1.2.0.x poor, 1.2.1.x medium, 1.2.2.x stuffed,
# 1.2.3.x medium. Expect: src 1.2.0.123 -> 1:1, 1.2.1.123 -> 1:2, 1.2.2.7 -> 1:3, 1.2.3.255 -> 1:2;
# anything outside 1.2.0.0/16 -> default 1:4.
# Run with: tunqos check --script configs/s21-22-hashing.sh (bash runs the loops; tc is recorded)
DEV=tq0
tc qdisc add dev $DEV root handle 1: htb default 4
tc class add dev $DEV parent 1: classid 1:10 htb rate 100mbit
tc class add dev $DEV parent 1:10 classid 1:1 htb rate 1mbit ceil 2mbit
tc class add dev $DEV parent 1:10 classid 1:2 htb rate 5mbit ceil 10mbit
tc class add dev $DEV parent 1:10 classid 1:3 htb rate 20mbit ceil 50mbit
tc class add dev $DEV parent 1:10 classid 1:4 htb rate 1mbit ceil 100mbit

tc filter add dev $DEV parent 1:0 prio 5 protocol ip u32
tc filter add dev $DEV parent 1:0 prio 5 handle 2: protocol ip u32 divisor 256
CLASS_OF_NET=(1 2 3 2)
for net in 0 1 2 3; do
  for host in $(seq 0 255); do
    bucket=$(printf '%x' $host)
    tc filter add dev $DEV protocol ip parent 1:0 prio 5 u32 ht 2:$bucket: \
      match ip src 1.2.$net.$host flowid 1:${CLASS_OF_NET[$net]}
  done
done
tc filter add dev $DEV protocol ip parent 1:0 prio 5 u32 ht 800:: \
  match ip src 1.2.0.0/16 hashkey mask 0x000000ff at 12 link 2:
