#!/usr/bin/env python3
"""How a broker stored some topics: record batches, records, transaction
markers and bytes, read from the .log segments of the local broker's data
directory (scripts/kafka-local). The partitions of topics whose names
share a prefix up to --group-at are summed in one line: label topics
("...-label.zaporizhzhia-0", "...-label.territory-2") count as one.

    scripts/log-batches.py [--data DIR] [--group-at TEXT] -- SUBSTRING...

Lists every partition directory whose name holds one of the SUBSTRINGs.
DIR defaults to $NT_KAFKA_DIR/data/kraft-combined-logs (or build/kafka's).
Reads the v2 batch headers only (magic 2, Kafka 0.11 and later).
"""
import argparse
import collections
import os
import struct
import sys

HEADER = 61  # baseOffset .. recordsCount of a v2 record batch


def group_name(partition_dir, group_at):
    topic = partition_dir.rsplit("-", 1)[0]
    if group_at and group_at in topic:
        return topic.split(group_at)[0] + group_at + "*"
    return topic


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    kafka_dir = os.environ.get("NT_KAFKA_DIR") or os.path.join(root, "build", "kafka")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(kafka_dir, "data", "kraft-combined-logs"))
    ap.add_argument("--group-at", default="-label.",
                    help="topics are summed up to this text (default -label.)")
    ap.add_argument("substrings", nargs="+")
    args = ap.parse_args()
    # group -> [partitions, batches, records, markers, bytes]
    stats = collections.defaultdict(lambda: [set(), 0, 0, 0, 0])
    for d in sorted(os.listdir(args.data)):
        if not any(s in d for s in args.substrings):
            continue
        s = stats[group_name(d, args.group_at)]
        s[0].add(d)
        for f in sorted(os.listdir(os.path.join(args.data, d))):
            if not f.endswith(".log"):
                continue
            with open(os.path.join(args.data, d, f), "rb") as fh:
                b = fh.read()
            pos = 0
            while pos + HEADER <= len(b):
                length = struct.unpack(">i", b[pos + 8:pos + 12])[0]
                magic = b[pos + 16]
                if magic != 2 or length <= 0:
                    print(f"log-batches: {d}/{f} at {pos}: not a v2 batch",
                          file=sys.stderr)
                    return 1
                attrs = struct.unpack(">h", b[pos + 21:pos + 23])[0]
                if attrs & 0x20:  # control batch: a transaction marker
                    s[3] += 1
                else:
                    s[1] += 1
                    s[2] += struct.unpack(">i", b[pos + 57:pos + 61])[0]
                    s[4] += 12 + length
                pos += 12 + length
    for name, (parts, batches, records, markers, size) in sorted(stats.items()):
        per = records / batches if batches else 0.0
        print(f"{name}: partitions {len(parts)} batches {batches} records {records} "
              f"records/batch {per:.1f} markers {markers} bytes {size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
