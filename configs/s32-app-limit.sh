#!/bin/bash
# S-32 ([T] "limit an application's bandwidth to 10 Mbps"), adapted to tq0.
# HTB with one class 1:1 (rate = ceil = 10 mbit) for traffic TO the application's address.
# Expect: packets to 192.168.1.100 -> 1:1, never above 10 mbit. The script says `default 10`, but
# no class 1:10 exists: unclassified traffic goes to HTB's direct queue, UNSHAPED; `tunqos check`
# warns about it (DESIGN.md D2). The echo at the end is harmless.

INTERFACE="tq0"
APP_IP="192.168.1.100"
MAX_RATE="10mbit"

# Créer une qdisc HTB (Hierarchical Token Bucket)
tc qdisc add dev $INTERFACE root handle 1: htb default 10

# Classe pour le trafic shapé
tc class add dev $INTERFACE parent 1: classid 1:1 htb rate $MAX_RATE ceil $MAX_RATE

# Filtrer le trafic de l'app
tc filter add dev $INTERFACE protocol ip parent 1:0 prio 1 \
    u32 match ip dst $APP_IP flowid 1:1

echo "Traffic shaping appliqué : $APP_IP limité à $MAX_RATE"
